/**
 * Nimbus's own engine's sockets in a socket holder, against the real holder and hand-over
 * (the built dist/runtime/hand-over.js): a bind held there and taken as a copy; a connection
 * that waited in the backlog while nobody accepted is served by the copy; a public socket the
 * daemon hands in (as root) is kept, taken, and let go; a holder that runs as another id than
 * the folder's owner is not handed anything.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from '../../test/helpers/engine.js';
import { join } from 'node:path';
import { HeldSockets, keepInHolder } from './held-sockets.js';
import { holderPidFile } from './holder.js';

const handOver = [process.execPath, join(import.meta.dirname, '../../dist/runtime/hand-over.js')];
const dirs: string[] = [];
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  for (const dir of dirs) {
    try {
      process.kill(Number(readFileSync(holderPidFile(dir), 'utf8')), 'SIGKILL');
    } catch {
      // not started
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-held-'));
  dirs.push(dir);
  return dir;
}

/** Sends `what` on a new connection; resolves with the answer, the error's code, or 'no answer' (after 10 s). */
function ask(port: number, what: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(what));
    s.setTimeout(10_000, () => (s.destroy(), resolve('no answer')));
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Answers every connection with what it said, upper-cased. */
function serve(server: Server, waiting: Socket[] = []): void {
  servers.push(server);
  const answer = (s: Socket) => s.once('data', (d) => s.end(String(d).toUpperCase()));
  server.removeAllListeners('connection');
  server.on('connection', answer);
  for (const s of waiting) answer(s);
}

test("a bind held by the holder outlives its taker, and what waited in the backlog meanwhile is served by the next one's copy", async () => {
  const dir = folder();
  const held = new HeldSockets(dir, handOver);
  assert.deepEqual(await held.open(() => undefined), [], 'a new holder keeps nothing');
  const port = await freePort();
  const key = `127.0.0.1:${port}`;
  const first = await held.bind([key], [key], () => undefined);
  const copy = first.get(key);
  assert.ok(copy && typeof copy === 'object', `a copy of the held socket: ${String(copy)}`);
  serve(copy);
  assert.equal(await ask(port, 'one'), 'ONE');
  // The taker goes: the holder's socket still listens, and a client's connection waits in its backlog.
  copy.close();
  const waiting = ask(port, 'two');
  await new Promise((r) => setTimeout(r, 200));
  // The next taker (a worker started anew) finds the same holder and takes a copy: what waited reaches it.
  const next = new HeldSockets(dir, handOver);
  await next.open(() => undefined);
  const early: Socket[] = [];
  const again = await next.take([key], (_k, s) => early.push(s));
  assert.equal(again.errors.size, 0, [...again.errors.values()].join());
  serve(again.servers.get(key)!, early);
  assert.equal(await waiting, 'TWO', 'the connection that waited was served, not dropped');
  assert.equal(await ask(port, 'three'), 'THREE');
  // A bind no longer wanted is let go at once.
  await next.bind([], [], () => undefined);
  again.servers.get(key)!.close();
  assert.equal(await ask(port, 'four'), 'ECONNREFUSED');
});

test('a port another process listens on is refused with its errno, the other binds are held', async () => {
  const dir = folder();
  const held = new HeldSockets(dir, handOver);
  await held.open(() => undefined);
  const taken = await freePort();
  const blocker = createServer().listen(taken, '127.0.0.1');
  servers.push(blocker);
  await new Promise((r) => blocker.once('listening', r));
  const free = await freePort();
  const keys = [`127.0.0.1:${taken}`, `127.0.0.1:${free}`];
  const got = await held.bind(keys, keys, () => undefined);
  assert.match(String(got.get(keys[0])), /^EADDRINUSE: /);
  const ok = got.get(keys[1]);
  assert.ok(ok && typeof ok === 'object');
  serve(ok);
  assert.equal(await ask(free, 'x'), 'X');
});

test(
  'a public socket the daemon hands in is kept, taken by the worker, and let go; a holder of another id gets nothing',
  { skip: process.getuid?.() === 0 ? false : 'the daemon hands public sockets in as root' },
  async () => {
    const dir = folder();
    const held = new HeldSockets(dir, handOver);
    await held.open(() => undefined);
    const port = await freePort();
    const key = `lsn-test:${port}`;
    const result = await keepInHolder(dir, [{ key, host: '127.0.0.1', port }], [key]);
    assert.equal(result.get(key), null, JSON.stringify(result.get(key)));
    // A new worker learns what its holder keeps, and takes it.
    const next = new HeldSockets(dir, handOver);
    assert.deepEqual(await next.open(() => undefined), [key]);
    const got = await next.take([key], () => undefined);
    serve(got.servers.get(key)!);
    assert.equal(await ask(port, 'public'), 'PUBLIC');
    // The same port again is in use (the holder has it): the reason says so.
    const twice = await keepInHolder(dir, [{ key: 'lsn-other:1', host: '127.0.0.1', port }], null);
    assert.equal(twice.get('lsn-other:1')?.code, 'EADDRINUSE');
    // Let go: once the worker's copy closes too, nothing listens.
    await keepInHolder(dir, [], []);
    got.servers.get(key)!.close();
    assert.equal(await ask(port, 'gone'), 'ECONNREFUSED');
    // The folder's owner is the load balancer's id: a holder running as another is handed nothing.
    chownSync(dir, 12345, 12345);
    const refused = await keepInHolder(dir, [{ key, host: '127.0.0.1', port }], null);
    assert.match(refused.get(key)?.message ?? '', /runs as uid 0, not the load balancer \(12345\)/);
    assert.equal(await ask(port, 'none'), 'ECONNREFUSED', 'nothing was opened for it');
  },
);
