/**
 * Flow logs on the virtual data plane: Nimbus answers pings from the analyzer, so it records
 * their packets where the trace says they went: a group's REJECT, an ACL rule's REJECT on the
 * interface inside the subnet, and ACCEPTs both ways, 84 bytes an echo. Nothing else is
 * recorded there (docs/flow-logs.md).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';

let t: TestDaemon;
before(async () => {
  t = await testDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'v', cidr: '10.86.0.0/16' });
  await c.subnets.create({ name: 'a', vpc: 'v', cidr: '10.86.1.0/24' });
  await c.subnets.create({ name: 'b', vpc: 'v', cidr: '10.86.2.0/24' });
  await c.securityGroups.create({ name: 'quiet' });
  await c.servers.create({ name: 'x', subnet: 'a', ip: '10.86.1.10' });
  await c.servers.create({ name: 'y', subnet: 'b', ip: '10.86.2.10', securityGroups: ['quiet'] });
  await c.flowLogs.create({ name: 'all', vpc: 'v' });
});
after(async () => {
  await t?.close();
});

test('a ping the group refuses is a REJECT naming it; an ACL rule that drops it is named by number; allowed, both ways are ACCEPT', async () => {
  const c = t.client;
  const quiet = (await c.securityGroups.get('quiet')).id;
  assert.equal((await c.ping({ server: 'x', destination: '10.86.2.10', count: 2 })).reachable, false);
  let rs = (await c.flowLogs.records('all')).records;
  assert.deepEqual(
    rs.map((r) => [r.server, r.srcaddr, r.dstaddr, r.protocol, r.packets, r.bytes, r.action, r.rejectedBy ?? '-']),
    [
      ['x', '10.86.1.10', '10.86.2.10', 1, 2, 168, 'ACCEPT', '-'],
      ['y', '10.86.1.10', '10.86.2.10', 1, 2, 168, 'REJECT', `sg:${quiet}`],
    ],
  );
  let next = (await c.flowLogs.records('all')).next;
  await c.securityGroups.addRule('quiet', { direction: 'ingress', protocol: 'icmp', remote: '10.86.0.0/16' });
  const acl = await c.networkAcls.create({ name: 'guard', vpc: 'v' });
  await c.networkAcls.associate('guard', 'b');
  await c.networkAcls.addRule('guard', { number: 100, direction: 'ingress', action: 'deny', protocol: 'icmp', cidr: '10.86.1.0/24' });
  await c.ping({ server: 'x', destination: '10.86.2.10', count: 1 });
  rs = (await c.flowLogs.records('all', { after: next, action: 'REJECT' })).records;
  assert.deepEqual(
    rs.map((r) => [r.server, r.rejectedBy]),
    [['y', `acl:${acl.id}:inbound:100`]],
  );
  next = (await c.flowLogs.records('all')).next;
  await c.networkAcls.addRule('guard', { number: 90, direction: 'ingress', action: 'allow', protocol: 'icmp', cidr: '10.86.1.0/24' });
  await c.networkAcls.addRule('guard', { number: 90, direction: 'egress', action: 'allow', protocol: 'icmp', cidr: '10.86.1.0/24' });
  assert.equal((await c.ping({ server: 'x', destination: '10.86.2.10', count: 3 })).reachable, true);
  rs = (await c.flowLogs.records('all', { after: next })).records;
  assert.deepEqual(rs.map((r) => [r.server, r.srcaddr, r.dstaddr, r.packets, r.bytes, r.action]).sort(), [
    ['x', '10.86.1.10', '10.86.2.10', 3, 252, 'ACCEPT'],
    ['x', '10.86.2.10', '10.86.1.10', 3, 252, 'ACCEPT'],
    ['y', '10.86.1.10', '10.86.2.10', 3, 252, 'ACCEPT'],
    ['y', '10.86.2.10', '10.86.1.10', 3, 252, 'ACCEPT'],
  ]);
  // Filtered by server: only y's interface.
  assert.ok((await c.flowLogs.records('all', { server: 'y' })).records.every((r) => r.server === 'y'));
});
