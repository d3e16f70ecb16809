/**
 * A member the daemon knows is gone (deleted, its server stopped, failing its checks) does
 * not keep its clients waiting for the member data timeout: an exchange with no byte of the
 * response sent gets 502 at once, one whose response had begun is closed, and a TCP
 * connection is closed. A member set admin down is not gone: its exchanges finish.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Engine } from './engine.js';
import type { EngineConfig, MemberConfig, PoolConfig } from './config.js';
import { closeAll, freePort, track } from '../../test/helpers/engine.js';

after(closeAll);

/** A member that answers /health, and holds every other request (or starts its answer and holds, for /half). */
async function holdingMember(): Promise<{ port: number; healthy: { ok: boolean }; held: Socket[]; server: Server }> {
  const healthy = { ok: true };
  const held: Socket[] = [];
  const server = createServer((s) => {
    s.on('data', (d) => {
      const line = d.toString('latin1');
      if (line.startsWith('GET /health')) s.write(`HTTP/1.1 ${healthy.ok ? '200 OK' : '500 Down'}\r\ncontent-length: 0\r\n\r\n`);
      else if (line.startsWith('GET /half')) {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst bytes');
        held.push(s);
      } else held.push(s);
    });
    s.on('error', () => undefined);
  });
  track({ close: () => (held.forEach((s) => s.destroy()), server.close()) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, healthy, held, server };
}

async function engineOn(protocol: 'HTTP' | 'TCP', pool: Omit<PoolConfig, 'id'>) {
  const port = await freePort();
  const engine = track(new Engine(null));
  const config: EngineConfig = { listeners: [{ id: 'lsn', protocol, port, poolId: 'pool', bind: ['127.0.0.1'] }], pools: [{ id: 'pool', ...pool }] };
  await engine.apply(config);
  return { engine, port, config };
}

/** Sends `text`, resolves with all that came back once the proxy closes the connection; `capped` if the test had to (after 20 s). */
function exchange(port: number, text: string): { done: Promise<{ out: string; capped: boolean }> } {
  let capped = false;
  return {
    done: new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write(text));
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('close', () => resolve({ out, capped }));
      s.on('error', () => undefined);
      setTimeout(() => ((capped = true), s.destroy()), 20_000).unref();
    }),
  };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !ok(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

const req = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
const m = (port: number, over: Partial<MemberConfig> = {}): MemberConfig => ({ id: 'm1', host: '127.0.0.1', port, weight: 1, enabled: true, ...over });
// Member timeouts longer than the test's own limit: a cut that did not happen shows as `capped`.
const slow = { timeouts: { memberConnect: 5000, memberData: 60_000 } };

test('a deleted member: its waiting exchange gets 502 at once', async () => {
  const b = await holdingMember();
  const { engine, config } = await engineOn('HTTP', { algorithm: 'ROUND_ROBIN', persistence: null, members: [m(b.port)], health: null, ...slow });
  const port = config.listeners[0].port;
  const x = exchange(port, req('/hold'));
  await until('the member holds the request', () => b.held.length === 1);
  await engine.apply({ ...config, pools: [{ ...config.pools[0], members: [] }] });
  const { out } = await x.done;
  assert.match(out, /^HTTP\/1\.1 502/);
  assert.match(out, /member deleted/);
});

test('a member whose server stopped: a response that had begun is closed; a new exchange is not sent to it', async () => {
  const b = await holdingMember();
  const { engine, config } = await engineOn('HTTP', { algorithm: 'ROUND_ROBIN', persistence: null, members: [m(b.port)], health: null, ...slow });
  const port = config.listeners[0].port;
  const x = exchange(port, req('/half'));
  await until('the member began its answer', () => b.held.length === 1);
  await engine.apply({ ...config, pools: [{ ...config.pools[0], members: [m(b.port, { enabled: false, gone: 'server ecs-a is stopped' })] }] });
  const { out, capped } = await x.done;
  assert.match(out, /^HTTP\/1\.1 200/);
  assert.ok(out.endsWith('first bytes'), 'the connection closed with the response short');
  assert.equal(capped, false, 'the proxy closed it when the server stopped');
  assert.match((await exchange(port, req('/x')).done).out, /^HTTP\/1\.1 503/);
});

test('a member failing its health check: its waiting exchange gets 502', async () => {
  const b = await holdingMember();
  const health = { type: 'HTTP' as const, delayMs: 100, timeoutMs: 500, rise: 1, fall: 1, urlPath: '/health', expectedCodes: '200' };
  const { config } = await engineOn('HTTP', { algorithm: 'ROUND_ROBIN', persistence: null, members: [m(b.port)], health, ...slow });
  const x = exchange(config.listeners[0].port, req('/hold'));
  await until('the member holds the request', () => b.held.length === 1);
  b.healthy.ok = false;
  const { out } = await x.done;
  assert.match(out, /^HTTP\/1\.1 502/);
  assert.match(out, /health check/);
});

test('a TCP connection to a deleted member is closed', async () => {
  const b = await holdingMember();
  const { engine, config } = await engineOn('TCP', { algorithm: 'ROUND_ROBIN', persistence: null, members: [m(b.port)], health: null, ...slow });
  const x = exchange(config.listeners[0].port, req('/hold'));
  await until('the member holds the connection', () => b.held.length === 1);
  await engine.apply({ ...config, pools: [{ ...config.pools[0], members: [] }] });
  assert.equal((await x.done).capped, false, 'the proxy closed it when the member went');
});

test('a member set admin down is not gone: its exchange finishes', async () => {
  const b = await holdingMember();
  const { engine, config } = await engineOn('HTTP', { algorithm: 'ROUND_ROBIN', persistence: null, members: [m(b.port)], health: null, ...slow });
  const x = exchange(config.listeners[0].port, req('/hold'));
  await until('the member holds the request', () => b.held.length === 1);
  await engine.apply({ ...config, pools: [{ ...config.pools[0], members: [m(b.port, { enabled: false })] }] });
  b.held[0].end('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndone');
  const { out } = await x.done;
  assert.match(out, /^HTTP\/1\.1 200/);
  assert.ok(out.endsWith('done'));
});
