/**
 * The listener contract's timeouts on both layer-7 engines (Nimbus's own, and HAProxy with the
 * configuration the agent renders), case by case on loopback with real sockets:
 * slowloris (request heads that never finish are answered 408 and closed at the request
 * timeout while others are served), a silent member (504 at the member data timeout), a
 * member that refuses (503), and an idle kept-alive client (closed at the client timeout).
 * Where HAProxy's answer differs, the case says so and docs/decisions.md lists it.
 * Bounded: a few seconds per engine.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { backend, closeAll, dribbler, exchange, freePort, get, onePool, oneListener, track } from '../helpers/engine.js';
import { CONTRACT_ENGINES } from '../helpers/engines.js';
import { DEFAULT_TIMEOUTS, type ListenerTimeouts } from '../../src/lb/config.js';

after(closeAll);

const ENGINES = CONTRACT_ENGINES;

/** A member that accepts connections, reads, and never answers. */
async function silentMember(): Promise<number> {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  track({ close: () => server.close() });
  return (server.address() as AddressInfo).port;
}

async function listen(e: (typeof ENGINES)[number], memberPort: number, timeouts: Partial<ListenerTimeouts>): Promise<number> {
  const port = await freePort();
  await e.serve(oneListener(port, onePool(memberPort), { timeouts: { ...DEFAULT_TIMEOUTS, ...timeouts } }), port);
  return port;
}

for (const e of ENGINES) {
  test(`${e.name}: slow request heads get 408 and are closed at the request timeout, while other clients are served`, { skip: e.skip }, async () => {
    const a = await backend('contract-slow');
    const port = await listen(e, a.port, { httpRequest: 600 });
    const slow = Array.from({ length: 20 }, () => dribbler(port, 100));
    for (let i = 0; i < 5; i++) assert.equal((await get(`http://127.0.0.1:${port}/`)).status, 200);
    const answers = await Promise.race([Promise.all(slow.map((s) => s.done)), new Promise<string[]>((r) => setTimeout(() => r([]), 15_000))]);
    for (const s of slow) s.socket.destroy();
    assert.equal(answers.length, 20, 'every slow client was closed by the listener');
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.[01] 408 /);
    assert.equal(a.seen.length, 5, 'the member saw the normal requests only');
  });

  test(`${e.name}: a member silent past the member data timeout gives 504`, { skip: e.skip }, async () => {
    const port = await listen(e, await silentMember(), { memberData: 400 });
    // (Connection: close: after its own error answer HAProxy keeps a kept-alive connection open, Nimbus's engine closes it.)
    const answer = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 10_000);
    assert.match(answer, /^HTTP\/1\.[01] 504 /);
  });

  test(`${e.name}: a member that refuses the connection gives 503`, { skip: e.skip }, async () => {
    const port = await listen(e, await freePort(), { memberConnect: 500 });
    const answer = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 10_000);
    assert.match(answer, /^HTTP\/1\.[01] 503 /);
  });

  test(`${e.name}: a kept-alive client idle past the client timeout is closed`, { skip: e.skip }, async () => {
    const a = await backend('contract-idle');
    const port = await listen(e, a.port, { clientData: 500 });
    const answer = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 10_000);
    assert.match(answer, /^HTTP\/1\.1 200 [\s\S]*contract-idle$/, 'answered, then closed by the listener (not the test)');
  });
}
