/**
 * The linux data plane with real packets (privileged; skipped with the reason otherwise):
 * the reference lab's part 1 with real ping from the CLI, isolation rules, drift repair,
 * recovery after SIGKILL, exec, and clean leaving nothing behind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_SETUP, cli, spawnServe } from '../helpers/daemon.js';
import { linuxDaemon, runPrefix, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { cleanNamespaces } from '../../src/dataplane/linux/clean.js';
import { listNamespaces, observe } from '../../src/dataplane/linux/observe.js';
import { owned, peeringPort, routerNs } from '../../src/dataplane/linux/names.js';
import { NimbusClient } from '../../src/client/client.js';
import { run } from '../../src/dataplane/linux/run.js';

let t: LinuxTestDaemon;
before(async () => {
  if (!skipLinux) t = await linuxDaemon();
});
after(async () => {
  await t?.close();
  if (t) assert.deepEqual(await t.namespaces(), [], 'no namespace of ours is left');
});

const nimbus = (...args: string[]) => cli(t.daemon.url, args);

test('reference lab part 1 with real ping: fails, then peering and routes, then it succeeds', { skip: skipLinux }, async () => {
  for (const s of LAB_SETUP) assert.equal((await nimbus(...s)).code, 0, s.join(' '));
  const fails = await nimbus('ping', 'ecs-a', '192.168.5.130', '-c', '1');
  assert.equal(fails.code, 1, fails.stdout);
  assert.match(fails.stdout, /1 packets transmitted, 0 received/);
  assert.doesNotMatch(fails.stdout, /virtual/, 'a real ping, not the analyzer');

  await nimbus('peering', 'create', '--name', 'pcx-ab', '--vpc', 'vpc-a', '--peer-vpc', 'vpc-b');
  await nimbus('route', 'add', '--vpc', 'vpc-a', '--destination', '192.168.5.0/24', '--target', 'pcx-ab');
  const oneWay = await nimbus('ping', 'ecs-a', '192.168.5.130', '-c', '1');
  assert.equal(oneWay.code, 1, 'one route is not enough: the reply has no way back');
  await nimbus('route', 'add', '--vpc', 'vpc-b', '--destination', '192.168.6.0/25', '--target', 'pcx-ab');
  const ok = await nimbus('ping', 'ecs-a', '192.168.5.130', '-c', '2');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /64 bytes from 192\.168\.5\.130: icmp_seq=1 ttl=62 time=/);
  const probe = await nimbus('trace', 'ecs-a', '192.168.5.130:8080', '--probe');
  assert.match(probe.stdout, /probe: reachable \(agrees with the analyzer\)/);
});

test('a security group that closes the port stops real traffic, as trace says', { skip: skipLinux }, async () => {
  await nimbus('sg', 'create', '--name', 'closed');
  await nimbus('sg', 'rule', 'add', '--group', 'closed', '--direction', 'ingress', '--protocol', 'tcp', '--port', '22', '--remote', '0.0.0.0/0');
  assert.equal((await nimbus('server', 'create', '--name', 'ecs-c', '--subnet', 'sub-b', '--ip', '192.168.5.140', '--security-group', 'closed')).code, 0);
  const icmp = await nimbus('trace', 'ecs-a', '192.168.5.140', '--probe');
  assert.equal(icmp.code, 1);
  assert.match(icmp.stdout, /DROP\s+sg ingress\s+closed/);
  assert.match(icmp.stdout, /probe: unreachable \(agrees with the analyzer\)/);
  const ssh = await nimbus('trace', 'ecs-a', '192.168.5.140:22', '--probe');
  assert.equal(ssh.code, 0);
  assert.match(ssh.stdout, /probe: reachable \(agrees/);
});

test('exec runs inside the server and passes stdout, stderr and the exit code through', { skip: skipLinux }, async () => {
  const r = await nimbus('exec', 'ecs-a', '--', 'sh', '-c', 'ip -4 -o addr show dev eth0; echo oops >&2; exit 7');
  assert.equal(r.code, 7);
  assert.match(r.stdout, /inet 192\.168\.6\.76\/25/);
  assert.equal(r.stderr, 'oops\n');
});

test('an icmp rule with a type admits that type only, in the kernel as in the analyzer', { skip: skipLinux }, async () => {
  for (const [group, icmp, name, ip] of [
    ['echo-only', '8', 'ecs-e', '192.168.5.150'],
    ['reply-only', '0', 'ecs-r', '192.168.5.151'],
  ]) {
    await nimbus('sg', 'create', '--name', group);
    const added = await nimbus('sg', 'rule', 'add', '--group', group, '--direction', 'ingress', '--protocol', 'icmp', '--icmp', icmp, '--remote', '0.0.0.0/0');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`type ${icmp}`));
    assert.equal((await nimbus('server', 'create', '--name', name, '--subnet', 'sub-b', '--ip', ip, '--security-group', group)).code, 0);
  }
  const echo = await nimbus('trace', 'ecs-a', '192.168.5.150', '--probe');
  assert.equal(echo.code, 0, echo.stdout);
  assert.match(echo.stdout, /probe: reachable \(agrees with the analyzer\)/);
  const reply = await nimbus('trace', 'ecs-a', '192.168.5.151', '--probe');
  assert.equal(reply.code, 1, reply.stdout);
  assert.match(reply.stdout, /probe: unreachable \(agrees with the analyzer\)/);
});

test('a stopped server does not answer, and answers again once started', { skip: skipLinux }, async () => {
  await nimbus('server', 'stop', 'ecs-b', '--wait');
  assert.equal((await nimbus('ping', 'ecs-a', '192.168.5.130', '-c', '1')).code, 1);
  await nimbus('server', 'start', 'ecs-b', '--wait');
  assert.equal((await nimbus('ping', 'ecs-a', '192.168.5.130', '-c', '1')).code, 0);
});

test('drift is repaired: a peering veth deleted by hand comes back', { skip: skipLinux }, async () => {
  const c = t.client;
  const vpc = await c.vpcs.get('vpc-a');
  const pcx = await c.peerings.get('pcx-ab');
  const ns = routerNs(t.prefix, vpc.id);
  const port = peeringPort(pcx.id);
  assert.ok((await observe(ns)).links.has(port));
  const del = await run('ip', ['-n', ns, 'link', 'del', port]);
  assert.equal(del.code, 0, del.stderr);
  const plan = await c.dataplane.plan();
  assert.ok(
    plan.steps.some((s) => s.ns === ns && s.object === `veth ${port}` && s.action === 'created'),
    JSON.stringify(plan.steps),
  );
  const report = await c.dataplane.sync();
  assert.deepEqual(report.errors, []);
  assert.ok((await observe(ns)).links.has(port));
  assert.equal((await c.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 1 })).reachable, true);
  assert.deepEqual((await c.dataplane.plan()).steps, [], 'converged: nothing left to do');
});

test('deleting resources removes their kernel objects', { skip: skipLinux }, async () => {
  const before = await t.namespaces();
  await nimbus('server', 'delete', 'ecs-c');
  await t.client.dataplane.sync();
  const afterDelete = await t.namespaces();
  assert.equal(afterDelete.length, before.length - 1);
});

test('after SIGKILL in the middle of building, a restart ends in the right topology with no leftovers', { skip: skipLinux }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-kill-'));
  const prefix = runPrefix();
  const serve = () => spawnServe(['--data', dir, '--dataplane', 'linux', '--prefix', prefix]);
  let { child, url } = await serve();
  try {
    let c = new NimbusClient({ url });
    await c.vpcs.create({ name: 'v', cidr: '10.7.0.0/16' });
    await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.7.1.0/24' });
    for (let i = 0; i < 12; i++) await c.servers.create({ name: `k${i}`, subnet: 's' });
    child.kill('SIGKILL'); // the reconciler is still building these
    await new Promise((r) => child.once('exit', r));
    ({ child, url } = await serve());
    c = new NimbusClient({ url });
    await c.servers.delete('k11');
    const report = await c.dataplane.sync();
    assert.deepEqual(report.errors, []);
    assert.deepEqual((await c.dataplane.plan()).steps, []);
    const ours = (await listNamespaces()).filter((n) => owned(prefix, n));
    assert.equal(ours.length, 1 + 11, 'one router and eleven servers');
    assert.equal((await c.ping({ server: 'k0', destination: '10.7.1.12', count: 1 })).reachable, true);
  } finally {
    child.kill('SIGKILL');
    await cleanNamespaces(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(
    (await listNamespaces()).filter((n) => owned(prefix, n)),
    [],
  );
});

test('nimbus dataplane clean removes every namespace of the installation', { skip: skipLinux }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-clean-'));
  const prefix = runPrefix();
  try {
    const r = await run('ip', ['-batch', '-'], { input: `netns add ${prefix}-vpc-00000001\nnetns add ${prefix}-ecs-00000002\n` });
    assert.equal(r.code, 0, r.stderr);
    const out = await cli('http://127.0.0.1:1', ['dataplane', 'clean', '--data', dir, '--prefix', prefix]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /removed 2 namespaces/);
    assert.deepEqual(
      (await listNamespaces()).filter((n) => owned(prefix, n)),
      [],
    );
  } finally {
    await cleanNamespaces(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
});
