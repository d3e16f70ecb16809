/**
 * L7 policies end to end on both layer-7 engines (Nimbus's own and HAProxy), on the reference
 * lab's load balancer: every action, every rule type, inverted rules, ordering across actions,
 * a pool whose every member is down, the access log naming the policy, the CLI, and Octavia's
 * refusals through the API.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { cli, type TestDaemon } from '../helpers/daemon.js';
import { waitActive } from '../helpers/lab.js';
import { L7_ENGINES, labOn } from '../helpers/engines.js';
import { ApiError } from '../../src/client/client.js';

/** One GET on a connection of its own: status, location and the server that answered (from the lab's page). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; location?: string; server?: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, server: /Hello from (ecs-[ab])/.exec(body)?.[1] }));
    })
      .on('error', reject)
      .end();
  });
}

for (const { engine, skip } of L7_ENGINES)
  describe(`L7 policies on the ${engine} engine`, { skip }, () => {
    let t: TestDaemon;
    let base: string;
    before(async () => {
      ({ t, base } = await labOn(engine));
      // Pools of one server each, and one whose only member is down.
      for (const [pool, server] of [
        ['only-a', 'ecs-a'],
        ['only-b', 'ecs-b'],
        ['down', 'ecs-a'],
      ]) {
        await t.client.pools.create({ name: pool, loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
        await t.client.members.create({ name: `${pool}-m`, pool, server, port: 8080 });
      }
      await t.client.members.update('down-m', { adminStateUp: false });
    });
    after(async () => {
      await t?.close();
    });

    test('the policy table: actions, rule types, comparisons, inversion, order across actions, a pool with every member down', async () => {
      const p = (action: string, rules: { type: string; compareType: string; value: string; key?: string; invert?: boolean }[], extra = {}) =>
        t.client.l7Policies.create({ listener: 'http80', action, rules, ...extra });
      await p('reject', [{ type: 'path', compareType: 'starts_with', value: '/admin' }], { name: 'no-admin' });
      await p('redirect_to_url', [{ type: 'host_name', compareType: 'equal_to', value: 'old.example.com' }], {
        redirectUrl: 'https://new.example.com/welcome',
        redirectHttpCode: 301,
      });
      await p('redirect_prefix', [{ type: 'header', key: 'x-move', compareType: 'equal_to', value: 'yes' }], {
        redirectPrefix: 'https://m.example.com',
        redirectHttpCode: 308,
      });
      await p('redirect_to_pool', [{ type: 'path', compareType: 'starts_with', value: '/api' }], { redirectPool: 'only-a', name: 'api' });
      await p('redirect_to_pool', [{ type: 'cookie', key: 'lane', compareType: 'equal_to', value: 'beta' }], { redirectPool: 'only-b' });
      await p('redirect_to_pool', [{ type: 'file_type', compareType: 'equal_to', value: 'png' }], { redirectPool: 'only-b' });
      await p(
        'redirect_to_pool',
        [
          { type: 'header', key: 'x-env', compareType: 'regex', value: '^(dev|test)$' },
          { type: 'path', compareType: 'contains', value: 'skip', invert: true },
        ],
        { redirectPool: 'only-a' },
      );
      await p('redirect_to_pool', [{ type: 'path', compareType: 'ends_with', value: '.txt' }], { redirectPool: 'only-b' });
      await p('redirect_to_pool', [{ type: 'path', compareType: 'starts_with', value: '/down' }], { redirectPool: 'down' });
      // Put at position 1: it comes before the others, which move down.
      await p('redirect_to_pool', [{ type: 'host_name', compareType: 'ends_with', value: '.b.example' }], { redirectPool: 'only-b', position: 1 });
      const order = (await t.client.l7Policies.list({ listener: 'http80' })).map((x) => [x.position, x.action]);
      assert.deepEqual(
        order.map(([pos]) => pos),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
      assert.equal(order[0][1], 'REDIRECT_TO_POOL');
      assert.equal(order[1][1], 'REJECT');
      await waitActive(t.client, 'elb');

      const cases: [string, Record<string, string>, { status: number; location?: string; server?: string }][] = [
        ['/admin', {}, { status: 403 }],
        ['/admin/api', {}, { status: 403 }], // REJECT (2) before the /api pool (5)
        ['/x', { host: 'old.example.com' }, { status: 301, location: 'https://new.example.com/welcome' }],
        ['/api', { host: 'old.example.com' }, { status: 301, location: 'https://new.example.com/welcome' }], // a redirect before a pool
        ['/a/b?c=1', { 'x-move': 'yes' }, { status: 308, location: 'https://m.example.com/a/b?c=1' }],
        ['/api/v1', {}, { status: 200, server: 'ecs-a' }],
        ['/api/logo.png', {}, { status: 200, server: 'ecs-a' }], // /api (5) before the file type (7)
        ['/img/logo.png', {}, { status: 200, server: 'ecs-b' }],
        ['/page', { cookie: 'lane=beta' }, { status: 200, server: 'ecs-b' }],
        ['/page', { 'x-env': 'test' }, { status: 200, server: 'ecs-a' }],
        ['/notes.txt', { 'x-env': 'dev' }, { status: 200, server: 'ecs-a' }], // both rules of (8) match first
        ['/skip/notes.txt', { 'x-env': 'dev' }, { status: 200, server: 'ecs-b' }], // the inverted rule fails: on to (9)
        ['/down', {}, { status: 503 }],
        ['/api', { host: 'shop.b.example' }, { status: 200, server: 'ecs-b' }], // position 1
      ];
      for (const [path, headers, want] of cases) {
        const got = await get(`${base}${path}`, headers);
        assert.deepEqual(
          { ...got, ...(want.server ? {} : { server: undefined }) },
          { location: undefined, server: undefined, ...want },
          `${path} ${JSON.stringify(headers)}`,
        );
      }
      // A member of a pool only a policy sends to, brought up (HAProxy: through its runtime API): it serves.
      await t.client.members.update('down-m', { adminStateUp: true });
      await waitActive(t.client, 'elb');
      assert.equal((await get(`${base}/down`)).server, 'ecs-a');
      // The rest goes to the default pool: both servers answer.
      const seen = new Set<string | undefined>();
      for (let i = 0; i < 6; i++) seen.add((await get(`${base}/other-${i}`)).server);
      assert.deepEqual([...seen].sort(), ['ecs-a', 'ecs-b']);
    });

    test("AWS's conditions and answers: a query parameter, the whole query, the client's address, fixed responses", async () => {
      await t.client.listeners.create({ name: 'q8081', loadBalancer: 'elb', protocol: 'http', port: 8081, defaultPool: 'only-a' });
      const p = (name: string, action: string, rules: { type: string; compareType: string; value: string; key?: string; invert?: boolean }[], extra = {}) =>
        t.client.l7Policies.create({ listener: 'q8081', name, action, rules, ...extra });
      await p(
        'maint',
        'fixed_response',
        [
          { type: 'path', compareType: 'starts_with', value: '/maint' },
          { type: 'source_ip', compareType: 'equal_to', value: '127.0.0.0/8' },
        ],
        { fixedResponse: { statusCode: 503, contentType: 'application/json', body: '{"maintenance": "until 10:00 $HOME"}\n' } },
      );
      await p('lane', 'redirect_to_pool', [{ type: 'query_string', key: 'lane', compareType: 'equal_to', value: 'beta' }], { redirectPool: 'only-b' });
      await p('ten', 'fixed_response', [{ type: 'source_ip', compareType: 'equal_to', value: '10.0.0.0/8' }], {
        fixedResponse: { statusCode: 200, body: 'inside ten' },
      });
      await p('ping', 'fixed_response', [{ type: 'query_string', compareType: 'contains', value: 'ping=1' }], { fixedResponse: { statusCode: 204 } });
      await waitActive(t.client, 'elb');
      const url = `http://${new URL(base).hostname}:8081`;
      const full = (path: string) =>
        new Promise<{ status: number; type?: string; body: string }>((resolve, reject) => {
          request(`${url}${path}`, { agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
          })
            .on('error', reject)
            .end();
        });
      assert.deepEqual(await full('/maint/x'), { status: 503, type: 'application/json', body: '{"maintenance": "until 10:00 $HOME"}\n' });
      assert.match((await full('/p?x=1&lane=beta')).body, /Hello from ecs-b/, 'lane=beta: the policy pool');
      assert.match((await full('/p?lane=beta2')).body, /Hello from ecs-a/, 'lane=beta2 is not beta: the default pool');
      assert.match((await full('/p')).body, /Hello from ecs-a/, 'a client outside 10.0.0.0/8 is not answered by "ten"');
      assert.deepEqual(await full('/p?a=2&ping=1'), { status: 204, type: undefined, body: '' });
      await t.client.listeners.delete('q8081');
    });

    test('the access log names the policy that decided', async () => {
      const api = await t.client.l7Policies.get('api');
      await get(`${base}/api/logged`);
      await get(`${base}/admin/logged`);
      let lines: { path?: string; policy?: string; status: number | null }[] = [];
      for (let i = 0; i < 100; i++) {
        lines = (await t.client.loadBalancers.logs('elb', 20)).requests;
        if (lines.some((l) => l.path === '/admin/logged')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const noAdmin = await t.client.l7Policies.get('no-admin');
      assert.equal(lines.find((l) => l.path === '/api/logged')?.policy, api.id);
      assert.deepEqual(
        lines.filter((l) => l.path === '/admin/logged').map((l) => [l.status, l.policy]),
        [[403, noAdmin.id]],
      );
      assert.equal(lines.find((l) => l.path?.startsWith('/other-'))?.policy, undefined, 'none named when the default pool took it');
      // /metrics counts the requests each policy decided (within a second: the engine reports every second).
      const count = (text: string, id: string) =>
        Number(new RegExp(`^nimbus_lb_policy_requests_total\\{[^}]*policy="${id}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      let metrics = '';
      for (let i = 0; i < 100; i++) {
        metrics = await t.client.metrics();
        if (count(metrics, noAdmin.id) >= 3 && count(metrics, api.id) >= 4) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      // The table's requests: /admin and /admin/api, then /admin/logged (3); /api/v1, /api/logo.png, then /api/logged (at least 3, and /api on the CLI's test comes later).
      assert.equal(count(metrics, noAdmin.id), 3, metrics);
      assert.ok(count(metrics, api.id) >= 3, metrics);
    });

    test('the CLI: create with rules, list in order with names, move, rules, delete', async () => {
      const created = await cli(t.daemon.url, [
        'l7policy',
        'create',
        '--listener',
        'http80',
        '--action',
        'redirect_to_pool',
        '--pool',
        'only-b',
        '--rule',
        'header:x-cli equal_to 1',
        '--rule',
        'not path starts_with /no',
        '--name',
        'from-cli',
        '--position',
        '1',
      ]);
      assert.equal(created.code, 0, created.stderr);
      const list = await cli(t.daemon.url, ['l7policy', 'list', '--listener', 'http80']);
      assert.match(list.stdout, /^POSITION\s+NAME\s+ID\s+LISTENER\s+ACTION\s+TO\s+RULES/);
      assert.match(
        list.stdout,
        /\n1\s+from-cli\s+l7p-[0-9a-f]+\s+http80\s+REDIRECT_TO_POOL\s+pool only-b\s+HEADER:x-cli EQUAL_TO 1; not PATH STARTS_WITH \/no\n/,
      );
      assert.match(list.stdout, /\n2\s+\S+\s+l7p-[0-9a-f]+\s+http80\s+REDIRECT_TO_POOL\s+pool only-b\s+HOST_NAME ENDS_WITH \.b\.example\n/);
      await waitActive(t.client, 'elb');
      assert.equal((await get(`${base}/api`, { 'x-cli': '1' })).server, 'ecs-b');
      const moved = await cli(t.daemon.url, ['l7policy', 'move', 'from-cli', '--position', '99', '-o', 'json']);
      assert.equal(moved.code, 0, moved.stderr);
      assert.equal(JSON.parse(moved.stdout).position, 11, 'past the end is the end');
      const added = await cli(t.daemon.url, ['l7rule', 'add', '--policy', 'from-cli', 'cookie:k', 'contains', 'v', '-o', 'json']);
      assert.equal(added.code, 0, added.stderr);
      const rules = await cli(t.daemon.url, ['l7rule', 'list', '--policy', 'from-cli']);
      assert.match(rules.stdout, /COOKIE:k CONTAINS v/);
      const gone = await cli(t.daemon.url, ['l7rule', 'delete', '--policy', 'from-cli', JSON.parse(added.stdout).id]);
      assert.equal(gone.code, 0, gone.stderr);
      const bad = await cli(t.daemon.url, ['l7policy', 'create', '--listener', 'http80', '--action', 'reject', '--rule', 'path regex ^(a+)+$']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /InvalidParameterValue.*exponential time/);
      assert.equal((await cli(t.daemon.url, ['l7policy', 'delete', 'from-cli'])).code, 0);
    });

    test("Octavia's refusals, and what a refusal leaves: nothing", async () => {
      const before = await t.client.l7Policies.list();
      const refused = async (body: Record<string, unknown>, code: string, why: RegExp) => {
        const err = await t.client.l7Policies.create({ listener: 'http80', action: 'reject', ...body } as never).catch((e: unknown) => e);
        assert.ok(err instanceof ApiError, JSON.stringify(body));
        assert.equal(err.code, code, err.message);
        assert.match(err.message, why);
      };
      await refused({ action: 'forward' }, 'InvalidParameterValue', /action: 'forward' must be REDIRECT_TO_POOL/);
      await refused({ action: 'redirect_to_pool' }, 'InvalidParameterValue', /redirectPool: REDIRECT_TO_POOL needs the pool/);
      await refused({ action: 'redirect_to_url', redirectUrl: 'ftp://x' }, 'InvalidParameterValue', /redirectUrl: 'ftp:\/\/x' must be an http or https URL/);
      await refused({ action: 'redirect_to_url', redirectUrl: 'https://x', redirectHttpCode: 305 }, 'InvalidParameterValue', /redirectHttpCode: '305'/);
      await refused({ redirectUrl: 'https://x' }, 'InvalidParameterValue', /redirectUrl: not taken by action REJECT/);
      await refused({ position: 0 }, 'InvalidParameterValue', /position: '0'/);
      await refused({ action: 'redirect_to_pool', redirectPool: 'nope' }, 'InvalidPoolID.NotFound', /nope/);
      await t.client.pools.create({ name: 'tcp-pool', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'round_robin' });
      await refused({ action: 'redirect_to_pool', redirectPool: 'tcp-pool' }, 'InvalidPool.ProtocolMismatch', /tcp-pool/);
      await t.client.listeners.create({ name: 'raw', loadBalancer: 'elb', protocol: 'tcp', port: 18097, defaultPool: 'tcp-pool' });
      await refused({ listener: 'raw' }, 'InvalidListener.Protocol', /listener 'raw' is TCP/);
      assert.deepEqual(await t.client.l7Policies.list(), before, 'nothing was added');
      // A pool a policy sends to cannot go; a listener takes its policies with it.
      const err = await t.client.pools.delete('only-a').catch((e: unknown) => e);
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'DependencyViolation');
      await t.client.listeners.delete('http80');
      assert.deepEqual(await t.client.l7Policies.list(), []);
    });
  });
