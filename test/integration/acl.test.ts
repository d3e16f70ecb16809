/**
 * Network ACLs as a user drives them (virtual data plane): `nimbus acl` creates one, adds
 * numbered rules, puts a subnet behind it and shows it; `nimbus trace` names the ACL and the
 * rule that decided, both ways; the REST API refuses with AWS's codes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDaemon, cli, type TestDaemon } from '../helpers/daemon.js';

let t: TestDaemon;
before(async () => {
  t = await testDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'v', cidr: '10.70.0.0/16' });
  await c.subnets.create({ name: 'front', vpc: 'v', cidr: '10.70.1.0/24' });
  await c.subnets.create({ name: 'back', vpc: 'v', cidr: '10.70.2.0/24' });
  await c.servers.create({ name: 'web', subnet: 'front', ip: '10.70.1.10' });
  await c.servers.create({ name: 'db', subnet: 'back', ip: '10.70.2.10' });
});
after(async () => {
  await t?.close();
});

const nimbus = async (...args: string[]) => {
  const r = await cli(t.daemon.url, args, { NIMBUS_TOKEN: t.daemon.adminToken });
  return r;
};

test('nimbus acl: create, rules, associate, show; trace names the ACL and its rule both ways', async () => {
  assert.equal((await nimbus('acl', 'create', '--name', 'back-guard', '--vpc', 'v')).code, 0);
  for (const args of [
    ['--number', '100', '--direction', 'inbound', '--allow', '--protocol', 'tcp', '--port', '5432', '--cidr', '10.70.1.0/24'],
    ['--number', '90', '--direction', 'inbound', '--deny', '--protocol', 'tcp', '--port', '5432', '--cidr', '10.70.1.66/32'],
    ['--number', '100', '--direction', 'outbound', '--allow', '--protocol', 'tcp', '--port', '1024-65535', '--cidr', '10.70.1.0/24'],
  ]) {
    const r = await nimbus('acl', 'rule', 'add', 'back-guard', ...args);
    assert.equal(r.code, 0, r.stderr);
  }
  const dup = await nimbus(
    'acl',
    'rule',
    'add',
    'back-guard',
    '--number',
    '100',
    '--direction',
    'inbound',
    '--deny',
    '--protocol',
    'all',
    '--cidr',
    '0.0.0.0/0',
  );
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /^NetworkAclEntryAlreadyExists: .*100/);
  assert.equal((await nimbus('acl', 'associate', 'back-guard', '--subnet', 'back')).code, 0);
  const show = await nimbus('acl', 'show', 'back-guard');
  assert.equal(show.code, 0, show.stderr);
  const rows = show.stdout
    .split('\n')
    .filter((l) => /^\s+(inbound|outbound)\s/.test(l))
    .map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '));
  assert.deepEqual(rows, ['inbound 90 DENY', 'inbound 100 ALLOW', 'inbound * DENY', 'outbound 100 ALLOW', 'outbound * DENY'], show.stdout);
  assert.match(show.stdout, /subnets\s+back/);

  const ok = await nimbus('trace', 'web', 'db:5432');
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(
    ok.stdout,
    /acl\s+back-guard\s+tcp:5432 from 10\.70\.1\.10 into back \(inbound, stateless\): allowed by rule 100 allow tcp 5432 from 10\.70\.1\.0\/24/,
  );
  assert.match(
    ok.stdout,
    /acl\s+back-guard\s+reply tcp:\d+ \(ephemeral 32768-60999\) to 10\.70\.1\.10 out of back \(outbound, stateless\): allowed by rule 100/,
  );
  const ping = await nimbus('trace', 'web', 'db', '--protocol', 'icmp');
  assert.equal(ping.code, 1);
  assert.match(ping.stdout, /blocked on the forward path at network-acl back-guard .*denied by rule \*/);

  // Removing the outbound rule blocks the replies, and the trace says where.
  assert.equal((await nimbus('acl', 'rule', 'delete', 'back-guard', '--number', '100', '--direction', 'outbound')).code, 0);
  const reply = await nimbus('trace', 'web', 'db:5432', '-o', 'json');
  const verdict = JSON.parse(reply.stdout) as { reachable: boolean; blockedBy: { direction: string; kind: string; resourceName: string } };
  assert.deepEqual(
    [verdict.reachable, verdict.blockedBy.direction, verdict.blockedBy.kind, verdict.blockedBy.resourceName],
    [false, 'return', 'network-acl', 'back-guard'],
  );
});

test('the REST API refuses with AWS codes and names the value at fault', async () => {
  const c = t.client;
  const code = async (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e: { code: string; message: string }) => `${e.code}: ${e.message}`,
    );
  assert.match(await code(c.networkAcls.delete('v-default-acl')), /^DependencyViolation: .*default ACL/);
  assert.match(await code(c.networkAcls.delete('back-guard')), /^DependencyViolation: .*back/);
  assert.match(
    await code(c.networkAcls.addRule('back-guard', { number: 40000, direction: 'ingress', action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' })),
    /^InvalidParameterValue: .*number/,
  );
  assert.match(await code(c.networkAcls.removeRule('back-guard', 'egress', 77)), /^InvalidNetworkAclEntry.NotFound: .*77/);
  assert.match(await code(c.networkAcls.get('nope')), /^InvalidNetworkAclID.NotFound: .*nope/);
  const before = await c.networkAcls.get('back-guard');
  await code(c.networkAcls.addRule('back-guard', { number: 5, direction: 'ingress', action: 'allow', protocol: 'icmp', ports: '80', cidr: '0.0.0.0/0' }));
  assert.deepEqual(await c.networkAcls.get('back-guard'), before, 'a refusal changes nothing');
});
