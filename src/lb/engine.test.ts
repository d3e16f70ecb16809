/**
 * The engine end to end on loopback, with real back ends: balancing, persistence,
 * forwarding headers, keep-alive both ways, retries, streamed bodies, WebSocket upgrade,
 * reconfiguration without drops, health checks, the TCP listener and strict refusals.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from './engine.js';
import type { EngineConfig, MemberConfig, PoolConfig } from './config.js';

const open: { close(): unknown }[] = [];
after(async () => {
  for (const o of open.reverse()) await o.close();
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Backend {
  name: string;
  port: number;
  server: HttpServer;
  /** Requests seen, with the headers the proxy sent. */
  seen: IncomingMessage['headers'][];
  connections: number;
}

async function backend(name: string): Promise<Backend> {
  const b: Backend = { name, port: 0, server: undefined as unknown as HttpServer, seen: [], connections: 0 };
  b.server = createHttpServer((req, res) => {
    b.seen.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/login') res.setHeader('set-cookie', `JSESSIONID=${name}-session; Path=/`);
      if (req.url === '/echo') {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(body);
        return;
      }
      if (req.url?.startsWith('/random/')) {
        // /random/<seed>/<bytes>[/chunked]: distinct bytes per seed, so any mix-up shows.
        const [, , seed, size, mode] = req.url.split('/');
        const data = randomBytesOf(Number(seed), Number(size));
        if (mode !== 'chunked') res.setHeader('content-length', data.length);
        dribble(data, (b) => res.write(b), () => res.end());
        return;
      }
      if (req.url === '/stream') {
        res.write('part1-');
        setTimeout(() => res.end(`part2-${name}`), 20);
        return;
      }
      res.end(name);
    });
  });
  const sockets = new Set<Socket>();
  b.server.on('connection', (c: Socket) => {
    b.connections++;
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  b.server.on('upgrade', (req, socket: Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(`${name}:${d}`));
  });
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r));
  b.port = (b.server.address() as AddressInfo).port;
  open.push({
    close: () =>
      new Promise((r) => {
        for (const c of sockets) c.destroy();
        b.server.close(r);
      }),
  });
  return b;
}

/** Deterministic bytes that differ from seed to seed and from place to place. */
function randomBytesOf(seed: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Writes all but the last 300 kB of data at once (enough to fill the kernel's socket buffers
 * on the way to a reader that stalls), then the rest in pieces of uneven size, one per turn
 * of the event loop: the proxy reads short pieces while its client socket is full, so its
 * writes are only partly done and the rest waits in the socket's queue.
 */
function dribble(data: Buffer, write: (b: Buffer) => void, end: () => void): void {
  let at = 0;
  let k = 0;
  const step = () => {
    if (at >= data.length) return end();
    const n = 300 + ((k++ * 7919) % 9000);
    write(data.subarray(at, at + n));
    at += n;
    setImmediate(step);
  };
  step();
}

/** Sends a request on a raw socket, reads nothing for `stallMs`, then everything until the member's answer ends. */
function slowRead(port: number, request: string, stallMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => s.write(request));
    s.pause();
    setTimeout(() => s.resume(), stallMs);
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

/** The body of a raw HTTP/1.1 response (length-framed or chunked). */
function bodyOf(raw: Buffer): Buffer {
  const h = raw.indexOf('\r\n\r\n');
  const head = raw.toString('latin1', 0, h);
  let rest = raw.subarray(h + 4);
  if (!/transfer-encoding: chunked/i.test(head)) return rest;
  const parts: Buffer[] = [];
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const line = rest.toString('latin1', 0, eol);
    if (!/^[0-9a-f]+$/i.test(line)) throw new Error(`not a chunk size: ${JSON.stringify(line.slice(0, 40))}`);
    const n = parseInt(line, 16);
    if (n === 0) return Buffer.concat(parts);
    parts.push(rest.subarray(eol + 2, eol + 2 + n));
    rest = rest.subarray(eol + 2 + n + 2);
  }
}

const member = (b: Backend, over: Partial<MemberConfig> = {}): MemberConfig => ({ id: b.name, host: '127.0.0.1', port: b.port, weight: 1, enabled: true, ...over });

async function engineWith(pool: Omit<PoolConfig, 'id'>, protocol: 'HTTP' | 'TCP' = 'HTTP') {
  const port = await freePort();
  const engine = new Engine(null);
  open.push(engine);
  const config: EngineConfig = { listeners: [{ id: 'lsn', protocol, port, poolId: 'pool', bind: ['127.0.0.1'] }], pools: [{ id: 'pool', ...pool }] };
  await engine.apply(config);
  return { engine, port, config, url: `http://127.0.0.1:${port}` };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

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
  assert.match(cookie, /^NIMBUSLB=c[ab]; Path=\/; HttpOnly$/);
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
  const { url } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: { type: 'APP_COOKIE', cookieName: 'JSESSIONID' }, members: [member(a), member(b)], health: null });
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
  open.push({ close: () => new Promise((r) => flaky.close(r)) });
  const { url } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [{ id: 'flaky', host: '127.0.0.1', port: (flaky.address() as AddressInfo).port, weight: 1, enabled: true }], health: null });
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
    return slowRead(port, `GET /random/${seed}/${size}${mode} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 400 + seed * 50).then((raw) => ({ seed, body: bodyOf(raw) }));
  });
  for (const { seed, body } of await Promise.all(runs)) {
    assert.equal(body.length, size, `seed ${seed}: length`);
    assert.ok(body.equals(randomBytesOf(seed, size)), `seed ${seed}: the bytes are the member's, in order`);
  }
});

test('the access log has one JSON line per request: who, where to, what, how it ended, how long', async () => {
  const a = await backend('logged');
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-access-'));
  open.push({ close: () => rmSync(dir, { recursive: true, force: true }) });
  const file = join(dir, 'access.log');
  const port = await freePort();
  const engine = new Engine(file);
  open.push(engine);
  await engine.apply({ listeners: [{ id: 'lsn-web', protocol: 'HTTP', port, poolId: 'pool-web', bind: ['127.0.0.1'] }], pools: [{ id: 'pool-web', algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null }] });
  await get(`http://127.0.0.1:${port}/x?secret=1`);
  await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'hello' }).then((r) => r.text());
  await raw(port, 'GET /"q"\\x?y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  let lines: Record<string, unknown>[] = [];
  for (let i = 0; i < 100 && lines.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
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

/** Sends raw bytes and returns all the proxy answered before closing. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    setTimeout(() => s.destroy(), 2000);
  });
}

test('ambiguous requests are refused by the proxy, not passed on', async () => {
  const a = await backend('strict');
  const { port } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  const cases = [
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nX: 1\r\n folded\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
  ];
  for (const c of cases) assert.match(await raw(port, c), /^HTTP\/1\.1 400 Bad Request/, JSON.stringify(c));
  assert.equal(a.seen.length, 0, 'nothing reached the member');
  assert.match(await raw(port, `GET /${'a'.repeat(20000)} HTTP/1.1\r\n`), /^HTTP\/1\.1 431/);
});

/** Sends bytes, half-closes (FIN) at once, and returns all that came back before the close. */
function sendAndHalfClose(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => s.end(bytes));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    setTimeout(() => s.destroy(new Error(`no end after 3 s; got ${JSON.stringify(out)}`)), 3000);
  });
}

test('a client that half-closes after its request still gets the whole answer (HTTP and TCP)', async () => {
  const a = await backend('half');
  const http = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  const answer = await sendAndHalfClose(http.port, 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 200 OK/);
  assert.match(answer, /part1-\r\na\r\npart2-half\r\n0\r\n\r\n$/, 'the part of the body sent after the FIN arrived too, to its last chunk');
  const two = await sendAndHalfClose(http.port, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(two.match(/HTTP\/1\.1 200 OK/g)?.length, 2, 'both pipelined requests sent before the FIN are answered');
  // A member that answers only once the client has said all (reads to the end, then replies).
  const reverser = createServer({ allowHalfOpen: true }, (c) => {
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('end', () => setTimeout(() => c.end([...got].reverse().join('')), 20));
  });
  await new Promise<void>((r) => reverser.listen(0, '127.0.0.1', r));
  open.push({ close: () => new Promise((r) => reverser.close(r)) });
  const tcp = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [{ id: 'rev', host: '127.0.0.1', port: (reverser.address() as AddressInfo).port, weight: 1, enabled: true }], health: null }, 'TCP');
  assert.equal(await sendAndHalfClose(tcp.port, 'hello, member'), 'rebmem ,olleh');
});

test('pipelined requests on one connection are answered in order', async () => {
  const a = await backend('pipe');
  const { port } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  const out = await raw(port, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(out.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
});

test('a WebSocket upgrade becomes a tunnel', async () => {
  const a = await backend('ws');
  const { port } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  const s = connect(port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => {
    got += d;
    if (got.includes('\r\n\r\n') && !got.includes('ws:')) s.write('ping');
  });
  s.write('GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (got.includes('ws:ping')) {
        clearInterval(t);
        resolve();
      }
    }, 10);
  });
  assert.match(got, /^HTTP\/1\.1 101 Switching Protocols/);
  s.destroy();
});

test('a tunnel and the TCP listener carry large streams to slow readers intact', async () => {
  const size = 6 * 1024 * 1024 + 7;
  // A member that sends `size` distinct bytes (seeded by the first byte it gets) once spoken to.
  const blaster = createServer((c) => {
    c.once('data', (d) => {
      const first = d.toString('latin1');
      const m = /seed=(\d+)/.exec(first);
      if (first.startsWith('GET')) c.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      dribble(randomBytesOf(Number(m?.[1] ?? 1), size), (b) => c.write(b), () => c.end());
    });
  });
  await new Promise<void>((r) => blaster.listen(0, '127.0.0.1', r));
  open.push({ close: () => new Promise((r) => blaster.close(r)) });
  const target = { id: 'blaster', host: '127.0.0.1', port: (blaster.address() as AddressInfo).port, weight: 1, enabled: true };
  const http = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [target], health: null });
  const tcp = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [target], health: null }, 'TCP');
  const [ws1, ws2, t1, t2] = await Promise.all([
    slowRead(http.port, 'GET /ws?seed=11 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 450),
    slowRead(http.port, 'GET /ws?seed=12 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 400),
    slowRead(tcp.port, 'seed=13', 450),
    slowRead(tcp.port, 'seed=14', 400),
  ]);
  for (const [raw, seed] of [[t1, 13], [t2, 14]] as const) {
    assert.equal(raw.length, size, `tcp ${seed}: length`);
    assert.ok(raw.equals(randomBytesOf(seed, size)), `tcp ${seed}: bytes intact`);
  }
  for (const [raw, seed] of [[ws1, 11], [ws2, 12]] as const) {
    const body = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
    assert.equal(body.length, size, `tunnel ${seed}: length`);
    assert.ok(body.equals(randomBytesOf(seed, size)), `tunnel ${seed}: bytes intact`);
  }
});

test('reconfiguration adds and removes members without dropping an open connection', async () => {
  const [a, b] = [await backend('r1'), await backend('r2')];
  const { engine, url, config } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  assert.equal((await get(`${url}/`)).body, 'r1');
  await engine.apply({ ...config, pools: [{ ...config.pools[0], members: [member(a), member(b)] }] });
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add((await get(`${url}/`)).body);
  assert.deepEqual([...seen].sort(), ['r1', 'r2']);
  await engine.apply({ ...config, pools: [{ ...config.pools[0], members: [member(b)] }] });
  for (let i = 0; i < 4; i++) assert.equal((await get(`${url}/`)).body, 'r2', 'the removed member takes nothing new');
});

test('a member that dies is taken out by the health check and comes back when it recovers', async () => {
  const [a, b] = [await backend('h1'), await backend('h2')];
  const health = { type: 'HTTP' as const, delayMs: 100, timeoutMs: 80, rise: 2, fall: 2, urlPath: '/', expectedCodes: '200' };
  const { engine, url } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a), member(b)], health });
  const changes: string[] = [];
  engine.on('health', (id: string, s: string) => changes.push(`${id} ${s}`));
  await new Promise((r) => {
    b.server.close(r);
    b.server.closeAllConnections();
  });
  const t0 = Date.now();
  while (!changes.includes('h2 DOWN') && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(changes, ['h2 DOWN']);
  for (let i = 0; i < 4; i++) assert.equal((await get(`${url}/`)).body, 'h1');
  assert.equal(engine.healthOf()['h2'], 'DOWN');
  await new Promise<void>((r) => b.server.listen(b.port, '127.0.0.1', r));
  while (!changes.includes('h2 UP') && Date.now() - t0 < 6000) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(changes, ['h2 DOWN', 'h2 UP']);
});

test('a member killed under load: no request fails, and once its checks fail it gets none', async () => {
  const [a, b] = [await backend('k1'), await backend('k2')];
  const health = { type: 'TCP' as const, delayMs: 100, timeoutMs: 80, rise: 2, fall: 2, urlPath: '/', expectedCodes: '200' };
  const { engine, url } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a), member(b)], health });
  let down = false;
  const afterDown: string[] = [];
  engine.on('health', (id: string, s: string) => {
    if (id === 'k2' && s === 'DOWN') down = true;
  });
  const failures: string[] = [];
  for (let i = 0; i < 2000 && !(down && afterDown.length >= 50); i++) {
    if (i === 20) {
      b.server.close();
      b.server.closeAllConnections();
    }
    const r = await fetch(`${url}/`).then(async (x) => [x.status, await x.text()] as const).catch((e: Error) => [0, e.message] as const);
    if (r[0] !== 200) failures.push(`${r[0]} ${r[1]}`);
    if (down) afterDown.push(r[1]);
  }
  assert.deepEqual(failures, [], 'no idempotent request failed');
  assert.ok(down, 'the killed member was marked down');
  assert.deepEqual(new Set(afterDown), new Set(['k1']), 'after that only the live member answers');
});

test('the TCP listener pipes bytes to members in turn and retries a refusing one', async () => {
  const echo = async (name: string) => {
    const s = createServer((c) => c.on('data', (d) => c.write(`${name}:${d}`)));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise((r) => s.close(r)) });
    return { name, port: (s.address() as AddressInfo).port };
  };
  const [x, y] = [await echo('x'), await echo('y')];
  const dead = await freePort();
  const { port } = await engineWith(
    {
      algorithm: 'ROUND_ROBIN',
      persistence: null,
      members: [
        { id: 'x', host: '127.0.0.1', port: x.port, weight: 1, enabled: true },
        { id: 'dead', host: '127.0.0.1', port: dead, weight: 1, enabled: true },
        { id: 'y', host: '127.0.0.1', port: y.port, weight: 1, enabled: true },
      ],
      health: null,
    },
    'TCP',
  );
  const talk = () =>
    new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('hi'));
      s.on('data', (d) => {
        resolve(String(d));
        s.destroy();
      });
    });
  const answers = [await talk(), await talk(), await talk(), await talk()];
  assert.ok(answers.every((a) => a === 'x:hi' || a === 'y:hi'), answers.join());
  assert.ok(answers.includes('x:hi') && answers.includes('y:hi'));
});
