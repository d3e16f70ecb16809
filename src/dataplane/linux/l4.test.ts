import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L4 from './l4.js';
import { loadBalancerRuleset } from './nft.js';

const count = (slots: string[], key: string) => slots.filter((s) => s === key).length;

test('round robin slots interleave members, in proportion to their weights', () => {
  const even = L4.interleavedSlots([
    { key: 'a', weight: 1 },
    { key: 'b', weight: 1 },
  ]);
  assert.equal(even.length, L4.SLOTS);
  for (let i = 1; i < even.length; i++) assert.notEqual(even[i], even[i - 1], 'numgen inc alternates');
  const weighted = L4.interleavedSlots([
    { key: 'a', weight: 3 },
    { key: 'b', weight: 1 },
  ]);
  assert.equal(count(weighted, 'a'), 192);
  assert.deepEqual(weighted.slice(0, 4).sort(), ['a', 'a', 'a', 'b'], 'every window of 4 holds the 3:1');
  assert.deepEqual(
    L4.interleavedSlots([
      { key: 'a', weight: 0 },
      { key: 'b', weight: 2 },
    ]),
    Array(L4.SLOTS).fill('b'),
    'weight 0 holds no slot',
  );
  assert.deepEqual(L4.interleavedSlots([{ key: 'a', weight: 0 }]), []);
});

test('source-ip slots: proportional, and a member leaving moves only its own slots', () => {
  const three = [
    { key: 'a', weight: 1 },
    { key: 'b', weight: 1 },
    { key: 'c', weight: 2 },
  ];
  const before = L4.stableSlots(three);
  assert.ok(Math.abs(count(before, 'c') - 128) < 30, `c holds about half: ${count(before, 'c')}`);
  const after = L4.stableSlots(three.filter((m) => m.key !== 'b'));
  for (let i = 0; i < before.length; i++) if (before[i] !== 'b') assert.equal(after[i], before[i], `slot ${i} kept its member`);
  assert.equal(count(after, 'b'), 0);
});

const ns: L4.L4Namespace = {
  lbId: 'lb-11111111',
  vip: '10.0.0.5',
  linkAddress: '169.254.130.2',
  listeners: [
    {
      id: 'lsn-22222222',
      port: 80,
      algorithm: 'ROUND_ROBIN',
      members: [
        { id: 'mbr-aaaaaaaa', ip: '10.0.0.10', port: 8080, weight: 1, eligible: true },
        { id: 'mbr-bbbbbbbb', ip: '10.0.0.11', port: 8080, weight: 1, eligible: false },
      ],
    },
  ],
};

test('the namespace script: slots of eligible members only, counters for every member, stale objects deleted', () => {
  const s = L4.namespaceScript(ns, { maps: ['s_22222222', 's_99999999'], counters: ['n_99999999_aaaaaaaa'], chains: ['m_99999999_aaaaaaaa'] });
  const slots = s.split('\n').find((l) => l.startsWith('add element ip nimbus_l4 s_22222222'));
  assert.match(slots ?? '', /\{ 0 : 10\.0\.0\.10 \. 8080, 1 : 10\.0\.0\.10 \. 8080/);
  assert.doesNotMatch(slots ?? '', /10\.0\.0\.11/, 'a member failing its check holds no slot');
  assert.match(
    s,
    /add rule ip nimbus_l4 count meta l4proto tcp ct original proto-dst \. ct reply ip saddr \. ct reply proto-src vmap \{ 80 \. 10\.0\.0\.10 \. 8080 : jump m_22222222_aaaaaaaa, 80 \. 10\.0\.0\.11 \. 8080 : jump m_22222222_bbbbbbbb \}/,
    'one lookup finds the member chain of a flow',
  );
  assert.match(s, /add rule ip nimbus_l4 m_22222222_aaaaaaaa ct direction original counter name o_22222222_aaaaaaaa return/);
  assert.ok(
    s.indexOf('delete chain ip nimbus_l4 m_99999999_aaaaaaaa') < s.indexOf('delete counter ip nimbus_l4 n_99999999_aaaaaaaa'),
    'the chain goes before its counters',
  );
  assert.ok(s.indexOf('flush chain ip nimbus_l4 count') < s.indexOf('delete chain'), 'nothing jumps to it any more when it goes');
  assert.match(s, /ip daddr \{ 10\.0\.0\.5, 169\.254\.130\.2 \} tcp dport 80 dnat ip to numgen inc mod 256 map @s_22222222/);
  assert.match(s, /counter name r_22222222_bbbbbbbb/, 'its flows are still counted');
  assert.match(s, /snat ip to 10\.0\.0\.5/);
  assert.match(s, /delete map ip nimbus_l4 s_99999999/);
  assert.match(s, /delete counter ip nimbus_l4 n_99999999_aaaaaaaa/);
  assert.doesNotMatch(s, /delete map ip nimbus_l4 s_22222222/);
  const none = L4.namespaceScript({ ...ns, listeners: [{ ...ns.listeners[0], members: [] }] }, { maps: [], counters: [] });
  assert.doesNotMatch(none, /dnat ip to/, 'no member: no dnat, so the connection is refused');
  const sticky = L4.namespaceScript({ ...ns, listeners: [{ ...ns.listeners[0], algorithm: 'SOURCE_IP' }] }, { maps: [], counters: [] });
  assert.match(sticky, /dnat ip to jhash ip saddr mod 256 seed 0x[0-9a-f]{8} map @s_22222222/);
});

test('objects and counters are read from nft -j', () => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: {} },
      { table: { name: 'nimbus_l4' } },
      { counter: { name: 'n_x_y', packets: 3, bytes: 180 } },
      { map: { name: 's_x' } },
      { chain: { name: 'count' } },
      { chain: { name: 'm_x_y' } },
    ],
  });
  assert.deepEqual(L4.parseObjects(json), { maps: ['s_x'], counters: ['n_x_y'], chains: ['m_x_y'] });
  assert.deepEqual([...L4.parseCounters(json)], [['n_x_y', { packets: 3, bytes: 180 }]]);
});

test('public links: names fit the kernel, blocks avoid taken addresses and the metadata address', () => {
  for (const prefix of ['ab', 'nimbus', 't1a2b3c4'.slice(0, 8)]) {
    const name = L4.hostLinkName(prefix, 'lb-0123abcd-4567');
    assert.ok(name.length <= 15 && name.startsWith(`${prefix}l`), name);
  }
  const first = L4.linkBlock('ab', 'lb-1', new Set());
  assert.match(first.hostAddress, /^169\.254\.(1[2-8]\d|19[01])\.\d+$/);
  assert.notEqual(first.hostAddress.split('.')[2], '169');
  const second = L4.linkBlock('ab', 'lb-1', new Set([first.hostAddress]));
  assert.notEqual(second.hostAddress, first.hostAddress);
  const host = L4.hostScript('ab', [{ publicIp: '127.0.1.9', port: 80, link: { lbId: 'lb-1', hostLink: 'abl1', ...first } }]);
  assert.match(host, new RegExp(`127\\.0\\.1\\.9 \\. 80 : ${first.nsAddress.replace(/\./g, '\\.')} \\. 80`));
  const ns = first.nsAddress.replace(/\./g, '\\.');
  assert.match(host, new RegExp(`add element ip nimbus_l4_ab masq \\{ ${ns} \\. 80 \\}`));
  // The rules are the same with no entry at all: connection tracking stays on in the host's
  // namespace, so a connection kept alive from before the first entry keeps its socket.
  const rules = (text: string) => text.split('\n').filter((l) => l.startsWith('add rule'));
  const empty = L4.hostScript('ab', []);
  assert.deepEqual(rules(empty), [
    'add rule ip nimbus_l4_ab out dnat ip to ip daddr . tcp dport map @ports',
    'add rule ip nimbus_l4_ab post ct status dnat ip daddr . tcp dport @masq masquerade',
  ]);
  assert.deepEqual(rules(host), rules(empty));
  assert.ok(!empty.includes('delete') && !empty.includes('add element'), empty);
  assert.match(empty, /flush chain ip nimbus_l4_ab out\nflush chain ip nimbus_l4_ab post\nflush map ip nimbus_l4_ab ports\nflush set ip nimbus_l4_ab masq\n/);
});

test('the chains that once sent layer-7 public connections over the public link are deleted from a namespace an older Nimbus made', () => {
  const text = L4.namespaceScript(ns, { maps: [], counters: [] });
  for (const chain of ['front_in', 'front_out'])
    assert.ok(
      text.includes(`add chain ip nimbus_l4 ${chain}\ndelete chain ip nimbus_l4 ${chain}\n`),
      `${chain}: added (so that the delete cannot fail) and deleted in the same transaction`,
    );
  assert.ok(!text.includes('socket') && !text.includes('ct mark'), text);
});

test("a load balancer's forward chain admits dnat'ed flows by the port the client called, and the member by egress rules", () => {
  const text = loadBalancerRuleset(
    [
      { id: 'r1', direction: 'ingress', protocol: 'tcp', portRange: { from: 80, to: 80 }, remote: { cidr: '10.0.0.0/16' } },
      { id: 'r2', direction: 'egress', protocol: 'all', remote: { cidr: '0.0.0.0/0' } },
    ] as never,
    () => [],
    'pub0',
  );
  assert.match(
    text,
    /policy drop;\n\s+ct state established,related accept\n\s+ct status dnat iifname "pub0" jump l4_egress\n\s+ct status dnat jump l4_ingress/,
  );
  assert.match(text, /ip saddr 10\.0\.0\.0\/16 meta l4proto tcp ct original proto-dst 80 jump l4_egress/);
  assert.match(text, /chain l4_egress \{\n\s+meta nfproto ipv4 accept/);
  assert.match(text, /tcp dport 80 accept/, 'the input chain still matches the port itself');
  // Nothing from the public link is let in to the namespace itself (layer-7 public sockets are on the host).
  assert.doesNotMatch(text, /chain input \{[^}]*iifname "pub0"/);
});
