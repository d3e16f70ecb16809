/**
 * Input means exactly what was typed, and every answer is the catalogue's {code, message}:
 * octal-looking addresses, unbounded strings, contradictory fields, and what the HTTP
 * framework refuses before a route sees it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ERROR_CATALOGUE } from '../../src/core/errors.js';

let t: TestDaemon;
before(async () => {
  t = await testDaemon();
  await t.client.vpcs.create({ name: 'vpc-a', cidr: '10.20.0.0/16' });
  await t.client.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '10.20.1.0/24' });
  await t.client.servers.create({ name: 'ecs-a', subnet: 'sub-a' });
  await t.client.loadBalancers.create({ name: 'elb', subnet: 'sub-a' });
  await t.client.pools.create({ name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
  await t.client.vpcs.create({ name: 'vpc-b', cidr: '10.30.0.0/16' });
  await t.client.peerings.create({ name: 'pcx', vpc: 'vpc-a', peerVpc: 'vpc-b' });
});
after(async () => {
  await t?.close();
});

async function refused(p: Promise<unknown>, code: string, mentions?: string): Promise<void> {
  await assert.rejects(p, (e: { code: string; message: string }) => {
    assert.equal(e.code, code, e.message);
    if (mentions) assert.ok(e.message.includes(mentions), `'${e.message}' should name '${mentions}'`);
    return true;
  });
}

/** Raw bytes to the API; the whole answer. */
function raw(bytes: string): Promise<string> {
  const url = new URL(t.daemon.url);
  return new Promise((resolve) => {
    const s = connect(Number(url.port), url.hostname, () => s.write(bytes));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    setTimeout(() => s.destroy(), 3000);
  });
}

function catalogued(answer: string): { status: number; code: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  assert.ok(body.code in ERROR_CATALOGUE, `'${body.code}' is in the catalogue: ${answer}`);
  assert.equal(typeof body.message, 'string');
  return { status, code: body.code };
}

test('octal-looking addresses are refused wherever an address enters, and nothing is stored', async () => {
  await refused(t.client.vpcs.create({ name: 'oct', cidr: '012.0.0.0/16' }), 'InvalidParameterValue', '012.0.0.0/16');
  await refused(t.client.subnets.create({ name: 'oct', vpc: 'vpc-a', cidr: '10.20.010.0/24' }), 'InvalidParameterValue', '10.20.010.0/24');
  await refused(t.client.routeTables.addRoute('vpc-a-main', { destination: '010.0.0.0/16', target: 'blackhole' }), 'InvalidParameterValue', '010.0.0.0/16');
  await refused(t.client.servers.create({ name: 'oct', subnet: 'sub-a', ip: '10.20.1.010' }), 'InvalidParameterValue', '10.20.1.010');
  await refused(t.client.securityGroups.addRule('default', { direction: 'ingress', protocol: 'all', remote: '010.0.0.0/8' }), 'InvalidParameterValue');
  await refused(t.client.members.create({ pool: 'web', address: '010.20.1.5', port: 80 }), 'InvalidParameterValue', '010.20.1.5');
  assert.deepEqual(
    (await t.client.vpcs.list()).map((v) => v.name),
    ['vpc-a', 'vpc-b'],
  );
});

test('strings are bounded: descriptions at 255, names at 63, bodies at 64 kB', async () => {
  await refused(t.client.securityGroups.create({ name: 'd', description: 'x'.repeat(256) }), 'InvalidParameterValue', 'body/description');
  await refused(
    t.client.securityGroups.addRule('default', { direction: 'ingress', protocol: 'all', remote: '10.0.0.0/8', description: 'x'.repeat(900_000) }),
    'InvalidParameterValue',
    '64 kB',
  );
  await refused(t.client.vpcs.create({ name: 'n'.repeat(64), cidr: '10.9.0.0/16' }), 'InvalidParameterValue', 'body/name');
  assert.equal((await t.client.securityGroups.create({ name: 'd', description: 'x'.repeat(255) })).description.length, 255);
});

test('every field is checked whether it is used or not, and contradictory fields are refused', async () => {
  for (const address of ['-1', '::1', '300.1.1.1']) {
    await refused(t.client.members.create({ pool: 'web', server: 'ecs-a', address, port: 8080 }), 'InvalidParameterValue', address);
  }
  await refused(
    t.client.members.create({ pool: 'web', server: 'ecs-a', address: '10.20.1.2', port: 8080 }),
    'InvalidParameterValue',
    'a member is a server or an address',
  );
  await refused(
    t.client.pools.create({ name: 'p2', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin', cookieName: 'x\r\nSet-Cookie: a' }),
    'InvalidParameterValue',
    'cookieName',
  );
  await refused(
    t.client.pools.create({ name: 'p2', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin', persistence: 'http_cookie', cookieName: 'SID' }),
    'InvalidParameterValue',
    'only for APP_COOKIE',
  );
  assert.deepEqual(await t.client.members.list(), []);
  assert.equal((await t.client.pools.list()).length, 1);
});

test('link-local route destinations and a group named default are refused with their codes', async () => {
  await refused(t.client.routeTables.addRoute('vpc-a-main', { destination: '169.254.168.0/22', target: 'pcx' }), 'InvalidParameterValue', '169.254.0.0/16');
  await refused(t.client.securityGroups.create({ name: 'default' }), 'InvalidGroup.Reserved', 'default');
});

test("what the framework refuses still answers with the catalogue's {code, message}", async () => {
  const auth = `authorization: ${t.auth.authorization}\r\nconnection: close\r\n`;
  const cases: [string, number][] = [
    [`GET /v1/vpcs/%ZZ HTTP/1.1\r\nhost: 127.0.0.1\r\n${auth}\r\n`, 400],
    [`GET /v1/vpcs/${'v'.repeat(600)} HTTP/1.1\r\nhost: 127.0.0.1\r\n${auth}\r\n`, 400],
    [`GET /v1/vpcs?x=${'a'.repeat(60_000)} HTTP/1.1\r\nhost: 127.0.0.1\r\n${auth}\r\n`, 431],
    [`FOO /v1/vpcs HTTP/1.1\r\nhost: 127.0.0.1\r\n${auth}\r\n`, 400],
    [`CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n${auth}\r\n`, 405],
  ];
  for (const [bytes, status] of cases) {
    const answer = await raw(bytes);
    const got = catalogued(answer);
    assert.equal(got.status, status, `${bytes.slice(0, 40)}: ${answer.slice(0, 200)}`);
  }
});

test('inputs taken loosely before: control and direction characters, web:08080, a body where none is taken, a deep file, host bits', async () => {
  for (const bad of ['a\0b', 'line\r\nbreak', 'red\x1b[31m', 'abc\u202Egnp.exe']) {
    await refused(t.client.securityGroups.create({ name: `g${bad.length}`, description: bad }), 'InvalidParameterValue', 'description');
  }
  assert.equal((await t.client.securityGroups.create({ name: 'tabbed', description: 'a\ttab is fine' })).description, 'a\ttab is fine');
  await refused(t.client.servers.create({ name: 'zero-port', subnet: 'sub-a', app: 'web:08080' }), 'InvalidParameterValue', 'web:08080');
  // A call that takes no body refuses one, however deep.
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  for (const path of ['/v1/servers/ecs-a/stop', '/v1/servers/ecs-a/start']) {
    const r = await fetch(t.daemon.url + path, { method: 'POST', headers: { ...t.auth, 'content-type': 'application/json' }, body: deep });
    assert.equal(r.status, 400, path);
    assert.match(((await r.json()) as { message: string }).message, /takes no body/);
  }
  assert.equal((await t.client.servers.get('ecs-a')).status, 'running', 'nothing was done');
  // A topology file nested 10,000 deep: a problem said plainly, not a stack overflow.
  await assert.rejects(t.client.topology.plan(`name: deep\nvpcs: ${'['.repeat(10000)}${']'.repeat(10000)}\n`), /nested too deeply/);
});
