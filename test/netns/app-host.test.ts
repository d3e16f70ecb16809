/**
 * The app host on the linux plane (privileged): one process serves every server's built-in web
 * app on a socket opened inside that server's namespace. Each server answers with its own name
 * and IP; renaming it, stopping it, killing the app host and deleting the server each do what a
 * machine's web server would; a user's own `--app` command stays a process of its own.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { serverNs } from '../../src/dataplane/linux/names.js';
import { identityOf } from '../../src/workloads/process-identity.js';
import { run } from '../../src/dataplane/linux/run.js';
import { handOn, openSockets } from '../../src/workloads/socket-opener.js';
import { webApp } from '../../src/apps/web-page.js';
import type { AppHost } from '../../src/workloads/app-host.js';

let t: LinuxTestDaemon;
let apps: AppHost;
const ids: Record<string, string> = {};

before(async () => {
  if (skipLinux) return;
  t = await linuxDaemon();
  apps = t.daemon.workloads.apps!;
  await t.client.vpcs.create({ name: 'v', cidr: '10.61.0.0/16' });
  await t.client.subnets.create({ name: 's', vpc: 'v', cidr: '10.61.1.0/24' });
  ids.w1 = (await t.client.servers.create({ name: 'w1', subnet: 's', ip: '10.61.1.10', app: 'web' })).id;
  ids.w2 = (await t.client.servers.create({ name: 'w2', subnet: 's', ip: '10.61.1.11', app: 'web:80' })).id;
  ids.own = (await t.client.servers.create({ name: 'own', subnet: 's', ip: '10.61.1.12', app: 'sleep 600' })).id;
  ids.peer = (await t.client.servers.create({ name: 'peer', subnet: 's', ip: '10.61.1.20' })).id;
});
after(async () => {
  await t?.close();
});

/** What a GET from the peer server answers (curl's output, or its error). */
async function get(url: string): Promise<string> {
  const r = await t.client.exec('peer', ['curl', '-s', '-m', '2', url]);
  return r.code === 0 ? r.stdout : `curl exit ${r.code}`;
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) if (await ok()) return;
  throw new Error(`${what} did not happen within 60 s`);
}

const appHostPid = () => t.daemon.workloads.supervisor.pid(apps.key);

test('one app host serves both web apps, each as its own server; a command of its own is a process of its own', { skip: skipLinux }, async () => {
  await until(
    'both apps answer',
    async () =>
      (await get('http://10.61.1.10:8080/')).startsWith('Hello from w1 (10.61.1.10)') &&
      (await get('http://10.61.1.11/')).startsWith('Hello from w2 (10.61.1.11)'),
  );
  const keys = t.daemon.workloads.supervisor.keys();
  assert.ok(appHostPid(), 'the app host runs');
  assert.ok(!keys.includes(ids.w1) && !keys.includes(ids.w2), `no process of their own: ${keys.join(' ')}`);
  assert.ok(keys.includes(ids.own), 'the server with its own command has its process');
  for (const [id, port] of [
    [ids.w1, 8080],
    [ids.w2, 80],
  ] as const) {
    const ss = await t.client.exec(id, ['ss', '-ltn']);
    assert.match(ss.stdout, new RegExp(`0\\.0\\.0\\.0:${port}\\b`), `${id} shows its app in ss -ltn`);
  }
  const logs = await t.client.serverLogs('w2');
  assert.match(logs.output, /listening on 0\.0\.0\.0:80/);
  assert.equal(logs.requests.at(-1)?.client, '10.61.1.20');
  assert.equal(
    (await t.client.serverLogs('w1')).requests.every((r) => r.client === '10.61.1.20'),
    true,
  );
});

test('a renamed server answers with its new name, and a client calling all along meets no failure', { skip: skipLinux }, async () => {
  // New connections one after another from the peer while the server is renamed: the app host
  // answers under the new name on the same socket (an earlier design replaced the socket, and a
  // connection in a thousand was left unanswered; docs/decisions.md).
  const client = `
import socket, time
n = fails = renamed = 0
t0 = time.time()
while time.time() - t0 < 60 and renamed < 200:
    step = 'connect'
    try:
        s = socket.create_connection(('10.61.1.10', 8080), timeout=3)
        step = 'answer'
        s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')
        data = b''
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        s.close()
        if b'Hello from w1-renamed' in data:
            renamed += 1
        elif b'Hello from w1 ' not in data:
            fails += 1
            print('answer', data[:80], flush=True)
    except OSError as e:
        fails += 1
        print('error', step, repr(e), flush=True)
    n += 1
    if n == 20:
        print('calling', flush=True)
print('done', n, fails, renamed, flush=True)
`;
  const child = spawn('ip', ['netns', 'exec', serverNs(t.prefix, ids.peer), 'python3', '-c', client], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    await until('the client calls', async () => out.includes('calling'));
    await t.client.servers.update('w1', { name: 'w1-renamed' });
    await until('the client is done', async () => out.includes('done'));
  } finally {
    child.kill();
  }
  const [, n, fails, renamed] = /done (\d+) (\d+) (\d+)/.exec(out)!.map(Number);
  assert.equal(renamed, 200, out);
  assert.equal(fails, 0, `${fails} of ${n} requests failed while the socket was replaced: ${out}`);
  await t.client.servers.update('w1-renamed', { name: 'w1' });
  await until('the old name back', async () => (await get('http://10.61.1.10:8080/')).startsWith('Hello from w1 (10.61.1.10)'));
});

test("stopping a server closes its app's socket and connections; starting it serves again", { skip: skipLinux }, async () => {
  // A kept-alive connection from the peer, open when the server stops.
  const client = `
import socket, time
s = socket.create_connection(('10.61.1.11', 80), timeout=30)
s.sendall(b'GET /kept HTTP/1.1\\r\\nHost: w2\\r\\n\\r\\n')
data = b''
while b'Hello from w2' not in data:
    data += s.recv(4096)
print('answered', flush=True)
time.sleep(60)
`;
  const child = spawn('ip', ['netns', 'exec', serverNs(t.prefix, ids.peer), 'python3', '-c', client], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const ns = serverNs(t.prefix, ids.w2);
  try {
    await until('the kept-alive request is answered', async () => out.includes('answered'));
    // The sockets of w2's app, seen in its namespace: the listening one and the peer's connection.
    const ss = (await run('ip', ['netns', 'exec', ns, 'ss', '-tane'])).stdout;
    const inodes = [...ss.matchAll(/^(LISTEN|ESTAB)\s.*:80\s.*\bino:(\d+)/gm)].map((m) => m[2]);
    assert.equal(inodes.length, 2, ss);
    const held = () => readdirSync(`/proc/${appHostPid()}/fd`).map((f) => readlinkSync(`/proc/${appHostPid()}/fd/${f}`, { encoding: 'utf8' }));
    assert.ok(
      inodes.every((i) => held().includes(`socket:[${i}]`)),
      'the app host holds them',
    );
    await t.client.servers.stop('w2');
    await until('the app host holds neither', async () => !inodes.some((i) => held().includes(`socket:[${i}]`)));
    assert.doesNotMatch((await run('ip', ['netns', 'exec', ns, 'ss', '-ltn'])).stdout, /:80\b/, 'nothing listens in the stopped server');
  } finally {
    child.kill();
  }
  assert.doesNotMatch(out, /Traceback/, out);
  await until('w1 still answers', async () => (await get('http://10.61.1.10:8080/')).startsWith('Hello from w1'));
  await t.client.servers.start('w2');
  await until('w2 answers again', async () => (await get('http://10.61.1.11/')).startsWith('Hello from w2'));
});

test('an app host that dies is started again, and every app is served again', { skip: skipLinux }, async () => {
  await until('served', async () => appHostPid() !== null && apps.served.size === 2);
  const pid = appHostPid()!;
  process.kill(pid, 'SIGKILL');
  await until('a new app host serves both', async () => appHostPid() !== null && appHostPid() !== pid && apps.served.size === 2);
  assert.equal(identityOf(pid), null, 'the old one is gone');
  await until(
    'both answer',
    async () => (await get('http://10.61.1.10:8080/')).startsWith('Hello from w1') && (await get('http://10.61.1.11/')).startsWith('Hello from w2'),
  );
});

test("a deleted server's app and request log go; the last one gone, the app host ends", { skip: skipLinux }, async () => {
  const log = apps.logFile(ids.w2);
  assert.ok(existsSync(log), 'w2 has a request log');
  await t.client.servers.delete('w2');
  await until('its log is gone', async () => !existsSync(log));
  await until('w2 is no longer served', async () => !apps.served.has(ids.w2));
  await t.client.servers.delete('w1');
  await until('the app host ends', async () => appHostPid() === null);
});

test('a connection accepted while its socket is on the way is kept unread, then answered where the socket goes', { skip: skipLinux }, async () => {
  const ns = `${t.prefix}-sock`;
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const clients: ChildProcess[] = [];
  try {
    const o = (await openSockets([{ id: 'x', ns, port: 8090 }])).get('x')!;
    assert.ok(!('error' in o), JSON.stringify(o));
    // A client inside the namespace, while the socket is still the daemon's own copy.
    const call = () => {
      const c = spawn('ip', ['netns', 'exec', ns, 'curl', '-s', '-m', '20', 'http://127.0.0.1:8090/on-the-way'], { stdio: ['ignore', 'pipe', 'ignore'] });
      clients.push(c);
      let out = '';
      c.stdout!.on('data', (d) => (out += d));
      return new Promise<string>((resolve) => c.on('close', () => resolve(out)));
    };
    const first = call();
    await until('the daemon holds the connection', async () => o.conns.length === 1);
    const http = createServer(webApp('onward', '10.0.0.9', null));
    // The daemon keeps it paused; here, as in the app host, it is served from where it arrives.
    handOn(o, (s) => (http.emit('connection', s), s.resume()));
    assert.match(await first, /^Hello from onward \(10\.0\.0\.9\)\npath: \/on-the-way/);
    // One that comes after is passed on at once.
    assert.match(await call(), /^Hello from onward/);
    o.server.close();
    http.close();
  } finally {
    for (const c of clients) c.kill();
    await run('ip', ['netns', 'del', ns]);
  }
});
