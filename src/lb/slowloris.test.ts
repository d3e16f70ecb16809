/**
 * No client can starve a listener: request heads that do not arrive whole in time are
 * answered 408 and closed while normal requests go on; beyond the connection limit new
 * connections are closed at once. Bounded: 40 slow clients, a few seconds.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { backend, closeAll, dribbler, freePort, get, member, track } from '../../test/helpers/engine.js';
import { Engine } from './engine.js';
import { DEFAULT_TIMEOUTS, type EngineConfig } from './config.js';

after(closeAll);

async function engineWith(listener: Partial<EngineConfig['listeners'][number]>) {
  const a = await backend('slow-a');
  const port = await freePort();
  const engine = track(new Engine(null));
  await engine.apply({
    listeners: [{ id: 'lsn', protocol: 'HTTP', port, poolId: 'pool', bind: ['127.0.0.1'], ...listener }],
    pools: [{ id: 'pool', algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null }],
  });
  return { engine, port, url: `http://127.0.0.1:${port}` };
}

test('slow request heads are answered 408 and closed at the request timeout, while normal requests are served', async () => {
  const { port, url } = await engineWith({ timeouts: { ...DEFAULT_TIMEOUTS, httpRequest: 600 } });
  const slow = Array.from({ length: 40 }, () => dribbler(port, 100));
  // Normal clients meanwhile.
  for (let i = 0; i < 5; i++) assert.equal((await get(`${url}/`)).status, 200);
  const answers = await Promise.race([Promise.all(slow.map((s) => s.done)), new Promise<string[]>((r) => setTimeout(() => r([]), 10_000))]);
  for (const s of slow) s.socket.destroy();
  assert.equal(answers.length, 40, 'every slow client was closed by the listener');
  for (const a of answers) assert.match(a, /^HTTP\/1\.1 408 Request Timeout/);
});

test('beyond the connection limit, new connections are closed at once and counted', async () => {
  const { engine, port, url } = await engineWith({ connectionLimit: 2 });
  const held = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
  await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
  await new Promise((r) => setTimeout(r, 50));
  const refused = await fetch(`${url}/`).then(
    () => false,
    () => true,
  );
  assert.equal(refused, true, 'the third connection was closed');
  assert.ok(engine.counters.snapshot().listeners.lsn.refused >= 1);
  for (const s of held) s.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await get(`${url}/`)).status, 200, 'served again once under the limit');
});
