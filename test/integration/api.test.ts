/**
 * The REST API end to end against a real daemon on a free port: the reference lab's part 1,
 * errors as {code, message} with their statuses, projects, persistence across a restart,
 * and the OpenAPI document.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/client/client.js';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';

let t: TestDaemon;
before(async () => {
  t = await testDaemon();
});
after(async () => {
  await t?.close();
});

async function refused(p: Promise<unknown>, status: number, code: string, mentions?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    if (mentions) assert.ok(e.message.includes(mentions), `'${e.message}' should name '${mentions}'`);
    return true;
  });
}

test('reference lab part 1 through the API: ping fails, then peering and routes, then it succeeds', async () => {
  const c = t.client;
  await c.vpcs.create({ name: 'vpc-a', cidr: '192.168.6.0/24' });
  await c.vpcs.create({ name: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
  await c.subnets.create({ name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
  const a = await c.servers.create({ name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76' });
  await c.servers.create({ name: 'ecs-b', subnet: 'sub-b', ip: '192.168.5.130' });
  assert.equal(a.status, 'running');
  const fails = await c.ping({ server: 'ecs-a', destination: '192.168.5.130' });
  assert.equal(fails.reachable, false);
  assert.match(fails.output, /100% packet loss/);
  const p = await c.peerings.create({ name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  assert.equal(p.status, 'active');
  await c.routeTables.addRoute('vpc-a-main', { destination: '192.168.5.0/24', target: 'pcx-ab' });
  await c.routeTables.addRoute('vpc-b-main', { destination: '192.168.6.0/25', target: 'pcx-ab' });
  const ok = await c.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 2 });
  assert.equal(ok.reachable, true);
  assert.equal(ok.received, 2);
  assert.equal(ok.dataplane, 'virtual');
  const tr = await c.trace({ server: a.id, destination: '192.168.5.130', protocol: 'tcp', port: 8080 });
  assert.equal(tr.reachable, true);
  assert.equal(tr.text.trim().split('\n').length, 2 + 5 + 1 + 4 + 1, 'header, forward, 5 hops, return, 4 hops, verdict');
});

test('refusals carry their code, status and the value at fault', async () => {
  const c = t.client;
  await refused(c.vpcs.create({ name: 'bad', cidr: '8.8.8.0/24' }), 400, 'InvalidVpc.Range', '8.8.8.0/24');
  await refused(c.request('POST', '/v1/vpcs', { name: 'bad', cidr: 7 }), 400, 'InvalidParameterValue', 'cidr');
  await refused(c.request('POST', '/v1/vpcs', { name: 'bad', cidr: '10.0.0.0/16', colour: 'red' }), 400, 'InvalidParameterValue', 'colour');
  await refused(c.request('POST', '/v1/vpcs', { cidr: '10.0.0.0/16' }), 400, 'InvalidParameterValue', 'name');
  await refused(c.vpcs.get('nope'), 404, 'InvalidVpcID.NotFound', 'nope');
  await refused(c.subnets.create({ name: 'x', vpc: 'vpc-a', cidr: '192.168.6.0/26' }), 409, 'InvalidSubnet.Conflict', 'sub-a');
  await refused(c.vpcs.delete('vpc-a'), 409, 'DependencyViolation', 'vpc-a');
  await refused(c.request('GET', '/v1/unknown'), 404, 'NotFound', '/v1/unknown');
  assert.deepEqual(
    (await c.vpcs.list()).map((v) => v.name),
    ['vpc-a', 'vpc-b'],
    'nothing was created by the refusals',
  );
});

test("projects: a header selects the project; another project's resources look unknown; cross-project peering needs acceptance", async () => {
  const c = t.client;
  await c.projects.create({ name: 'team-b' });
  const b = c.as('team-b');
  assert.deepEqual(await b.vpcs.list(), []);
  const a = await c.vpcs.get('vpc-a');
  await refused(b.vpcs.get(a.id), 404, 'InvalidVpcID.NotFound');
  await b.vpcs.create({ name: 'vpc-z', cidr: '10.20.0.0/16' });
  const p = await c.peerings.create({ name: 'pcx-az', vpc: 'vpc-a', peerVpc: 'vpc-z', peerProject: 'team-b' });
  assert.equal(p.status, 'pending-acceptance');
  await refused(c.peerings.accept('pcx-az'), 409, 'OperationNotPermitted');
  assert.equal((await b.peerings.accept(p.id)).status, 'active');
  await refused(c.as('nobody').vpcs.list(), 404, 'InvalidProjectID.NotFound', 'nobody');
});

test('a stopped server cannot ping; the analyzer says where traffic to it stops', async () => {
  const c = t.client;
  await c.servers.stop('ecs-b');
  await refused(c.ping({ server: 'ecs-b', destination: '192.168.6.76' }), 409, 'IncorrectInstanceState', 'ecs-b');
  const tr = await c.trace({ server: 'ecs-a', destination: '192.168.5.130' });
  assert.equal(tr.reachable, false);
  assert.match(tr.blockedBy!.reason, /ecs-b \(192\.168\.5\.130\) is stopped/);
  await c.servers.start('ecs-b');
  assert.equal((await c.ping({ server: 'ecs-b', destination: '192.168.6.76' })).reachable, true);
});

test('state survives a restart of the daemon', async () => {
  const before = await t.client.routeTables.get('vpc-a-main');
  await t.restart();
  const afterRestart = await t.client.routeTables.get('vpc-a-main');
  assert.deepEqual(afterRestart, before);
  assert.equal((await t.client.ping({ server: 'ecs-a', destination: '192.168.5.130' })).reachable, true);
  assert.deepEqual(
    (await t.client.projects.list()).map((p) => p.name),
    ['default', 'team-b'],
  );
});

test('the OpenAPI document describes every endpoint', async () => {
  const doc = await t.client.request<{ openapi: string; paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json');
  assert.match(doc.openapi, /^3\./);
  for (const path of [
    '/v1/vpcs',
    '/v1/subnets/{ref}',
    '/v1/servers',
    '/v1/security-groups/{ref}/rules',
    '/v1/route-tables/{ref}/routes',
    '/v1/peerings/{ref}/accept',
    '/v1/trace',
    '/v1/ping',
  ]) {
    assert.ok(doc.paths[path], `missing ${path}`);
  }
  assert.ok(doc.paths['/v1/vpcs'].post, 'POST /v1/vpcs');
});

test("the server list (sent as stored) holds what each server shows, only the project's, as JSON", async () => {
  const c = t.client;
  await c.vpcs.create({ name: 'list-v', cidr: '10.77.0.0/16' });
  await c.subnets.create({ name: 'list-s', vpc: 'list-v', cidr: '10.77.1.0/24' });
  for (const n of ['list-1', 'list-2', 'list-3']) await c.servers.create({ name: n, subnet: 'list-s', app: n === 'list-2' ? 'web' : undefined });
  const r = await fetch(`${t.daemon.url}/v1/servers`, { headers: t.auth });
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  const listed = (await r.json()) as { id: string; name: string }[];
  const shown = await Promise.all(listed.map((s) => c.servers.get(s.id)));
  assert.deepEqual(listed, shown, 'every listed server is what GET /servers/:ref shows');
  assert.ok(['list-1', 'list-2', 'list-3'].every((n) => listed.some((s) => s.name === n)));
  // The same list, filtered (the schema path), agrees.
  assert.deepEqual(
    (await c.servers.list({ vpc: 'list-v' })).map((s) => s.id).sort(),
    listed
      .filter((s) => s.name.startsWith('list-'))
      .map((s) => s.id)
      .sort(),
  );
  // Another project sees none of them.
  const other = await fetch(`${t.daemon.url}/v1/servers`, { headers: { ...t.auth, 'x-nimbus-project': 'list-elsewhere' } });
  if (other.status === 200) assert.deepEqual(await other.json(), []);
  else assert.equal(other.status, 404);
});
