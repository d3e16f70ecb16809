/**
 * The engine end to end on loopback, with real back ends: balancing, persistence,
 * forwarding headers, keep-alive both ways, retries, streamed bodies, WebSocket upgrade,
 * reconfiguration without drops, health checks, the TCP listener and strict refusals.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from './engine.js';
import { backend, bodyOf, closeAll, engineWith, freePort, get, member, randomBytesOf, raw, slowRead, track } from '../../test/helpers/engine.js';

after(closeAll);

test('round robin alternates and members see X-Forwarded-For, -Proto and -Port', async () => {
  const [a, b] = [await backend('a'), await backend('b')];
  const { url, port } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a), member(b)], health: null });
  const bodies = [];
  for (let i = 0; i < 4; i++) bodies.push((await get(`${url}/`)).body);
  assert.deepEqual(bodies, ['a', 'b', 'a', 'b']);
  const h = a.seen[0];
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-port'], String(port));
  await get(`${url}/`, { 'x-forwarded-for': '203.0.113.9' });
  assert.equal(a.seen.at(-1)!['x-forwarded-for'], '203.0.113.9, 127.0.0.1', 'an existing X-Forwarded-For is extended');
});

test('keep-alive to members: many requests reuse few member connections', async () => {
  const a = await backend('ka');
  const { url } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  for (let i = 0; i < 20; i++) assert.equal((await get(`${url}/x`)).body, 'ka');
  assert.equal(a.seen.length, 20);
  assert.ok(a.connections <= 2, `member connections: ${a.connections}`);
});

test('inserted-cookie persistence pins a client; without the cookie round robin goes on', async () => {
  const [a, b] = [await backend('ca'), await backend('cb')];
  const { url } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: { type: 'HTTP_COOKIE' }, members: [member(a), member(b)], health: null });
  const first = await get(`${url}/`);
  const cookie = first.headers.get('set-cookie')!;
  assert.match(cookie, /^NIMBUSLB=c[ab]; path=\/; HttpOnly$/);
  const pinned = cookie.slice('NIMBUSLB='.length, cookie.indexOf(';'));
  for (let i = 0; i < 6; i++) {
    const r = await get(`${url}/`, { cookie: `other=1; NIMBUSLB=${pinned}` });
    assert.equal(r.body, pinned);
    assert.equal(r.headers.get('set-cookie'), null, 'a pinned request gets no new cookie');
  }
  const fresh = [(await get(`${url}/`)).body, (await get(`${url}/`)).body];
  assert.deepEqual(fresh.sort(), ['ca', 'cb']);
});

test('application-cookie persistence follows the cookie the member set', async () => {
  const [a, b] = [await backend('aa'), await backend('ab')];
  const { url } = await engineWith({
    algorithm: 'ROUND_ROBIN',
    persistence: { type: 'APP_COOKIE', cookieName: 'JSESSIONID' },
    members: [member(a), member(b)],
    health: null,
  });
  const login = await get(`${url}/login`);
  const session = login.headers.get('set-cookie')!.split(';')[0];
  for (let i = 0; i < 5; i++) assert.equal((await get(`${url}/`, { cookie: session })).body, login.body);
});

test('source-IP persistence and the SOURCE_IP algorithm pin a client address', async () => {
  const [a, b] = [await backend('sa'), await backend('sb')];
  for (const pool of [
    { algorithm: 'ROUND_ROBIN' as const, persistence: { type: 'SOURCE_IP' as const } },
    { algorithm: 'SOURCE_IP' as const, persistence: null },
  ]) {
    const { url } = await engineWith({ ...pool, members: [member(a), member(b)], health: null });
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) bodies.add((await get(`${url}/`)).body);
    assert.equal(bodies.size, 1, `${pool.algorithm}: one member for one client`);
  }
});

test('a member that refuses connections is retried on another before the client sees an error', async () => {
  const a = await backend('ra');
  const deadPort = await freePort();
  const { url } = await engineWith({
    algorithm: 'ROUND_ROBIN',
    persistence: null,
    members: [{ id: 'dead', host: '127.0.0.1', port: deadPort, weight: 1, enabled: true }, member(a)],
    health: null,
  });
  for (let i = 0; i < 6; i++) {
    const r = await get(`${url}/`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ra');
  }
});

test('a kept connection that turns out stale is replaced once: the client never sees it', async () => {
  // Answers the first request on each connection; on the second it closes without answering,
  // as a member does whose keep-alive timeout ran out while the request was on its way.
  let connections = 0;
  let dropped = 0;
  const flaky = createServer((c) => {
    connections++;
    let seen = 0;
    c.on('data', () => {
      if (++seen === 1) c.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh');
      else {
        dropped++;
        c.destroy();
      }
    });
  });
  await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
  track({ close: () => new Promise((r) => flaky.close(r)) });
  const { url } = await engineWith({
    algorithm: 'ROUND_ROBIN',
    persistence: null,
    members: [{ id: 'flaky', host: '127.0.0.1', port: (flaky.address() as AddressInfo).port, weight: 1, enabled: true }],
    health: null,
  });
  for (let i = 0; i < 5; i++) {
    const r = await get(`${url}/${i}`);
    assert.deepEqual([r.status, r.body], [200, 'fresh'], `request ${i}`);
  }
  assert.ok(dropped >= 4, `the kept connection was reused and found stale (${dropped} dropped)`);
  assert.equal(connections, 5, 'each request after the first needed a fresh connection');
});

test('with no usable member the client gets 503', async () => {
  const { url } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [], health: null });
  const r = await get(`${url}/`);
  assert.equal(r.status, 503);
});

test('request and response bodies stream through, chunked and by length', async () => {
  const a = await backend('body');
  const { url } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  const r = await fetch(`${url}/echo`, { method: 'POST', body: big });
  const back = Buffer.from(await r.arrayBuffer());
  assert.equal(back.length, big.length);
  assert.ok(back.equals(big));
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode('hello '));
      c.enqueue(new TextEncoder().encode('chunked'));
      c.close();
    },
  });
  const chunked = await fetch(`${url}/echo`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
  assert.equal(await chunked.text(), 'hello chunked');
  assert.equal((await get(`${url}/stream`)).body, 'part1-part2-body');
});

test('large responses to slow readers arrive intact, several at once (no read buffer is reused too early)', async () => {
  const a = await backend('big');
  const { port } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  const size = 6 * 1024 * 1024 + 12345;
  const runs = [1, 2, 3, 4].map((seed) => {
    const mode = seed % 2 ? '' : '/chunked';
    return slowRead(port, `GET /random/${seed}/${size}${mode} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 400 + seed * 50).then((raw) => ({
      seed,
      body: bodyOf(raw),
    }));
  });
  for (const { seed, body } of await Promise.all(runs)) {
    assert.equal(body.length, size, `seed ${seed}: length`);
    assert.ok(body.equals(randomBytesOf(seed, size)), `seed ${seed}: the bytes are the member's, in order`);
  }
});

test('the access log has one JSON line per request: who, where to, what, how it ended, how long', async () => {
  const a = await backend('logged');
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-access-'));
  track({ close: () => rmSync(dir, { recursive: true, force: true }) });
  const file = join(dir, 'access.log');
  const port = await freePort();
  const engine = new Engine(file);
  track(engine);
  await engine.apply({
    listeners: [{ id: 'lsn-web', protocol: 'HTTP', port, poolId: 'pool-web', bind: ['127.0.0.1'] }],
    pools: [{ id: 'pool-web', algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null }],
  });
  await get(`http://127.0.0.1:${port}/x?secret=1`);
  await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'hello' }).then((r) => r.text());
  await raw(port, 'GET /"q"\\x?y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  let lines: Record<string, unknown>[] = [];
  for (let i = 0; i < 100 && lines.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }
  assert.equal(lines.length, 3, 'one line per request');
  assert.deepEqual(
    lines.map((l) => [l.listener, l.pool, l.member, l.method, l.path, l.status]),
    [
      ['lsn-web', 'pool-web', 'logged', 'GET', '/x', 200],
      ['lsn-web', 'pool-web', 'logged', 'POST', '/echo', 200],
      ['lsn-web', 'pool-web', 'logged', 'GET', '/"q"\\x', 200],
    ],
  );
  for (const l of lines) {
    assert.match(String(l.client), /^127\.0\.0\.1:\d+$/);
    assert.ok(!Number.isNaN(Date.parse(String(l.time))));
    assert.ok((l.bytesIn as number) > 0 && (l.bytesOut as number) > 0 && (l.durationMs as number) >= 0 && typeof l.upstreamMs === 'number', JSON.stringify(l));
  }
  assert.ok((lines[1].bytesIn as number) > (lines[0].bytesIn as number), 'the request body counts in bytesIn');
});

test('a request pinned to a member that cannot take it goes to another (redispatch), gets a new cookie, and is counted', async () => {
  const [a, b] = [await backend('ra'), await backend('rb')];
  const { engine, config, url } = await engineWith({
    algorithm: 'ROUND_ROBIN',
    persistence: { type: 'HTTP_COOKIE' },
    members: [member(a), member(b)],
    health: null,
  });
  assert.equal((await get(`${url}/`, { cookie: 'NIMBUSLB=ra' })).body, 'ra');
  // ra is taken out (admin down, or its server stopped): the pinned client moves to rb.
  await engine.apply({ ...config, pools: [{ ...config.pools[0], members: [member(a, { enabled: false }), member(b)] }] });
  const moved = await get(`${url}/`, { cookie: 'NIMBUSLB=ra' });
  assert.equal(moved.body, 'rb');
  assert.match(moved.headers.get('set-cookie') ?? '', /^NIMBUSLB=rb;/);
  assert.equal(engine.counters.snapshot().members.ra.redispatched, 1);
});
