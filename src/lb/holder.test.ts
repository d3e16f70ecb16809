/**
 * The socket holder with a stand-in for HAProxy's master: a program that accepts on the
 * descriptors it inherits, writes a line per connection to its standard output after making
 * it non-blocking with F_SETFL (dropping O_APPEND, as HAProxy does), and dies when asked to.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from '../../test/helpers/engine.js';
import { join } from 'node:path';
import { HolderLink, holderPidFile } from './holder.js';
import { keepInHolder } from './held-sockets.js';

const dir = mkdtempSync(join(tmpdir(), 'nimbus-holder-'));
after(() => {
  try {
    process.kill(Number(readFileSync(holderPidFile(dir), 'utf8')), 'SIGKILL');
  } catch {
    // not started
  }
  for (const pid of masters) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});
const masters: number[] = [];

const STANDIN = String.raw`
import fcntl, os, socket, sys
fds = [int(a) for a in sys.argv[1:]]
fcntl.fcntl(1, fcntl.F_SETFL, os.O_NONBLOCK)
socks = [socket.socket(fileno=fd) for fd in fds]
while True:
    c, _ = socks[0].accept()
    what = c.recv(100).decode().strip()
    os.write(1, ('%d %s\n' % (os.getpid(), what)).encode())
    c.sendall(b'ok\n')
    c.close()
    if what == 'die':
        os._exit(9)
`;

/** One exchange: sends `what`, resolves with the answer or the error's code. */
function ask(port: number, what: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(`${what}\n`));
    let got = '';
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
    s.on('data', (d) => (got += d));
    s.on('close', () => resolve(got.trim() || 'closed'));
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test(
  'the holder keeps the socket across its master’s death, starts the next, and the log is appended, not written over',
  { skip: process.platform !== 'linux' && 'Linux only' },
  async () => {
    const link = new HolderLink(dir);
    assert.equal(await link.open(), 'started');
    const port = await freePort();
    const key = `127.0.0.1:${port}`;
    const held = await link.hold([key]);
    assert.deepEqual(held.errors, {});
    const fd = held.fds[key];
    const log = join(dir, 'access.log');
    writeFileSync(log, 'an earlier line\n');
    const exited = new Promise<{ pid: number; restarted: number }>((resolve) => (link.onExit = resolve));
    const first = await link.start(['python3', '-c', STANDIN, String(fd)], log, join(dir, 'err.log'));
    masters.push(first);
    assert.equal(await ask(port, 'one'), 'ok');
    // The stand-in dies after answering; a connection made at once waits in the held socket for the next one.
    assert.equal(await ask(port, 'die'), 'ok');
    assert.equal(await ask(port, 'two'), 'ok');
    const { pid, restarted } = await exited;
    masters.push(restarted);
    assert.equal(pid, first);
    assert.notEqual(restarted, first);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(lines, ['an earlier line', `${first} one`, `${first} die`, `${restarted} two`], 'every line kept, in order');
    // A rotation: the flag set again, the file emptied; the next line goes to its start, with no hole before it.
    await link.append();
    truncateSync(log, 0);
    assert.equal(await ask(port, 'three'), 'ok');
    assert.equal(readFileSync(log, 'utf8'), `${restarted} three\n`);
    // A second agent finds the same holder and its master.
    const again = new HolderLink(dir);
    assert.equal(await again.open(), 'found');
    assert.deepEqual(await again.state(), { pid: restarted, fds: { [key]: fd }, kept: [], keptFds: {}, pass: [] });
    // A socket that cannot be had: nothing changes.
    const taken = await freePort();
    const blocker = createServer().listen(taken, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const refused = await again.hold([key, `127.0.0.1:${taken}`]);
    blocker.close();
    assert.match(refused.errors[`127.0.0.1:${taken}`], /in use/i);
    assert.deepEqual((await again.state()).fds, { [key]: fd });
  },
);

/** A master stand-in that says whether it was given a descriptor, then waits. */
const HAS_FD = String.raw`
import os, sys, time
try:
    os.fstat(int(sys.argv[1]))
    said = 'has'
except OSError:
    said = 'lacks'
os.write(1, (said + '\n').encode())
time.sleep(3600)
`;

test(
  'a public socket handed in (keep) reaches a master only when its start names it (pass): HAProxy binds it as a descriptor',
  { skip: process.getuid?.() === 0 ? false : 'the daemon hands public sockets in as root' },
  async () => {
    const own = mkdtempSync(join(tmpdir(), 'nimbus-holder-pass-'));
    const link = new HolderLink(own);
    try {
      await link.open();
      const port = await freePort();
      const key = `lsn-pub:${port}`;
      const result = await keepInHolder(own, [{ key, host: '127.0.0.1', port }], [key]);
      assert.equal(result.get(key), null);
      const held = await link.hold([]);
      const fd = held.kept[key];
      assert.equal(typeof fd, 'number', JSON.stringify(held));
      const log = join(own, 'out.log');
      const says = async (pid: number) => {
        masters.push(pid);
        for (let i = 0; i < 100 && !readFileSync(log, 'utf8').includes(`\n`); i++) await new Promise((r) => setTimeout(r, 50));
        const said = readFileSync(log, 'utf8').trim();
        truncateSync(log, 0);
        return said;
      };
      writeFileSync(log, '');
      assert.equal(
        await says(await link.start(['python3', '-c', HAS_FD, String(fd)], log, join(own, 'err.log'))),
        'lacks',
        'not named: kept in the holder only',
      );
      await link.append();
      assert.equal(await says(await link.start(['python3', '-c', HAS_FD, String(fd)], log, join(own, 'err.log'), [key])), 'has');
      assert.deepEqual((await link.state()).pass, [key], 'what the running master was given, for the next agent');
    } finally {
      try {
        process.kill(Number(readFileSync(holderPidFile(own), 'utf8')), 'SIGKILL');
      } catch {
        // not started
      }
      rmSync(own, { recursive: true, force: true });
    }
  },
);
