/**
 * The batched reader (observe-many.ts: one process, netlink) and the per-namespace reader
 * (observe.ts: `ip -j` and friends in each namespace) see the same thing in every namespace of
 * a real lab: routers, servers' machines, a peering, a load balancer, an edge.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { observe } from '../../src/dataplane/linux/observe.js';
import { observeMany } from '../../src/dataplane/linux/observe-many.js';

let t: LinuxTestDaemon;

before(async () => {
  if (skipLinux) return;
  t = await linuxDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'vpc-a', cidr: '192.168.6.0/24' });
  await c.vpcs.create({ name: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
  await c.subnets.create({ name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.servers.create({ name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76', app: 'web' });
  await c.servers.create({ name: 'ecs-b', subnet: 'sub-b', ip: '192.168.5.130' });
  await c.peerings.create({ name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  await c.routeTables.addRoute('vpc-a-main', { destination: '192.168.5.0/24', target: 'pcx-ab' });
  await c.routeTables.addRoute('vpc-b-main', { destination: '192.168.6.0/25', target: 'pcx-ab' });
  await c.loadBalancers.create({ name: 'elb', subnet: 'sub-a' });
  await c.internetGateways.create({ name: 'igw', vpc: 'vpc-a' });
  await c.routeTables.addRoute('vpc-a-main', { destination: '0.0.0.0/0', target: 'igw' });
  await t.daemon.dataplane.settled();
});
after(async () => {
  await t?.close();
});

test('one process reads every namespace as the per-namespace commands do', { skip: skipLinux }, async () => {
  const names = await t.namespaces();
  assert.ok(names.length >= 5, names.join(' '));
  const many = await observeMany([...names, `${t.prefix}-missing`]);
  for (const ns of names) {
    const one = many.get(ns);
    assert.ok(one && !(one instanceof Error), `${ns}: ${String(one)}`);
    assert.deepEqual(one, await observe(ns), ns);
  }
  const missing = many.get(`${t.prefix}-missing`);
  assert.ok(missing instanceof Error && /missing/.test(missing.message), String(missing));
});
