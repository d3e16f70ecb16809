/**
 * Topology files against a real daemon (virtual data plane), through the CLI as a user runs
 * them: the examples come up with one command and a second plan says nothing changes;
 * every problem is reported with its path and line and changes nothing; only what a file owns
 * is deleted; export applies back to the same state; an apply cut short by a SIGKILL of the
 * daemon is finished by the next one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { testDaemon, cli, spawnServe, type TestDaemon, cleanInstallation } from '../helpers/daemon.js';
import { checkPart2, waitMembersOnline } from '../helpers/lab.js';
import { NimbusClient, type TopologyProgress } from '../../src/client/client.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const asRoot = process.getuid?.() === 0;
let t: TestDaemon;
let dir: string;
before(async () => {
  t = await testDaemon();
  dir = mkdtempSync(join(tmpdir(), 'nimbus-topo-'));
});
after(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], project?: string) => cli(t.daemon.url, args, project ? { NIMBUS_PROJECT: project } : {});

/** Every resource of a project, to compare before and after a refused file. */
async function everything(c: NimbusClient): Promise<string> {
  const parts = await Promise.all([
    c.vpcs.list(),
    c.subnets.list(),
    c.servers.list(),
    c.securityGroups.list(),
    c.peerings.list(),
    c.routeTables.list(),
    c.loadBalancers.list(),
  ]);
  return JSON.stringify(parts);
}

test(
  'the reference lab comes up from its file with one command, serves, and a second plan finds nothing to do',
  { skip: asRoot ? false : 'the file listens on port 80: needs root' },
  async () => {
    await t.client.projects.create({ name: 'lab' });
    const c = t.client.as('lab');
    const file = join(EXAMPLES, 'reference-lab.yaml');
    const plan = await run(['plan', '-f', file], 'lab');
    assert.equal(plan.code, 2, 'a plan with changes exits 2');
    assert.match(plan.stdout, /\+ create {2}vpc vpc-a {2,}not there yet {2}\(vpcs\[0\]\)/);
    assert.match(plan.stdout, /Plan: 15 to create, 0 to update, 0 to replace, 0 to delete, 0 to adopt\./);
    const apply = await run(['apply', '-f', file, '--wait'], 'lab');
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /\[ 1\/15\] created {2}vpc vpc-a\n/);
    assert.match(apply.stdout, /\[15\/15\] created {2}listener http80\n/);
    const publicIp = /load balancer elb: vip 192\.168\.5\.\d+, public (127\.0\.1\.\d+)/.exec(apply.stdout)?.[1];
    assert.ok(publicIp, apply.stdout);
    const again = await run(['plan', '-f', file], 'lab');
    assert.equal(again.code, 0, 'no changes: exit 0');
    assert.equal(again.stdout, 'No changes: the project matches reference-lab.\n');
    assert.equal((await c.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 1 })).reachable, true, 'part 1: the peering and its routes');
    await waitMembersOnline(c);
    await checkPart2(c, `http://${publicIp}`, 'topology');
    const destroy = await run(['destroy', '-f', file], 'lab');
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.equal((await c.vpcs.list()).length, 0, 'destroy removed it all');
  },
);

test('hub and spoke: each spoke reaches the hub, and not the other spoke (peering is not transitive)', async () => {
  await t.client.projects.create({ name: 'hub' });
  const c = t.client.as('hub');
  const r = await run(['apply', '-f', join(EXAMPLES, 'hub-and-spoke.yaml')], 'hub');
  assert.equal(r.code, 0, r.stderr);
  const trace = (from: string, to: string) => c.trace({ server: from, destination: to, protocol: 'icmp' });
  assert.equal((await trace('spoke-1', '10.0.1.10')).reachable, true);
  assert.equal((await trace('spoke-2', '10.0.1.10')).reachable, true);
  const across = await trace('spoke-1', '10.2.1.10');
  assert.equal(across.reachable, false);
  assert.match(across.blockedBy?.reason ?? '', /not transitive/);
  assert.equal((await run(['plan', '-f', join(EXAMPLES, 'hub-and-spoke.yaml')], 'hub')).code, 0);
});

test(
  'two tiers: least connections behind the load balancer, the database open to the web tier only',
  { skip: asRoot ? false : 'port 80: needs root' },
  async () => {
    await t.client.projects.create({ name: 'shop' });
    const c = t.client.as('shop');
    const r = await run(['apply', '-f', join(EXAMPLES, 'two-tier.yaml'), '--wait'], 'shop');
    assert.equal(r.code, 0, r.stderr);
    const publicIp = /load balancer shop-lb: vip [\d.]+, public (127\.0\.1\.\d+)/.exec(r.stdout)?.[1];
    assert.ok(publicIp);
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < 3; i++) {
      try {
        const res = await fetch(`http://${publicIp}/`, { headers: { connection: 'close' } });
        const m = /Hello from (web-\d)/.exec(await res.text());
        if (m) seen.add(m[1]);
      } catch {
        // the workers start in the background
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual([...seen].sort(), ['web-1', 'web-2', 'web-3']);
    assert.equal((await c.pools.get('shop-web')).algorithm, 'LEAST_CONNECTIONS');
    const db = (from: string) => c.trace({ server: from, destination: '10.30.2.20', protocol: 'tcp', port: 5432 });
    assert.equal((await db('web-1')).reachable, true);
    const probe = await db('lb-probe');
    assert.equal(probe.reachable, false);
    assert.equal(probe.blockedBy?.kind, 'security-group-ingress');
  },
);

test('every problem at once, each with its path, line and code; nothing changes', async () => {
  await t.client.projects.create({ name: 'bad' });
  const c = t.client.as('bad');
  await c.vpcs.create({ name: 'keep', cidr: '10.9.0.0/16' });
  const before = await everything(c);
  const shape = join(dir, 'shape.yaml');
  writeFileSync(
    shape,
    ['vpcs:', '  - name: v', '    cidr: 10.1.0.0/16', '    colour: blue', 'servers:', '  - name: s', '    subnet: 7', '  - subnet: x', ''].join('\n'),
  );
  const r1 = await run(['plan', '-f', shape], 'bad');
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /^InvalidTopology: .*shape\.yaml has 3 problems; nothing was changed/);
  assert.match(r1.stderr, /shape\.yaml:4: vpcs\[0\]\.colour: is not a field here/);
  assert.match(r1.stderr, /shape\.yaml:7: servers\[0\]\.subnet: must be string/);
  assert.match(r1.stderr, /shape\.yaml:8: servers\[1\]\.name: is required/);

  const meaning = join(dir, 'meaning.yaml');
  writeFileSync(
    meaning,
    [
      'vpcs:',
      '  - name: v',
      '    cidr: 192.168.5.0/24',
      '    subnets:',
      '      - { name: sub-b, cidr: 192.168.5.0/24 }',
      '      - { name: outside, cidr: 10.0.0.0/24 }',
      'servers:',
      '  - { name: ok, subnet: sub-b, ip: 192.168.5.10 }',
      '  - { name: edge, subnet: sub-b, ip: 192.168.5.255 }',
      '  - { name: ok, subnet: sub-b }',
      'routes:',
      '  - { vpc: v, destination: 10.50.0.0/16, target: nowhere }',
      '',
    ].join('\n'),
  );
  const r2 = await run(['apply', '-f', meaning], 'bad');
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /meaning\.yaml:10: servers\[2\]: server 'ok' is already in the file at servers\[0\] \(NameInUse\)/);
  // Without the duplicate, the meaning is checked: each refusal from the services, at its field.
  writeFileSync(meaning, readFileSync(meaning, 'utf8').replace('  - { name: ok, subnet: sub-b }\n', ''));
  const r4 = await run(['apply', '-f', meaning], 'bad');
  assert.equal(r4.code, 1);
  assert.match(r4.stderr, /3 problems; nothing was changed/);
  assert.match(r4.stderr, /meaning\.yaml:6: vpcs\[0\]\.subnets\[1\]\.cidr: '10\.0\.0\.0\/24' must lie inside VPC 'v' .*\(InvalidSubnet\.Range\)/);
  assert.match(r4.stderr, /meaning\.yaml:9: servers\[1\]\.ip: 192\.168\.5\.255 is reserved in subnet 'sub-b'.*\(InvalidIPAddress\.Reserved\)/);
  assert.match(r4.stderr, /meaning\.yaml:11: routes\[0\]: .*'nowhere'.*\(InvalidVpcPeeringConnectionID\.NotFound\)/);
  const yaml = join(dir, 'broken.yaml');
  writeFileSync(yaml, 'vpcs:\n  - name: v\n   cidr: x\n');
  const r5 = await run(['apply', '-f', yaml], 'bad');
  assert.equal(r5.code, 1);
  assert.match(r5.stderr, /broken\.yaml:3: YAML: /);
  assert.equal(await everything(c), before, 'no refused file changed anything');
});

test('a file is bounded by what it holds, before any plan: the quotas for a project token, 5,000 resources for any', async () => {
  await t.client.projects.create({ name: 'bounded' });
  const issued = await t.client.tokens.create({ name: 'bounded-token', project: 'bounded' });
  const tenant = t.client.withToken(issued.secret);
  const vpcs = Array.from({ length: 6 }, (_, i) => `  - { name: v${i}, cidr: 10.${i}.0.0/16 }`).join('\n');
  await assert.rejects(
    tenant.topology.plan(`name: six\nvpcs:\n${vpcs}\n`),
    (err: Error & { code?: string; problems?: { code: string; line: number | null; message: string }[] }) => {
      assert.equal(err.code, 'InvalidTopology');
      assert.equal(err.problems?.[0].code, 'VpcLimitExceeded');
      assert.equal(typeof err.problems?.[0].line, 'number', 'with its line');
      assert.match(err.problems?.[0].message ?? '', /vpcs: the file holds 6, the project's quota of vpcs is 5/);
      return true;
    },
  );
  const rules = Array.from({ length: 61 }, (_, i) => `      - { direction: ingress, protocol: tcp, ports: '${i + 1}', remote: 10.0.0.0/8 }`).join('\n');
  await assert.rejects(tenant.topology.plan(`name: rules\nsecurityGroups:\n  - name: g\n    rules:\n${rules}\n`), /inbound rules of 'g': the file holds 61/);
  // An admin is not bound by quotas, but by the size of a file.
  const vpc = (i: number) =>
    `  - name: v${i}\n    cidr: 10.${i}.0.0/16\n    subnets:\n` +
    Array.from({ length: 1000 }, (_, j) => `      - { name: n${i}-${j}, cidr: 10.${i}.${j >> 4}.${(j & 15) * 16}/28 }`).join('\n');
  await assert.rejects(
    t.client.topology.plan(`name: huge\nvpcs:\n${[0, 1, 2, 3, 4].map(vpc).join('\n')}\n`),
    /the file holds 5005 resources; a file may hold at most 5000/,
  );
  assert.deepEqual(await tenant.vpcs.list(), [], 'nothing was made');
});

test('only what the file owns is deleted when it leaves the file; destroy removes what it owns and nothing else', async () => {
  await t.client.projects.create({ name: 'own' });
  const c = t.client.as('own');
  await c.vpcs.create({ name: 'mine-by-hand', cidr: '10.70.0.0/16' });
  const file = join(dir, 'owner.yaml');
  const both = ['name: owner', 'vpcs:', '  - { name: one, cidr: 10.71.0.0/16 }', '  - { name: two, cidr: 10.72.0.0/16 }', ''].join('\n');
  writeFileSync(file, both);
  assert.equal((await run(['apply', '-f', file], 'own')).code, 0);
  writeFileSync(file, both.replace('  - { name: two, cidr: 10.72.0.0/16 }\n', ''));
  const plan = await run(['plan', '-f', file], 'own');
  assert.equal(plan.code, 2);
  assert.match(plan.stdout, /- delete {2}vpc two {2,}no longer in the file/);
  assert.doesNotMatch(plan.stdout, /mine-by-hand/, 'a resource the file never owned is not touched');
  assert.equal((await run(['apply', '-f', file], 'own')).code, 0);
  assert.deepEqual((await c.vpcs.list()).map((v) => v.name).sort(), ['mine-by-hand', 'one']);
  // A file that names an existing resource adopts it; destroy then removes it too, and only that.
  writeFileSync(file, both.replace('two, cidr: 10.72.0.0/16', 'mine-by-hand, cidr: 10.70.0.0/16'));
  const adopt = await run(['plan', '-f', file], 'own');
  assert.match(adopt.stdout, /= adopt {3}vpc mine-by-hand/);
  assert.equal((await run(['apply', '-f', file], 'own')).code, 0);
  await c.vpcs.create({ name: 'unowned', cidr: '10.73.0.0/16' });
  const destroy = await run(['destroy', '--name', 'owner'], 'own');
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.deepEqual(
    (await c.vpcs.list()).map((v) => v.name),
    ['unowned'],
  );
});

test('export writes a file that applies back to the same state: no changes', async () => {
  await t.client.projects.create({ name: 'round' });
  const c = t.client.as('round');
  await c.vpcs.create({ name: 'vpc-a', cidr: '192.168.6.0/24' });
  await c.vpcs.create({ name: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
  await c.subnets.create({ name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.securityGroups.create({ name: 'web', description: 'web tier' });
  await c.securityGroups.addRule('web', { direction: 'ingress', protocol: 'tcp', ports: '8080-8081', remote: '192.168.6.0/24' });
  await c.securityGroups.addRule('web', { direction: 'ingress', protocol: 'icmp', remote: 'web' });
  await c.servers.create({ name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76', image: 'debian-12' });
  await c.servers.create({ name: 'ecs-b', subnet: 'sub-b', ip: '192.168.5.130', securityGroups: ['web', 'default'], app: 'web:8081' });
  await c.peerings.create({ name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  await c.routeTables.addRoute('vpc-a-main', { destination: '192.168.5.0/24', target: 'pcx-ab' });
  await c.routeTables.addRoute('vpc-b-main', { destination: '0.0.0.0/0', target: 'blackhole' });
  await c.loadBalancers.create({ name: 'elb', subnet: 'sub-b', workers: 2, publicIp: true });
  await c.pools.create({ name: 'p', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'source_ip', timeoutMemberData: 9000 });
  await c.members.create({ pool: 'p', server: 'ecs-b', port: 8081, weight: 5 });
  await c.members.create({ pool: 'p', address: '192.168.6.76', port: 8081 });
  await c.healthMonitors.create({ pool: 'p', type: 'tcp', delay: 3, timeout: 2 });
  await c.listeners.create({ name: 'l', loadBalancer: 'elb', protocol: 'tcp', port: 9000, defaultPool: 'p', timeoutClientData: 7000 });
  const file = join(dir, 'exported.yaml');
  const ex = await run(['export', '--name', 'exported', '-f', file], 'round');
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(readFileSync(file, 'utf8'), /^name: exported$/m);
  assert.match(readFileSync(file, 'utf8'), /publicIp: true/, 'the public IP is not pinned');
  // Without --name, the file is named after the project (nothing owns its resources yet).
  assert.match((await run(['export'], 'round')).stdout, /^name: round$/m);
  const plan = await run(['plan', '-f', file], 'round');
  assert.equal(plan.code, 0, `the first plan only adopts: no change to the network\n${plan.stdout}`);
  const actions = new Set([...plan.stdout.matchAll(/^\s*(?:\+|~|-\/\+|-|=) (\w+) /gm)].map((m) => m[1]));
  assert.deepEqual([...actions], ['adopt'], `only adoptions, no change to the network:\n${plan.stdout}`);
  assert.match(plan.stdout, /^No changes: the project matches exported\. \d+ resources that exist as the file says become the file's own/m);
  assert.equal((await run(['apply', '-f', file], 'round')).code, 0);
  // Owned by 'exported' now: an export without --name says so.
  assert.match((await run(['export'], 'round')).stdout, /^name: exported$/m);
  const again = await run(['plan', '-f', file], 'round');
  assert.equal(again.code, 0, again.stdout);
  assert.match(readFileSync(file, 'utf8'), /image: debian-12/, 'the image is in the file');
  // A new image replaces the server, as a new AMI does.
  const other = join(dir, 'other-image.yaml');
  writeFileSync(other, readFileSync(file, 'utf8').replace('image: debian-12', 'image: debian-13'));
  const replaced = await run(['plan', '-f', other], 'round');
  assert.match(replaced.stdout, /-\/\+ replace server ecs-a +image debian-12 -> debian-13/, replaced.stdout);
  // And into an empty project, the same file builds the same state.
  await t.client.projects.create({ name: 'copy' });
  const into = await run(['apply', '-f', file], 'copy');
  assert.equal(into.code, 0, into.stderr);
  const original = (await c.loadBalancers.get('elb')).publicIp;
  const fresh = (await t.client.as('copy').loadBalancers.get('elb')).publicIp;
  assert.ok(fresh && original && fresh !== original, `a public IP of its own (${fresh}, not ${original})`);
  assert.match(into.stdout, /^load balancer elb: vip \S+, public \S+$/m);
  // Another file in the same project: apply and destroy speak of its own load balancers only.
  const second = join(dir, 'second.yaml');
  writeFileSync(
    second,
    'name: second\nvpcs:\n  - name: v2\n    cidr: 10.77.0.0/16\n    subnets:\n      - { name: s2, cidr: 10.77.1.0/24 }\nloadBalancers:\n  - name: lb2\n    subnet: s2\n',
  );
  const applied = await run(['apply', '-f', second], 'copy');
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual(
    [...applied.stdout.matchAll(/^load balancer (\S+):/gm)].map((m) => m[1]),
    ['lb2'],
    applied.stdout,
  );
  const destroyed = await run(['destroy', '-f', second], 'copy');
  assert.equal(destroyed.code, 0, destroyed.stderr);
  assert.doesNotMatch(destroyed.stdout, /^load balancer /m, destroyed.stdout);
  const copied = await run(['export', '--name', 'exported'], 'copy');
  const strip = (s: string) => s.replace(/vip: \S+\n/g, '');
  assert.equal(strip(copied.stdout), strip(readFileSync(file, 'utf8')), 'the copy exports the same file');
});

test('an apply cut short by SIGKILL of the daemon is finished by the next apply', async () => {
  const data = mkdtempSync(join(tmpdir(), 'nimbus-topo-kill-'));
  let child: ChildProcess | null = null;
  try {
    let url: string;
    ({ child, url } = await spawnServe(['--data', data, '--dataplane', 'virtual']));
    const servers = Array.from({ length: 40 }, (_, i) => `  - { name: s${i}, subnet: s }`).join('\n');
    const text = `name: big\nvpcs:\n  - name: v\n    cidr: 10.44.0.0/16\n    subnets:\n      - { name: s, cidr: 10.44.1.0/24 }\nservers:\n${servers}\n`;
    const c = new NimbusClient({ url });
    let steps = 0;
    const killed = c.topology
      .apply(text, undefined, (l: TopologyProgress) => {
        if (l.type === 'step' && ++steps === 10) child!.kill('SIGKILL');
      })
      .catch((err: Error) => err);
    await killed;
    await new Promise((r) => child!.once('exit', r));
    assert.ok(steps >= 10 && steps < 42, `cut short after ${steps} steps`);
    ({ child, url } = await spawnServe(['--data', data, '--dataplane', 'virtual']));
    const c2 = new NimbusClient({ url });
    const plan = await c2.topology.plan(text);
    assert.ok(plan.steps.length > 0 && plan.steps.every((s) => s.action === 'create'), 'the rest is still to do');
    assert.ok(plan.steps.length <= 42 - 10, `${plan.steps.length} steps left`);
    const lines: TopologyProgress[] = [];
    await c2.topology.apply(text, undefined, (l) => lines.push(l));
    assert.equal(lines.at(-1)?.type, 'done');
    assert.equal((await c2.servers.list()).length, 40);
    assert.equal((await c2.topology.plan(text)).steps.length, 0, 'finished: nothing left to do');
  } finally {
    child?.kill('SIGKILL');
    await cleanInstallation(data);
  }
});

test("nimbus schema topology prints the file's JSON Schema, made from the API's own input schemas", async () => {
  const r = await run(['schema', 'topology']);
  assert.equal(r.code, 0, r.stderr);
  const schema = JSON.parse(r.stdout) as { title: string; properties: Record<string, { items: { properties: Record<string, unknown> } }> };
  assert.equal(schema.title, 'Nimbus topology file');
  const { Inputs } = await import('../../src/core/model/inputs.js');
  assert.deepEqual(schema.properties.servers.items.properties.ip, JSON.parse(JSON.stringify(Inputs.server.properties.ip)), "a server's ip as the API takes it");
  const aclRules = schema.properties.networkAcls.items.properties.rules as { items: unknown };
  assert.deepEqual(aclRules.items, JSON.parse(JSON.stringify(Inputs.aclRule)), "an ACL's rule as the API takes it");
  assert.deepEqual(Object.keys(schema.properties).sort(), [
    'elasticIps',
    'flowLogs',
    'internetGateways',
    'loadBalancers',
    'name',
    'natGateways',
    'networkAcls',
    'peerings',
    'routeTables',
    'routes',
    'securityGroups',
    'servers',
    'vpcs',
  ]);
  const bad = await run(['schema', 'nothing']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /InvalidParameterValue: schema: 'nothing' is not one/);
});

test('the edge from a file: route tables, an internet gateway, elastic IPs and a NAT gateway; plan, export, destroy', async () => {
  await t.client.projects.create({ name: 'edge' });
  const c = t.client.as('edge');
  const file = join(EXAMPLES, 'public-private.yaml');
  const r = await run(['apply', '-f', file, '--wait'], 'edge');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const again = await run(['plan', '-f', file], 'edge');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /No changes/);
  const eips = await c.elasticIps.list();
  const web = eips.find((e) => e.name === 'edge-web-ip')!;
  assert.equal(web.serverId, (await c.servers.get('edge-web-1')).id);
  const nat = await c.natGateways.get('edge-nat');
  assert.equal(nat.publicIp, eips.find((e) => e.name === 'edge-nat-ip')!.publicIp);
  assert.deepEqual(
    (await c.routeTables.get('edge-private-rt')).routes.map((x) => [x.destination, x.state]),
    [
      ['10.60.0.0/16', 'active'],
      ['0.0.0.0/0', 'active'],
    ],
  );
  // The analyzer over what the file made: out through the NAT gateway, in to the web server's address only.
  const out = await c.trace({ server: 'edge-app-1', destination: '203.0.113.10', protocol: 'tcp', port: 80 });
  assert.equal(out.reachable, true, out.text);
  const into = await c.trace({ server: 'internet', destination: web.publicIp, protocol: 'tcp', port: 8080 });
  assert.equal(into.reachable, true, into.text);
  const nope = await c.trace({ server: 'internet', destination: nat.publicIp, protocol: 'tcp', port: 8080 });
  assert.equal(nope.reachable, false);

  // Exported, the state applies back with no change; a second project takes the same file with its own addresses.
  const exported = await run(['export', '-o', 'yaml'], 'edge');
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /internetGateways:/);
  const path = join(dir, 'edge-export.yaml');
  writeFileSync(path, exported.stdout);
  const same = await run(['plan', '-f', path], 'edge');
  assert.match(same.stdout, /No changes/, same.stdout);

  // A change in the file: the web server's address moves off it (disassociated), the gateway stays.
  const edited = readFileSync(file, 'utf8').replace('{ name: edge-web-ip, server: edge-web-1 }', '{ name: edge-web-ip }');
  const editedPath = join(dir, 'edge-edited.yaml');
  writeFileSync(editedPath, edited);
  const planned = await run(['plan', '-f', editedPath], 'edge');
  assert.match(planned.stdout, /update\s+elastic IP edge-web-ip/, planned.stdout);
  assert.equal((await run(['apply', '-f', editedPath], 'edge')).code, 0);
  assert.equal((await c.elasticIps.get('edge-web-ip')).serverId, null);

  const gone = await run(['destroy', '-f', editedPath], 'edge');
  assert.equal(gone.code, 0, gone.stderr + gone.stdout);
  assert.deepEqual(await c.internetGateways.list(), []);
  assert.deepEqual(await c.natGateways.list(), []);
  assert.deepEqual(await c.elasticIps.list(), []);
  assert.deepEqual(await c.vpcs.list(), []);
});

test('network ACLs from a file: rules and subnets applied, planned again as no change, a rule changed in place, exported, removed', async () => {
  await t.client.projects.create({ name: 'guarded' });
  const c = t.client.as('guarded');
  const text = (inbound: string) => `name: guarded
vpcs:
  - name: g-vpc
    cidr: 10.90.0.0/16
    subnets:
      - { name: g-front, cidr: 10.90.1.0/24 }
      - { name: g-back, cidr: 10.90.2.0/24 }
networkAcls:
  - name: g-back-acl
    vpc: g-vpc
    subnets: [g-back]
    rules:
      - { number: 100, direction: ingress, action: allow, protocol: tcp, ports: '${inbound}', cidr: 10.90.1.0/24 }
      - { number: 100, direction: egress, action: allow, protocol: tcp, ports: 1024-65535, cidr: 10.90.1.0/24 }
servers:
  - { name: g-web, subnet: g-front }
  - { name: g-db, subnet: g-back }
`;
  const file = join(dir, 'guarded.yaml');
  writeFileSync(file, text('5432'));
  const r = await run(['apply', '-f', file], 'guarded');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const acl = await c.networkAcls.get('g-back-acl');
  assert.deepEqual(
    [acl.subnetIds.length, acl.rules.map((x) => `${x.direction} ${x.number} ${x.portRange?.from}`)],
    [1, ['ingress 100 5432', 'egress 100 1024']],
  );
  assert.equal((await c.trace({ server: 'g-web', destination: (await c.servers.get('g-db')).privateIp, protocol: 'tcp', port: 5432 })).reachable, true);
  assert.equal((await c.trace({ server: 'g-web', destination: (await c.servers.get('g-db')).privateIp, protocol: 'tcp', port: 22 })).reachable, false);
  assert.match((await run(['plan', '-f', file], 'guarded')).stdout, /No changes/);

  // A rule changed: the ACL is updated in place, keeping its id and its subnet.
  writeFileSync(file, text('22'));
  const planned = await run(['plan', '-f', file], 'guarded');
  assert.match(planned.stdout, /update\s+network ACL g-back-acl/, planned.stdout);
  assert.equal((await run(['apply', '-f', file], 'guarded')).code, 0);
  const after = await c.networkAcls.get('g-back-acl');
  assert.deepEqual([after.id, after.subnetIds, after.rules[0].portRange], [acl.id, acl.subnetIds, { from: 22, to: 22 }]);

  // Exported, it applies back with no change.
  const exported = await run(['export', '-o', 'yaml'], 'guarded');
  assert.match(exported.stdout, /networkAcls:/);
  const path = join(dir, 'guarded-export.yaml');
  writeFileSync(path, exported.stdout);
  assert.match((await run(['plan', '-f', path], 'guarded')).stdout, /No changes/);

  // Out of the file, the ACL goes and its subnet is behind the default ACL again.
  writeFileSync(file, text('22').replace(/networkAcls:[\s\S]*?servers:/, 'servers:'));
  assert.equal((await run(['apply', '-f', file], 'guarded')).code, 0);
  assert.deepEqual(
    (await c.networkAcls.list()).map((a) => [a.name, a.isDefault, a.subnetIds.length]),
    [['g-vpc-default-acl', true, 2]],
  );
  assert.equal((await run(['destroy', '-f', file], 'guarded')).code, 0);
});

test('flow logs and DNS switches from a file: applied, no change planned again, a change replaces the log or updates the VPC, exported, removed', async () => {
  await t.client.projects.create({ name: 'watched' });
  const c = t.client.as('watched');
  const text = (traffic: string, hostnames: boolean) => `name: watched
vpcs:
  - name: w-vpc
    cidr: 10.91.0.0/16
    enableDnsHostnames: ${hostnames}
    subnets:
      - { name: w-a, cidr: 10.91.1.0/24 }
servers:
  - { name: w-web, subnet: w-a }
flowLogs:
  - { name: w-all, vpc: w-vpc, maxAggregationInterval: 60 }
  - { name: w-web-log, server: w-web, trafficType: ${traffic} }
`;
  const file = join(dir, 'watched.yaml');
  writeFileSync(file, text('REJECT', false));
  const r = await run(['apply', '-f', file], 'watched');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const logs = await c.flowLogs.list();
  assert.deepEqual(logs.map((f) => [f.name, f.resourceType, f.trafficType, f.maxAggregationInterval]).sort(), [
    ['w-all', 'vpc', 'ALL', 60],
    ['w-web-log', 'server', 'REJECT', 600],
  ]);
  assert.equal((await c.vpcs.get('w-vpc')).enableDnsHostnames, false);
  assert.match((await run(['plan', '-f', file], 'watched')).stdout, /No changes/);

  // A flow log cannot change (as in AWS): a new traffic type replaces it; a DNS switch updates the VPC in place.
  writeFileSync(file, text('ACCEPT', true));
  const planned = await run(['plan', '-f', file], 'watched');
  assert.match(planned.stdout, /update\s+vpc w-vpc/, planned.stdout);
  assert.match(planned.stdout, /replace\s+flow log w-web-log/, planned.stdout);
  assert.equal((await run(['apply', '-f', file], 'watched')).code, 0);
  assert.equal((await c.flowLogs.get('w-web-log')).trafficType, 'ACCEPT');
  assert.equal((await c.vpcs.get('w-vpc')).enableDnsHostnames, true);

  const exported = await run(['export', '-o', 'yaml'], 'watched');
  assert.match(exported.stdout, /flowLogs:/);
  const path = join(dir, 'watched-export.yaml');
  writeFileSync(path, exported.stdout);
  assert.match((await run(['plan', '-f', path], 'watched')).stdout, /No changes/);

  writeFileSync(file, text('ACCEPT', true).replace(/flowLogs:[\s\S]*$/, ''));
  assert.equal((await run(['apply', '-f', file], 'watched')).code, 0);
  assert.deepEqual(await c.flowLogs.list(), []);
  assert.equal((await run(['destroy', '-f', file], 'watched')).code, 0);
});

test("a VPC's default ACL from a file: its rules made exactly so, planned again as no change, exported; never deleted, never given subnets", async () => {
  await t.client.projects.create({ name: 'defacl' });
  const c = t.client.as('defacl');
  const text = (entry: string) => `name: defacl
vpcs:
  - name: d-vpc
    cidr: 10.92.0.0/16
    subnets:
      - { name: d-a, cidr: 10.92.1.0/24 }
networkAcls:
  - name: d-vpc-guard
    vpc: d-vpc
    default: true
${entry}`;
  const rules = `    rules:
      - { number: 100, direction: ingress, action: allow, protocol: all, cidr: 10.92.0.0/16 }
      - { number: 100, direction: egress, action: allow, protocol: all, cidr: 10.92.0.0/16 }
`;
  const file = join(dir, 'defacl.yaml');
  writeFileSync(file, text(rules));
  const r = await run(['apply', '-f', file], 'defacl');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const [def] = await c.networkAcls.list();
  assert.deepEqual(
    [def.isDefault, def.name, def.subnetIds.length, def.rules.map((x) => `${x.direction} ${x.cidr}`)],
    [true, 'd-vpc-default-acl', 1, ['ingress 10.92.0.0/16', 'egress 10.92.0.0/16']],
  );
  assert.match((await run(['plan', '-f', file], 'defacl')).stdout, /No changes/);
  const exported = await run(['export', '-o', 'yaml'], 'defacl');
  assert.match(exported.stdout, /default: true/);
  const path = join(dir, 'defacl-export.yaml');
  writeFileSync(path, exported.stdout);
  assert.match((await run(['plan', '-f', path], 'defacl')).stdout, /No changes/);
  // Subnets are refused for it, naming why; nothing changes.
  writeFileSync(file, text(`    subnets: [d-a]\n${rules}`));
  const bad = await run(['apply', '-f', file], 'defacl');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /default ACL of 'd-vpc' takes rules only/);
  // Out of the file, the default ACL stays with its rules (it goes with its VPC).
  writeFileSync(file, text('').replace(/networkAcls:[\s\S]*$/, ''));
  assert.equal((await run(['apply', '-f', file], 'defacl')).code, 0);
  assert.equal((await c.networkAcls.get(def.id)).rules.length, 2);
  assert.equal((await run(['destroy', '-f', file], 'defacl')).code, 0);
  assert.deepEqual(await c.vpcs.list(), []);
});

test('L7 policies from a file: made in the order written, planned again as no change, a change replaces one at its place, exported, removed', async () => {
  await t.client.projects.create({ name: 'routed' });
  const c = t.client.as('routed');
  const text = (apiPath: string) => `name: routed
vpcs:
  - name: r-vpc
    cidr: 10.92.0.0/16
    subnets:
      - { name: r-a, cidr: 10.92.1.0/24 }
servers:
  - { name: r-web, subnet: r-a }
loadBalancers:
  - name: r-lb
    subnet: r-a
    pools:
      - { name: r-site, protocol: http, algorithm: round_robin, members: [{ server: r-web, port: 8080 }] }
      - { name: r-api, protocol: http, algorithm: round_robin, members: [{ server: r-web, port: 8081 }] }
    listeners:
      - name: r-http
        protocol: http
        port: 8080
        defaultPool: r-site
        policies:
          - { name: r-no-admin, action: reject, rules: [{ type: path, compareType: starts_with, value: /admin }] }
          - name: r-to-api
            action: redirect_to_pool
            redirectPool: r-api
            rules:
              - { type: path, compareType: starts_with, value: ${apiPath} }
              - { type: header, key: x-env, compareType: equal_to, value: beta, invert: true }
          - { name: r-moved, action: redirect_to_url, redirectUrl: 'https://example.com/', redirectHttpCode: 301, rules: [{ type: host_name, compareType: equal_to, value: old.example.com }] }
`;
  const file = join(dir, 'routed.yaml');
  writeFileSync(file, text('/api'));
  const r = await run(['apply', '-f', file], 'routed');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const listed = async () => (await c.l7Policies.list()).map((p) => [p.position, p.name, p.action, p.rules.length]);
  assert.deepEqual(await listed(), [
    [1, 'r-no-admin', 'REJECT', 1],
    [2, 'r-to-api', 'REDIRECT_TO_POOL', 2],
    [3, 'r-moved', 'REDIRECT_TO_URL', 1],
  ]);
  assert.match((await run(['plan', '-f', file], 'routed')).stdout, /No changes/);

  writeFileSync(file, text('/v2'));
  const planned = await run(['plan', '-f', file], 'routed');
  assert.match(planned.stdout, /replace\s+L7 policy r-to-api\s+rules .*STARTS_WITH \/api.* -> .*STARTS_WITH \/v2/, planned.stdout);
  assert.equal((await run(['apply', '-f', file], 'routed')).code, 0);
  assert.deepEqual(await listed(), [
    [1, 'r-no-admin', 'REJECT', 1],
    [2, 'r-to-api', 'REDIRECT_TO_POOL', 2],
    [3, 'r-moved', 'REDIRECT_TO_URL', 1],
  ]);
  assert.equal((await c.l7Policies.get('r-to-api')).rules[0].value, '/v2');

  const exported = await run(['export', '-o', 'yaml'], 'routed');
  assert.match(exported.stdout, /policies:/);
  const path = join(dir, 'routed-export.yaml');
  writeFileSync(path, exported.stdout);
  assert.match((await run(['plan', '-f', path], 'routed')).stdout, /No changes/);

  writeFileSync(file, text('/v2').replace(/ {8}policies:[\s\S]*$/, ''));
  assert.equal((await run(['apply', '-f', file], 'routed')).code, 0);
  assert.deepEqual(await c.l7Policies.list(), []);
  assert.equal((await run(['destroy', '-f', file], 'routed')).code, 0);
});

test('TLS from a file: a TERMINATED_HTTPS listener names its certificates, an SNI change is an update, exported, planned again as no change', async () => {
  await t.client.projects.create({ name: 'tls' });
  const c = t.client.as('tls');
  for (const [name, dns] of [
    ['t-shop', 'shop.test'],
    ['t-api', 'api.shop.test'],
  ])
    await c.certificates.create({ name, selfSigned: { dnsNames: [dns] } });
  const text = (sni: string) => `name: tls
vpcs:
  - name: t-vpc
    cidr: 10.93.0.0/16
    subnets:
      - { name: t-a, cidr: 10.93.1.0/24 }
servers:
  - { name: t-web, subnet: t-a }
loadBalancers:
  - name: t-lb
    subnet: t-a
    pools:
      - { name: t-site, protocol: http, algorithm: round_robin, members: [{ server: t-web, port: 8080 }] }
    listeners:
      - { name: t-https, protocol: terminated_https, port: 8443, defaultPool: t-site, certificate: t-shop${sni} }
`;
  const file = join(dir, 'tls.yaml');
  writeFileSync(file, text(''));
  const r = await run(['apply', '-f', file], 'tls');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const l = await c.listeners.get('t-https');
  assert.equal(l.protocol, 'TERMINATED_HTTPS');
  assert.equal(l.certificateId, (await c.certificates.get('t-shop')).id);
  assert.match((await run(['plan', '-f', file], 'tls')).stdout, /No changes/);

  writeFileSync(file, text(', sniCertificates: [t-api]'));
  const planned = await run(['plan', '-f', file], 'tls');
  assert.match(planned.stdout, /update\s+listener t-https\s+SNI certificates \[\] -> \["t-api"\]/, planned.stdout);
  assert.equal((await run(['apply', '-f', file], 'tls')).code, 0);
  assert.deepEqual((await c.listeners.get('t-https')).sniCertificateIds, [(await c.certificates.get('t-api')).id]);

  const exported = await run(['export', '-o', 'yaml'], 'tls');
  assert.match(exported.stdout, /certificate: t-shop/);
  const path = join(dir, 'tls-export.yaml');
  writeFileSync(path, exported.stdout);
  assert.match((await run(['plan', '-f', path], 'tls')).stdout, /No changes/);
  // A file naming a certificate the project does not have is refused, naming it.
  writeFileSync(file, text('').replace('certificate: t-shop', 'certificate: t-none'));
  const bad = await run(['apply', '-f', file], 'tls');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /t-none/);
  assert.equal((await c.listeners.get('t-https')).certificateId, (await c.certificates.get('t-shop')).id, 'the refused file changed nothing');
  writeFileSync(file, text(''));
  assert.equal((await run(['destroy', '-f', file], 'tls')).code, 0);
});
