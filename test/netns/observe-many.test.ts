/**
 * The batched reader (observe-many.ts: one process, netlink) and the per-namespace reader
 * (observe.ts: `ip -j` and friends in each namespace) see the same thing in every namespace of
 * a real lab: routers, servers' machines, a peering, a load balancer, an edge. And the batched
 * machine maker (machine.ts MACHINES_PROGRAM) makes what the shell script makes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { observe } from '../../src/dataplane/linux/observe.js';
import { observeMany } from '../../src/dataplane/linux/observe-many.js';
import { hostMachines, machineExists, userNsFile } from '../../src/dataplane/linux/machine.js';
import { serverNs } from '../../src/dataplane/linux/names.js';
import { run } from '../../src/dataplane/linux/run.js';
import { claimIds, ID_RANGE } from '../../src/dataplane/ids.js';
import { statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

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

test('one process makes many machines: each its own user namespace, mapped to its own ids, and its network namespace', { skip: skipLinux }, async () => {
  const names = Array.from({ length: 6 }, (_, i) => serverNs(`${t.prefix}m`, `ecs-${randomBytes(8).toString('hex')}${i}`));
  const machines = hostMachines(run);
  try {
    const failed = await machines.createMany!(names);
    assert.deepEqual([...failed.keys()], []);
    const inodes = new Set<number>();
    for (const ns of names) {
      assert.ok(machineExists(ns), `${ns} is a machine`);
      const r = await run('ip', ['netns', 'exec', ns, 'ip', '-br', 'link']);
      assert.match(r.stdout, /^lo\s/m, `${ns} has a network namespace of its own`);
      inodes.add(statSync(`/run/netns/${ns}`).ino);
      // Its root is the first id of a range of its own (ids.ts).
      const map = await run('nsenter', [`--user=${userNsFile(ns)}`, 'cat', '/proc/self/uid_map']);
      assert.match(map.stdout.trim(), new RegExp(`^0\\s+${claimIds(ns)}\\s+${ID_RANGE}$`), map.stdout + map.stderr);
    }
    assert.equal(inodes.size, names.length, 'six namespaces, not one');
  } finally {
    for (const ns of names) {
      await machines.remove(ns);
      await run('ip', ['netns', 'del', ns]);
    }
  }
});
