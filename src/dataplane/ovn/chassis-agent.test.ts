import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentPlan, wantedPorts } from './chassis-agent.js';
import { map, set } from './ovsdb.js';
import { tapOf } from './plug.js';
import { checkJoin, joinScript, type JoinOptions } from './join.js';
import { hostLinkScript } from './fabric.js';

const binding = (port: string, chassis: string, ids: Record<string, string>, mac = '0a:58:00:00:00:05 10.0.1.5') => ({
  logical_port: port,
  mac: set([mac]),
  options: map({ 'requested-chassis': chassis }),
  external_ids: map(ids),
});
const labels = { 'nimbus-owner': 'nimbus', 'nimbus-cidr': '10.0.1.5/24', 'nimbus-gateway': '10.0.1.1', 'nimbus-name': 'web' };

test("the agent plugs Nimbus's ports asked for on its chassis, and nothing whose values a shell would read", () => {
  const rows = [
    binding('ecs-0a1b2c3d4e5f6071', 'h2', labels),
    binding('ecs-1111111111111111', 'h3', labels),
    binding('ecs-2222222222222222', 'h2', { ...labels, 'nimbus-owner': '' }),
    binding('ecs-3333333333333333', 'h2', { ...labels, 'nimbus-cidr': '10.0.1.5/24; reboot' }),
    binding('ecs-4444444444444444', 'h2', labels, '$(reboot) 10.0.1.5'),
    binding('ecs-5555 x', 'h2', labels),
  ];
  const wanted = wantedPorts(rows, 'h2', 'jx');
  assert.deepEqual(wanted, [
    {
      id: 'ecs-0a1b2c3d4e5f6071',
      name: 'web',
      ns: 'jx-ecs-0a1b2c3d',
      tap: tapOf('ecs-0a1b2c3d4e5f6071'),
      mac: '0a:58:00:00:00:05',
      cidr: '10.0.1.5/24',
      gateway: '10.0.1.1',
    },
  ]);
});

test('a pass plugs what is missing or half made, and removes what no port asks for', () => {
  const [w] = wantedPorts([binding('ecs-0a1b2c3d4e5f6071', 'h2', labels)], 'h2', 'jx');
  const whole = { namespaces: [w.ns], ports: new Map([[w.tap, w.id]]) };
  assert.deepEqual(agentPlan([w], whole, 'jx'), { plug: [], removeNs: [], unplug: [] });
  // The namespace without its port, or the port naming another: made again whole.
  assert.deepEqual(agentPlan([w], { namespaces: [w.ns], ports: new Map() }, 'jx').plug, [w]);
  assert.deepEqual(agentPlan([w], { namespaces: [], ports: new Map([[w.tap, w.id]]) }, 'jx').plug, [w]);
  // Gone from the southbound: its namespace and port go; others' namespaces and ports stay.
  const stale = {
    namespaces: [w.ns, 'other-ecs-0a1b2c3d', 'jx-vpc-12345678'],
    ports: new Map([
      [w.tap, w.id],
      ['br-ul', ''],
      ['eth0', 'x'],
    ]),
  };
  assert.deepEqual(agentPlan([], stale, 'jx'), { plug: [], removeNs: [w.ns], unplug: [w.tap] });
});

const JOIN: JoinOptions = {
  name: 'host2',
  central: 'tcp:198.18.0.1:6642',
  encapIp: '10.0.0.6',
  via: null,
  runDir: null,
  netdev: null,
  agent: { node: '/usr/bin/node', cli: '/usr/lib/nimbus/bin/nimbus.js', prefix: 'nimbus' },
};

test("the join script sets OVN's settings and starts the packages' services and the agent's unit", () => {
  const s = joinScript(JOIN);
  assert.match(
    s,
    /^ovs-vsctl --timeout=10 set open \. external_ids:system-id=host2 external_ids:ovn-remote=tcp:198\.18\.0\.1:6642 external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip=10\.0\.0\.6 external_ids:ovn-bridge=br-int$/m,
  );
  assert.match(s, /^systemctl enable ovn-controller && systemctl restart ovn-controller$/m);
  assert.match(
    s,
    /^ExecStart=\/usr\/bin\/node \/usr\/lib\/nimbus\/bin\/nimbus\.js chassis agent --name host2 --central tcp:198\.18\.0\.1:6642 --prefix nimbus$/m,
  );
  assert.doesNotMatch(s, /datapath_type=netdev|--run-dir|--detach|ip route/);
  assert.match(joinScript({ ...JOIN, via: '10.0.0.5' }), /^ip route replace 198\.18\.0\.0\/16 via 10\.0\.0\.5$/m);
  const folder = joinScript({ ...JOIN, runDir: '/run/h2', netdev: { uplink: 'eth1', prefixLength: 24 } });
  assert.match(folder, /ovn-controller unix:\/run\/h2\/db\.sock .*--detach/);
  assert.match(folder, /add-port br-ul eth1/);
  assert.match(folder, /^ip addr replace 10\.0\.0\.6\/24 dev br-ul$/m);
  assert.doesNotMatch(folder, /systemctl/);
});

test('join refuses what it would put into shell text, naming the value', () => {
  const refusals: [Partial<JoinOptions>, RegExp][] = [
    [{ name: 'Host 2' }, /chassis 'Host 2'/],
    [{ central: 'tcp:198.18.0.1:6642;reboot' }, /central: 'tcp:198\.18\.0\.1:6642;reboot'/],
    [{ central: 'ssl:198.18.0.1:6642' }, /central: 'ssl:/],
    [{ encapIp: '10.0.0.256' }, /encap-ip: '10\.0\.0\.256'/],
    [{ via: '10.0.0.5 && reboot' }, /via: '10\.0\.0\.5 && reboot'/],
    [{ runDir: 'run/h2' }, /run-dir: 'run\/h2'/],
    [{ netdev: { uplink: 'eth0;x', prefixLength: 24 } }, /uplink: 'eth0;x'/],
    [{ agent: { ...JOIN.agent, cli: '/a b' } }, /agent cli: '\/a b'/],
  ];
  for (const [bad, message] of refusals)
    assert.throws(
      () => checkJoin({ ...JOIN, ...bad }),
      (e: Error & { code?: string }) => e.code === 'InvalidParameterValue' && message.test(e.message),
      JSON.stringify(bad),
    );
});

test("the host's link into the underlay: made with forwarding limited to Geneve and the southbound, or removed with forwarding set back", () => {
  const on = hostLinkScript('tx1', true);
  assert.match(
    on,
    /^\[ -f \/run\/nimbus\/ovn\/tx1\/ip_forward\.before \] \|\| cat \/proc\/sys\/net\/ipv4\/ip_forward > \/run\/nimbus\/ovn\/tx1\/ip_forward\.before$/m,
  );
  assert.match(on, /^ip addr replace 198\.18\.255\.254\/16 dev tx1-ulh; ip link set tx1-ulh up$/m);
  // Into the underlay: Geneve, the southbound and replies; anything else dropped.
  const rules = on.split('\n').filter((l) => l.includes('oifname "tx1-ulh"'));
  assert.deepEqual(
    rules.map((l) => l.trim()),
    [
      'oifname "tx1-ulh" udp dport 6081 accept',
      'oifname "tx1-ulh" tcp dport 6642 accept',
      'oifname "tx1-ulh" ct state established,related accept',
      'oifname "tx1-ulh" drop',
    ],
  );
  // Refused when another installation's link holds the address.
  assert.match(on, /one installation per machine lets hosts join/);
  const off = hostLinkScript('tx1', false);
  assert.match(off, /^ip link del tx1-ulh/m);
  assert.match(off, /^nft delete table inet nimbus_ul_tx1/m);
  assert.match(off, /sysctl -qw net\.ipv4\.ip_forward="\$\(cat \/run\/nimbus\/ovn\/tx1\/ip_forward\.before\)"/);
  assert.doesNotMatch(off, /ip_forward=1/);
});
