/**
 * Octavia's timeouts on the engine: a pool's own member timeouts win over its listener's
 * (HTTP: a silent member gives 504 at the pool's timeout, not the listener's); a TCP
 * connection idle for its timeout is closed; with an inspect delay, a TCP listener connects
 * to a member only once the client has sent its first bytes. Bounded: a few seconds.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { closeAll, exchange, freePort, onePool, oneListener, track } from '../../test/helpers/engine.js';
import { Engine } from './engine.js';
import { DEFAULT_TIMEOUTS, type ListenerTimeouts, type PoolConfig } from './config.js';

after(closeAll);

/** A TCP member that counts connections and does `onConnection` with each. */
async function tcpMember(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number; connections: number }> {
  const m = { server: createServer(), port: 0, connections: 0 };
  m.server.on('connection', (s) => {
    m.connections++;
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((r) => m.server.listen(0, '127.0.0.1', r));
  m.port = (m.server.address() as AddressInfo).port;
  track({ close: () => m.server.close() });
  return m;
}

async function engineOn(protocol: 'HTTP' | 'TCP', memberPort: number, timeouts: Partial<ListenerTimeouts>, pool: Partial<PoolConfig> = {}) {
  const port = await freePort();
  const engine = track(new Engine(null));
  await engine.apply(oneListener(port, { ...onePool(memberPort), ...pool }, { protocol, timeouts: { ...DEFAULT_TIMEOUTS, ...timeouts } }));
  return port;
}

test("a pool's member data timeout wins over its listener's: a silent member gives 504 at the pool's", async () => {
  const silent = await tcpMember(() => undefined); // accepts, never answers
  const port = await engineOn('HTTP', silent.port, { memberData: 60_000 }, { timeouts: { memberData: 300 } });
  const answer = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 8_000);
  assert.match(answer, /^HTTP\/1\.1 504 /, 'the pool timeout fired, not the listener one (60 s)');
});

test('a TCP connection idle for its client data timeout is closed; one that talks stays up', async () => {
  const echo = await tcpMember((s) => s.pipe(s));
  const port = await engineOn('TCP', echo.port, { clientData: 300, memberData: 60_000 });
  assert.equal(await exchange(port, 'hello', 8_000), 'hello', 'echoed, then closed once idle');
  // Talking every 100 ms keeps it open past several timeouts.
  const chatty = await new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    let n = 0;
    const timer = setInterval(() => (n++ < 10 ? s.write('.') : (clearInterval(timer), resolve(s.destroyed ? `closed: ${out}` : out), s.destroy())), 100);
    s.on('data', (d) => (out += d));
    s.on('error', () => undefined);
  });
  assert.equal(chatty, '..........');
});

test('with an inspect delay a TCP listener connects to a member once the client speaks, and at once without it', async () => {
  const banner = await tcpMember((s) => {
    s.write('BANNER\n');
    s.pipe(s);
  });
  const delayed = await engineOn('TCP', banner.port, { tcpInspect: 30_000 });
  const s = connect(delayed, '127.0.0.1');
  let out = '';
  s.on('data', (d) => (out += d));
  await new Promise((r) => s.once('connect', r));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(banner.connections, 0, 'no member connection while the client is silent');
  assert.equal(out, '');
  s.write('hi\n');
  for (let i = 0; i < 50 && (out as string) !== 'BANNER\nhi\n'; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(out, 'BANNER\nhi\n', 'the first bytes reached the member, after its banner');
  assert.equal(banner.connections, 1);
  s.destroy();

  const atOnce = await engineOn('TCP', banner.port, { tcpInspect: 0 });
  assert.match(await exchange(atOnce, '', 500), /still open: BANNER/, 'without a delay the member speaks first');
});
