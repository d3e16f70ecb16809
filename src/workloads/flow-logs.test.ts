/**
 * The flow-log collector's pure parts: reading the kernel's flow sets, a record's line both
 * ways, and whose interface a sample is (an endpoint's own sets, or a router's ACL rule).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlowSets, tableHandle } from '../dataplane/linux/flows.js';
import { attribute, covers, parseRecord, recordLine } from './flow-logs.js';
import { aclRuleset, serverRuleset } from '../dataplane/linux/nft.js';
import { bridgeName } from '../dataplane/linux/names.js';
import type { FlowLog, StoredAcl, Subnet } from '../core/model/index.js';

const NFT = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6' } },
    { table: { family: 'inet', name: 'nimbus', handle: 42 } },
    {
      set: {
        name: 'fl_in',
        elem: [{ elem: { val: { concat: ['10.0.1.5', '10.0.2.7', 'tcp', 40000, 80] }, counter: { packets: 6, bytes: 397 } } }],
      },
    },
    { set: { name: 'rj_in_x', elem: [{ elem: { val: { concat: ['10.0.1.5', '10.0.2.7', 'icmp'] }, counter: { packets: 3, bytes: 252 } } }] } },
    { set: { name: 'other', elem: [{ elem: { val: { concat: ['1.1.1.1', '2.2.2.2', 'tcp', 1, 2] }, counter: { packets: 1, bytes: 1 } } }] } },
  ],
});

test('the flow sets are read with their counters; other sets are not; the table handle tells a table made anew', () => {
  assert.deepEqual(parseFlowSets(NFT), [
    { set: 'fl_in', src: '10.0.1.5', dst: '10.0.2.7', proto: 6, sport: 40000, dport: 80, packets: 6, bytes: 397 },
    { set: 'rj_in', src: '10.0.1.5', dst: '10.0.2.7', proto: 1, sport: 0, dport: 0, packets: 3, bytes: 252 },
  ]);
  assert.equal(tableHandle(NFT), '42');
  assert.deepEqual(parseFlowSets('not json'), []);
});

test('a record is AWS default format version 2 plus the field naming what rejected, and reads back', () => {
  const r = {
    accountId: '123456789012',
    interfaceId: 'eni-0123456789abcdef',
    srcaddr: '10.0.1.5',
    dstaddr: '10.0.2.7',
    srcport: 40000,
    dstport: 80,
    protocol: 6,
    packets: 2,
    bytes: 120,
    start: 1700000000,
    end: 1700000060,
    action: 'REJECT' as const,
    logStatus: 'OK',
    rejectedBy: 'acl:acl-1:inbound:100',
  };
  const line = recordLine(r);
  assert.equal(line, '2 123456789012 eni-0123456789abcdef 10.0.1.5 10.0.2.7 40000 80 6 2 120 1700000000 1700000060 REJECT OK acl:acl-1:inbound:100');
  assert.deepEqual(parseRecord(line), { version: 2, ...r, line });
  assert.equal(parseRecord('garbage'), null);
  assert.equal(parseRecord(recordLine({ ...r, action: 'ACCEPT', rejectedBy: undefined }))?.rejectedBy, undefined);
});

const subnet = (id: string, vpcId: string): Subnet =>
  ({ id, name: id, projectId: 'p', vpcId, cidr: '10.0.2.0/24', gatewayIp: '10.0.2.1', routeTableId: 'rtb-1', createdAt: '' }) as Subnet;
const ep = (id: string, subnetId: string, ip: string) => ({ id, name: id, projectId: 'p', vpcId: 'vpc-1', subnetId, ip, groups: ['sg-1', 'sg-2'] });

test("a sample is its endpoint's own, or the ACL's on the endpoint inside the subnet, by rule and direction", () => {
  const a = ep('ecs-a', 'subnet-a', '10.0.1.5');
  const b = ep('ecs-b', 'subnet-b', '10.0.2.7');
  const byId = new Map([a, b].map((e) => [e.id, e]));
  const subnets = [subnet('subnet-a', 'vpc-1'), subnet('subnet-b', 'vpc-1')];
  const acls = [{ id: 'acl-d', vpcId: 'vpc-1', isDefault: true } as StoredAcl];
  const s = { src: a.ip, dst: b.ip, proto: 6, sport: 1, dport: 80, packets: 1, bytes: 60 };
  assert.deepEqual(attribute('ecs-b', { ...s, set: 'fl_in' }, byId, [a, b], subnets, acls), { endpoint: b, action: 'ACCEPT' });
  assert.deepEqual(attribute('ecs-b', { ...s, set: 'rj_in' }, byId, [a, b], subnets, acls), { endpoint: b, action: 'REJECT', rejectedBy: 'sg:sg-1,sg-2' });
  const inbound = attribute('vpc-1', { ...s, set: `ar_${bridgeName('subnet-b')}_i_100` }, byId, [a, b], subnets, acls);
  assert.deepEqual(inbound, { endpoint: b, action: 'REJECT', rejectedBy: 'acl:acl-d:inbound:100' });
  const outbound = attribute('vpc-1', { ...s, set: `ar_${bridgeName('subnet-a')}_o_any` }, byId, [a, b], subnets, acls);
  assert.deepEqual(outbound, { endpoint: a, action: 'REJECT', rejectedBy: 'acl:acl-d:outbound:*' });
  // An address in no endpoint of the subnet is nobody's interface.
  assert.equal(attribute('vpc-1', { ...s, dst: '10.0.2.99', set: `ar_${bridgeName('subnet-b')}_i_100` }, byId, [a, b], subnets, acls), null);
});

test('a flow log covers its server, the servers of its subnet, or of its VPC', () => {
  const log = (resourceId: string) => ({ resourceId }) as FlowLog;
  const e = { id: 'ecs-1', subnetId: 'subnet-1', vpcId: 'vpc-1' };
  assert.ok(covers(log('ecs-1'), e) && covers(log('subnet-1'), e) && covers(log('vpc-1'), e));
  assert.ok(!covers(log('subnet-2'), e) && !covers(log('ecs-2'), e));
});

test('only a watched server counts its flows, and only a watched subnet its ACL rejects, rule by rule', () => {
  assert.doesNotMatch(
    serverRuleset([], () => []),
    /fl_in|rj_in/,
  );
  const logged = serverRuleset([], () => [], true);
  assert.match(logged, /chain flow_in \{\n\s+type filter hook input priority 10; policy accept;/);
  assert.match(
    logged,
    /update @rj_in \{ ip saddr \. ip daddr \. meta l4proto \. th sport \. th dport \}\n\s+meta nfproto ipv4 meta l4proto != \{ tcp, udp \} update @rj_in_x/,
  );
  const rules = [{ number: 100, direction: 'ingress' as const, action: 'deny' as const, protocol: 'icmp' as const, portRange: null, cidr: '0.0.0.0/0' }];
  const plain = aclRuleset([{ bridge: 'bx', rules }]);
  assert.doesNotMatch(plain, /@ar_/);
  const counted = aclRuleset([{ bridge: 'bx', rules, logged: true }]);
  // An ICMP-only deny counts in the protocol-only set, not the 5-tuple one.
  assert.match(counted, /meta nfproto ipv4 meta l4proto icmp meta nfproto ipv4 meta l4proto != \{ tcp, udp \} update @ar_bx_i_100_x/);
  assert.doesNotMatch(counted, /update @ar_bx_i_100 \{/);
  assert.match(counted, /update @ar_bx_i_any \{/);
});

test('the collector records what grew since the last capture, rotates its file at the bound, and cursors stay right', async () => {
  const { memoryCloud } = await import('../../test/helpers/cloud.js');
  const { createVpc } = await import('../resources/vpc/service.js');
  const { createSubnet } = await import('../resources/subnet/service.js');
  const { createServer } = await import('../resources/server/service.js');
  const { createFlowLog } = await import('../resources/flow-log/service.js');
  const { FlowLogs } = await import('./flow-logs.js');
  const { mkdtempSync, rmSync, statSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { ctx, store } = memoryCloud();
  createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' });
  createSubnet(ctx, { name: 's', vpc: 'v', cidr: '10.0.1.0/24' });
  const server = createServer(ctx, { name: 'e', subnet: 's' });
  const log = createFlowLog(ctx, { name: 'f', server: 'e' });
  // A kernel whose one flow grows by 10 packets of 60 bytes between captures, 50 flows at a time.
  let round = 0;
  const dataplane = {
    flowSamples: async () => {
      round++;
      const samples = Array.from({ length: 50 }, (_, i) => ({
        set: 'fl_in',
        src: '10.0.1.9',
        dst: server.privateIp,
        proto: 6,
        sport: 1000 + i,
        dport: 80,
        packets: 10 * round,
        bytes: 600 * round,
      }));
      return new Map([[server.id, { table: '7', samples }]]);
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-flows-'));
  try {
    const fl = new FlowLogs(store, ctx.feed, dataplane as never, dir, 8 * 1024);
    const first = await fl.records(log);
    assert.equal(first.records.length, 50);
    assert.ok(first.records.every((r) => r.packets === 10 && r.bytes === 600 && r.action === 'ACCEPT' && r.server === 'e'));
    let cursor = first.next;
    for (let i = 0; i < 10; i++) {
      await fl.capture();
      const more = await fl.records(log, { after: cursor });
      cursor = more.next;
      // Only what grew is recorded, however long the flow has lived.
      assert.ok(more.records.every((r) => r.packets === 10 && r.bytes === 600));
    }
    const file = join(dir, 'flowlogs', `${log.id}.log`);
    assert.ok(existsSync(`${file}.1`), 'the log rotated');
    assert.ok(statSync(file).size + statSync(`${file}.1`).size <= 2 * 8 * 1024 + 50 * 200, 'two files at most, each about the bound');
    const all = await fl.records(log);
    assert.equal(all.next, 50 * round, 'the cursor counts every record written, the rotated-away ones too');
    assert.ok(all.records.length < 50 * round, 'the oldest records are gone');
    // A read closes the window: exactly the flows that grew since are new.
    assert.equal((await fl.records(log, { after: all.next })).records.length, 50);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
