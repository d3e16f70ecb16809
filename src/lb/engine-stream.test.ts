/**
 * The engine on the wire: raw and ambiguous requests, half-closes, pipelining, WebSocket
 * tunnels, large streams to slow readers, reconfiguration, health checks under load, and the
 * TCP listener. Real sockets on loopback.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { backend, closeAll, dribble, engineWith, freePort, get, member, randomBytesOf, raw, slowRead, track } from '../../test/helpers/engine.js';

after(closeAll);

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
  track({ close: () => new Promise((r) => reverser.close(r)) });
  const tcp = await engineWith(
    {
      algorithm: 'ROUND_ROBIN',
      persistence: null,
      members: [{ id: 'rev', host: '127.0.0.1', port: (reverser.address() as AddressInfo).port, weight: 1, enabled: true }],
      health: null,
    },
    'TCP',
  );
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
      dribble(
        randomBytesOf(Number(m?.[1] ?? 1), size),
        (b) => c.write(b),
        () => c.end(),
      );
    });
  });
  await new Promise<void>((r) => blaster.listen(0, '127.0.0.1', r));
  track({ close: () => new Promise((r) => blaster.close(r)) });
  const target = { id: 'blaster', host: '127.0.0.1', port: (blaster.address() as AddressInfo).port, weight: 1, enabled: true };
  const http = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [target], health: null });
  const tcp = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [target], health: null }, 'TCP');
  const [ws1, ws2, t1, t2] = await Promise.all([
    slowRead(http.port, 'GET /ws?seed=11 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 450),
    slowRead(http.port, 'GET /ws?seed=12 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 400),
    slowRead(tcp.port, 'seed=13', 450),
    slowRead(tcp.port, 'seed=14', 400),
  ]);
  for (const [raw, seed] of [
    [t1, 13],
    [t2, 14],
  ] as const) {
    assert.equal(raw.length, size, `tcp ${seed}: length`);
    assert.ok(raw.equals(randomBytesOf(seed, size)), `tcp ${seed}: bytes intact`);
  }
  for (const [raw, seed] of [
    [ws1, 11],
    [ws2, 12],
  ] as const) {
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
    const r = await fetch(`${url}/`)
      .then(async (x) => [x.status, await x.text()] as const)
      .catch((e: Error) => [0, e.message] as const);
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
    track({ close: () => new Promise((r) => s.close(r)) });
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
  assert.ok(
    answers.every((a) => a === 'x:hi' || a === 'y:hi'),
    answers.join(),
  );
  assert.ok(answers.includes('x:hi') && answers.includes('y:hi'));
});
