/**
 * Who may do what, for every endpoint of the OpenAPI document (so a new endpoint cannot be
 * forgotten) × {no token, the project's own token, another project's token, the admin's}; and
 * what a web page, a stranger's Host header or another project can learn.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { configDir } from '../../src/client/credentials.js';
import type { NimbusClient } from '../../src/client/client.js';

let t: TestDaemon;
let own: NimbusClient; // a project token of `default`
let other: NimbusClient; // a project token of `team-b`
let ids: Record<string, string>;
const ADMIN_ONLY = new Set([
  'POST /v1/projects',
  'PATCH /v1/projects/{ref}',
  'DELETE /v1/projects/{ref}',
  'GET /v1/tokens',
  'POST /v1/tokens',
  'DELETE /v1/tokens/{ref}',
  'GET /v1/dataplane/plan',
  'POST /v1/dataplane/sync',
  'POST /v1/internet/hosts',
  'DELETE /v1/internet/hosts/{ref}',
  'GET /v1/chassis',
  'GET /v1/chassis/{ref}',
  'POST /v1/chassis',
  'DELETE /v1/chassis/{ref}',
]);

before(async () => {
  t = await testDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'vpc-a', cidr: '192.168.6.0/24' });
  await c.vpcs.create({ name: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
  await c.subnets.create({ name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
  const ecs = await c.servers.create({ name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76' });
  const sg = await c.securityGroups.addRule('default', { direction: 'ingress', protocol: 'tcp', ports: '22', remote: '10.0.0.0/8' });
  const rt = await c.routeTables.create({ name: 'rt-x', vpc: 'vpc-a' });
  const pcx = await c.peerings.create({ name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  const lb = await c.loadBalancers.create({ name: 'elb', subnet: 'sub-b' });
  const pool = await c.pools.create({ name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
  const lsn = await c.listeners.create({ name: 'l1', loadBalancer: 'elb', protocol: 'http', port: 18081, defaultPool: 'web' });
  const mbr = await c.members.create({ name: 'm1', pool: 'web', server: 'ecs-a', port: 8080 });
  const hm = await c.healthMonitors.create({ pool: 'web', type: 'tcp' });
  const igw = await c.internetGateways.create({ name: 'igw-a', vpc: 'vpc-a' });
  const eip = await c.elasticIps.create({ name: 'eip-a' });
  await c.elasticIps.create({ name: 'eip-nat' });
  const nat = await c.natGateways.create({ name: 'nat-a', subnet: 'sub-a', elasticIp: 'eip-nat' });
  const acl = await c.networkAcls.create({ name: 'acl-a', vpc: 'vpc-a' });
  const fl = await c.flowLogs.create({ name: 'fl-a', vpc: 'vpc-a' });
  const l7 = await c.l7Policies.create({
    name: 'l7-a',
    listener: 'l1',
    action: 'reject',
    rules: [{ type: 'path', compareType: 'starts_with', value: '/admin' }],
  });
  const cert = await c.certificates.create({ name: 'cert-a', selfSigned: { dnsNames: ['shop.example'] } });
  const teamB = await c.projects.create({ name: 'team-b' });
  const tokA = await c.tokens.create({ name: 'a-token', project: 'default' });
  const tokB = await c.tokens.create({ name: 'b-token', project: 'team-b' });
  own = c.withToken(tokA.secret);
  other = c.withToken(tokB.secret);
  const project = (await c.projects.get('default')).id;
  ids = {
    vpcs: (await c.vpcs.get('vpc-a')).id,
    subnets: (await c.subnets.get('sub-a')).id,
    servers: ecs.id,
    'security-groups': sg.id,
    ruleId: sg.rules[sg.rules.length - 1].id,
    'route-tables': rt.id,
    peerings: pcx.id,
    'load-balancers': lb.id,
    listeners: lsn.id,
    pools: pool.id,
    members: mbr.id,
    'health-monitors': hm.id,
    'internet-gateways': igw.id,
    'elastic-ips': eip.id,
    'nat-gateways': nat.id,
    'network-acls': acl.id,
    'flow-logs': fl.id,
    l7policies: l7.id,
    certificates: cert.id,
    projects: project,
    tokens: tokA.token.id,
    teamB: teamB.id,
  };
});
after(async () => {
  await t?.close();
});

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function send(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(path, t.daemon.url);
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A body that passes validation, so that the answer is about who asks, not what was sent. */
function bodyFor(method: string, path: string): unknown {
  if (method === 'GET' || method === 'DELETE') return undefined;
  if (path.startsWith('/v1/network-acls/') && path.endsWith('/rules'))
    return { number: 1, direction: 'ingress', action: 'allow', protocol: 'tcp', cidr: '0.0.0.0/0' };
  if (path.startsWith('/v1/l7policies/') && path.endsWith('/rules')) return { type: 'path', compareType: 'equal_to', value: '/x' };
  if (path.endsWith('/rules')) return { direction: 'ingress', protocol: 'tcp', remote: '0.0.0.0/0' };
  if (path.endsWith('/routes')) return { destination: '10.99.0.0/16', target: 'blackhole' };
  if (path.endsWith('/associations')) return { subnet: 'sub-a' };
  if (path.endsWith('/attach')) return { vpc: 'vpc-b' };
  if (path.endsWith('/associate')) return { server: 'ecs-a' };
  if (path === '/v1/internet/hosts' && method === 'POST') return { name: 'h1' };
  if (path.endsWith('/exec')) return { argv: ['true'] };
  if (path.endsWith('/dns')) return { allow: true };
  if (path === '/v1/trace' || path === '/v1/ping') return { server: ids.servers, destination: '192.168.6.77' };
  if (path.includes('{ref}') && method === 'PATCH') return {};
  return {};
}

function fill(path: string, refs: Record<string, string>, method = 'GET'): string {
  const kind = path.split('/')[2];
  const filled = path.replace('{ref}', encodeURIComponent(refs[kind] ?? 'nosuch')).replace('{ruleId}', refs.ruleId ?? 'nosuch');
  // The one required query parameter, so that the answer is about who asks.
  if (method === 'DELETE' && path.startsWith('/v1/network-acls/') && path.endsWith('/rules')) return `${filled}?direction=ingress&number=1`;
  return method === 'DELETE' && path.endsWith('/routes') ? `${filled}?destination=10.99.0.0/16` : filled;
}

async function operations(): Promise<[string, string][]> {
  const doc = JSON.parse((await send('GET', '/openapi.json')).body) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m): [string, string] => [m.toUpperCase(), path]));
}

test('every endpoint refuses a request without a token (401 AuthFailure), but the open ones', async () => {
  const ops = await operations();
  assert.ok(ops.length > 60, `the document lists ${ops.length} operations`);
  for (const [method, path] of ops) {
    const r = await send(method, fill(path, ids, method), { body: bodyFor(method, path) });
    assert.equal(r.status, 401, `${method} ${path}: ${r.body}`);
    assert.equal(JSON.parse(r.body).code, 'AuthFailure');
  }
  for (const path of ['/openapi.json', '/healthz']) assert.equal((await send('GET', path)).status, 200, path);
  assert.equal((await send('GET', '/metrics')).status, 401);
  assert.equal((await send('GET', '/v1/vpcs', { token: 'nbt_not-a-token' })).status, 401);
});

test("another project's token: its resources look unknown (404), admin operations are refused (403), lists show none of them", async () => {
  const secret = other.token!;
  for (const [method, path] of await operations()) {
    const key = `${method} ${path}`;
    const r = await send(method, fill(path, ids, method), { token: secret, body: bodyFor(method, path) });
    const code = r.body ? JSON.parse(r.body).code : '';
    if (ADMIN_ONLY.has(key)) assert.equal(r.status, 403, `${key}: ${r.body}`);
    else if (path.includes('{ref}') || path === '/v1/trace' || path === '/v1/ping') assert.equal(r.status, 404, `${key}: ${r.body}`);
    else if (method === 'GET') {
      assert.equal(r.status, 200, `${key}: ${r.body}`);
      for (const [kind, id] of Object.entries(ids)) if (kind !== 'teamB') assert.ok(!r.body.includes(id), `${key} shows ${kind} ${id} of another project`);
    } else if (key === 'POST /v1/credentials/aws') {
      // Its own AWS key: for its own project, never the other one's.
      assert.equal(r.status, 200, `${key}: ${r.body}`);
      assert.equal(JSON.parse(r.body).project, 'team-b', r.body);
    } else assert.ok(r.status === 400 || r.status === 201 || r.status === 404, `${key}: ${r.status} ${code}`);
    assert.notEqual(r.status, 401, key);
  }
  assert.equal((await send('GET', '/metrics', { token: secret })).status, 403);
});

test("the project's own token reaches its resources; the admin's reaches everything", async () => {
  for (const [who, secret] of [
    ['own', own.token!],
    ['admin', t.client.token!],
  ] as const) {
    for (const [method, path] of await operations()) {
      const key = `${method} ${path}`;
      // Reads on the fixtures; changes on names that do not exist, so the fixtures stay.
      const refs = method === 'GET' ? ids : {};
      const r = await send(method, fill(path, refs, method), { token: secret, body: bodyFor(method, path) });
      if (who === 'own' && ADMIN_ONLY.has(key)) {
        assert.equal(r.status, 403, `${who} ${key}: ${r.body}`);
        continue;
      }
      assert.ok(r.status !== 401 && r.status !== 403, `${who} ${key}: ${r.status} ${r.body}`);
      // (This daemon's plane has no chassis: the one it names is not found.)
      if (key === 'GET /v1/chassis/{ref}') assert.equal(JSON.parse(r.body).code, 'InvalidChassis.NotFound', r.body);
      else if (method === 'GET' && !path.endsWith('/logs')) assert.equal(r.status, 200, `${who} ${key}: ${r.body}`);
    }
  }
  assert.equal((await send('GET', '/metrics', { token: t.client.token! })).status, 200);
});

test('a project token cannot act for another project by naming it', async () => {
  const r = await send('GET', '/v1/vpcs', { token: own.token!, headers: { 'x-nimbus-project': 'team-b' } });
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(r.body).code, 'InvalidProjectID.NotFound');
  assert.deepEqual(
    (await own.projects.list()).map((p) => p.name),
    ['default'],
  );
});

test('a revoked token is refused at once', async () => {
  const issued = await t.client.tokens.create({ name: 'short-lived', project: 'default' });
  assert.equal((await send('GET', '/v1/vpcs', { token: issued.secret })).status, 200);
  await t.client.tokens.revoke('short-lived');
  assert.equal((await send('GET', '/v1/vpcs', { token: issued.secret })).status, 401);
  assert.ok(!(await t.client.tokens.list()).some((x) => x.name === 'short-lived'));
  assert.ok(!JSON.stringify(await t.client.tokens.list()).includes('hash'), 'no hash in the list');
});

test('a web page cannot drive the API: foreign Host refused, no CORS grant, no text/plain body', async () => {
  const rebound = await send('GET', '/v1/vpcs', { token: t.client.token!, headers: { host: 'evil.example:7700' } });
  assert.equal(rebound.status, 403);
  assert.equal(JSON.parse(rebound.body).code, 'HostNotAllowed');
  const simple = await send('POST', `/v1/servers/${ids.servers}/stop`, { headers: { 'content-type': 'text/plain', origin: 'http://evil.example' } });
  assert.equal(simple.status, 401, 'a simple cross-site request carries no token');
  assert.equal(simple.headers['access-control-allow-origin'], undefined);
  const preflight = await send('OPTIONS', '/v1/vpcs', { headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  const plain = await send('POST', `/v1/servers/${ids.servers}/stop`, { token: t.client.token!, headers: { 'content-type': 'text/plain' } });
  assert.notEqual(plain.status, 200, 'a text/plain body is not parsed');
  assert.equal((await t.client.servers.get('ecs-a')).status, 'running');
});

test("the admin token is kept mode 0600 in the data directory and in the user's credentials", () => {
  assert.equal(statSync(join(t.dataDir, 'admin-token')).mode & 0o777, 0o600);
  assert.equal(statSync(join(configDir(), 'credentials.json')).mode & 0o777, 0o600);
});

test('quotas bind a project token: VpcLimitExceeded at the default of 5, until an admin raises it', async () => {
  const b = other;
  for (let i = 0; i < 5; i++) await b.vpcs.create({ name: `q${i}`, cidr: `10.${i}.0.0/16` });
  await assert.rejects(
    b.vpcs.create({ name: 'q5', cidr: '10.5.0.0/16' }),
    (e: { code: string; message: string }) => e.code === 'VpcLimitExceeded' && /quota of vpcs is 5/.test(e.message),
  );
  await t.client.projects.update('team-b', { quotas: { vpcs: 6 } });
  assert.equal((await b.vpcs.create({ name: 'q5', cidr: '10.5.0.0/16' })).name, 'q5');
  await assert.rejects(b.projects.update('team-b', { quotas: { vpcs: 100 } }), (e: { code: string }) => e.code === 'UnauthorizedOperation');
});

test('a project token runs only the built-in web app, never a command', async () => {
  await other.subnets.create({ name: 'qs', vpc: 'q0', cidr: '10.0.1.0/24' });
  await assert.rejects(other.servers.create({ name: 'x', subnet: 'qs', app: 'sh -c id' }), (e: { code: string }) => e.code === 'UnauthorizedOperation');
  assert.equal((await other.servers.create({ name: 'x', subnet: 'qs', app: 'web' })).app, 'web');
});

test('a peering request towards another project tells the requester nothing of it', async () => {
  const realVpc = ids.vpcs;
  const pendingReal = await other.peerings.create({ name: 'to-real', vpc: 'q0', peerVpc: realVpc, peerProject: ids.projects });
  const pendingFake = await other.peerings.create({ name: 'to-fake', vpc: 'q1', peerVpc: 'vpc-0000000000000000', peerProject: ids.projects });
  const overlapping = await other.peerings.create({
    name: 'to-overlap',
    vpc: 'q2',
    peerVpc: (await t.client.vpcs.get('vpc-b')).id,
    peerProject: 'no-such-project',
  });
  for (const p of [pendingReal, pendingFake, overlapping]) assert.equal(p.status, 'pending-acceptance');
  // The accepter sees the request by id, with the requester's ids and not its name for it.
  const seen = (await own.peerings.list()).find((p) => p.id === pendingReal.id)!;
  assert.equal(seen.name, pendingReal.id);
  assert.equal(seen.requesterVpcId, (await other.vpcs.get('q0')).id);
  assert.equal((await own.peerings.accept(pendingReal.id)).status, 'active');
});

test('a peering request naming an existing project answers exactly as one naming a project that does not exist', async () => {
  const real = await other.peerings.create({ name: 'oracle-real', vpc: 'q3', peerVpc: 'vpc-0000000000000001', peerProject: 'default' });
  const fake = await other.peerings.create({ name: 'oracle-fake', vpc: 'q4', peerVpc: 'vpc-0000000000000001', peerProject: 'no-such-one' });
  const shape = (p: Record<string, unknown>, named: string) => ({
    ...p,
    id: 'x',
    name: 'x',
    requesterVpcId: 'x',
    createdAt: 'x',
    accepterProjectId: p.accepterProjectId === named ? 'as named' : p.accepterProjectId,
  });
  assert.deepEqual(shape(real, 'default'), shape(fake, 'no-such-one'));
  assert.deepEqual(shape(await other.peerings.get('oracle-real'), 'default'), shape(await other.peerings.get('oracle-fake'), 'no-such-one'));
  const listed = await other.peerings.list();
  const r = listed.find((p) => p.id === real.id)!;
  assert.equal(r.accepterProjectId, 'default', 'the listing does not give the project id away either');
  const err = await other.peerings.accept(real.id).catch((e: { message: string }) => e);
  assert.doesNotMatch(String((err as { message: string }).message), /proj-/);
});

test("from the internet a project traces to its own public IPs only: another project's would be explained hop by hop", async () => {
  const ip = (await t.client.elasticIps.get('eip-a')).publicIp;
  const theirs = await send('POST', '/v1/trace', { token: other.token!, body: { server: 'internet', destination: ip, protocol: 'tcp', port: 80 } });
  assert.equal(theirs.status, 400, theirs.body);
  assert.match(JSON.parse(theirs.body).message, /is not a public IP of this project/);
  assert.doesNotMatch(theirs.body, /vpc-a|sub-a|ecs-a/);
  const mine = await send('POST', '/v1/trace', { token: own.token!, body: { server: 'internet', destination: ip, protocol: 'tcp', port: 80 } });
  assert.equal(mine.status, 200, mine.body);
  const host = await send('POST', '/v1/trace', { token: other.token!, body: { server: 'internet', destination: '203.0.113.10', protocol: 'icmp' } });
  assert.equal(host.status, 200, host.body);
});
