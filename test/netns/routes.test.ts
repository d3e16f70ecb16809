/**
 * Routes stay put (privileged): with 0.0.0.0/0, /32 and /16 routes through a peering, full
 * passes find nothing to change and delete no route (the kernel spells the first two
 * `default` and without /32; they were deleted and added again on every pass).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { run } from '../../src/dataplane/linux/run.js';

let t: LinuxTestDaemon | undefined;
after(async () => {
  await t?.close();
});

test('full passes leave 0.0.0.0/0, /32 and /16 routes alone: the plan is empty, no route is deleted', { skip: skipLinux }, async () => {
  t = await linuxDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'a', cidr: '10.80.0.0/16' });
  await c.vpcs.create({ name: 'b', cidr: '10.90.0.0/16' });
  await c.subnets.create({ name: 'sa', vpc: 'a', cidr: '10.80.1.0/24' });
  await c.subnets.create({ name: 'sb', vpc: 'b', cidr: '10.90.1.0/24' });
  await c.servers.create({ name: 'ea', subnet: 'sa' });
  await c.servers.create({ name: 'eb', subnet: 'sb', ip: '10.90.1.10' });
  await c.peerings.create({ name: 'p', vpc: 'a', peerVpc: 'b' });
  await c.routeTables.addRoute('a-main', { destination: '0.0.0.0/0', target: 'p' });
  await c.routeTables.addRoute('b-main', { destination: '10.80.1.0/24', target: 'p' });
  await c.routeTables.create({ name: 'rt-32', vpc: 'b' });
  await c.routeTables.addRoute('rt-32', { destination: '10.80.1.2/32', target: 'p' });
  await c.routeTables.addRoute('rt-32', { destination: '10.80.0.0/16', target: 'p' });
  await c.dataplane.sync();
  const router = (await t.namespaces()).find((n) => n.includes('-vpc-'))!;
  const before = (await run('ip', ['-4', '-n', router, 'route', 'show', 'table', 'all'])).stdout;
  for (let i = 0; i < 3; i++) {
    const r = await c.dataplane.sync();
    assert.deepEqual(r.steps, [], `pass ${i + 1} changed: ${JSON.stringify(r.steps)}`);
  }
  assert.deepEqual((await c.dataplane.plan()).steps, []);
  assert.equal((await run('ip', ['-4', '-n', router, 'route', 'show', 'table', 'all'])).stdout, before, 'the routing tables are as they were');
  assert.equal((await c.ping({ server: 'ea', destination: '10.90.1.10', count: 1 })).reachable, true);
});

test('a subnet’s bridge keeps its address when servers go: the others reach their gateway at once', { skip: skipLinux }, async () => {
  t ??= await linuxDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'm', cidr: '10.91.0.0/16' });
  await c.subnets.create({ name: 'm1', vpc: 'm', cidr: '10.91.1.0/24' });
  await c.subnets.create({ name: 'm2', vpc: 'm', cidr: '10.91.2.0/24' });
  for (const n of ['a', 'b', 'c', 'd']) await c.servers.create({ name: `m-${n}`, subnet: 'm1' });
  const far = await c.servers.create({ name: 'm-far', subnet: 'm2' });
  await c.dataplane.sync();
  const vpcId = (await c.vpcs.get('m')).id;
  const router = (await t.namespaces()).find((n) => n.endsWith(`-vpc-${vpcId.slice(4, 12)}`))!;
  const bridge = `b${(await c.subnets.get('m1')).id.slice(7, 15)}`;
  const mac = async () => JSON.parse((await run('ip', ['-j', '-n', router, 'link', 'show', bridge])).stdout)[0].address as string;
  const before = await mac();
  // Every server but one goes, whichever held the lowest port address; the last one's neighbour cache is warm.
  assert.equal((await c.ping({ server: 'm-d', destination: far.privateIp, count: 1 })).reachable, true);
  for (const n of ['a', 'b', 'c']) await c.servers.delete(`m-${n}`);
  await c.dataplane.sync();
  assert.equal(await mac(), before, 'the bridge kept its address');
  assert.equal((await c.ping({ server: 'm-d', destination: far.privateIp, count: 1 })).reachable, true, 'm-d still reaches its gateway');
});
