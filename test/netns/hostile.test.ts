/**
 * A hostile tenant on the linux data plane (privileged): two projects, each with its own token.
 * From a shell in project B's server every attack on project A fails, one by one; from A's own
 * server, root works as on a machine of one's own (ping, tcpdump, port 80). And the reference
 * lab's step 3 as a user types it: `nimbus ssh ecs-a`, then `ping -c 3` in that shell, on a
 * pseudo-terminal.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, LAB_SETUP, cli } from '../helpers/daemon.js';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import type { NimbusClient } from '../../src/client/client.js';
import { identityOf } from '../../src/workloads/process-identity.js';
import { workerDir } from '../../src/workloads/lb-dirs.js';
import { routerNs, serverNs } from '../../src/dataplane/linux/names.js';
import { claimIds, ID_BASE, ID_RANGE } from '../../src/dataplane/ids.js';
import { run } from '../../src/dataplane/linux/run.js';

let t: LinuxTestDaemon;
let a: NimbusClient;
let b: NimbusClient;
const ids: Record<string, string> = {};

before(async () => {
  if (skipLinux) return;
  t = await linuxDaemon();
  for (const p of ['tenant-a', 'tenant-b']) await t.client.projects.create({ name: p });
  a = t.client.withToken((await t.client.tokens.create({ name: 'ta', project: 'tenant-a' })).secret);
  b = t.client.withToken((await t.client.tokens.create({ name: 'tb', project: 'tenant-b' })).secret);
  for (const c of [a, b]) {
    await c.vpcs.create({ name: 'v', cidr: '10.60.0.0/16' });
    await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.60.1.0/24' });
  }
  ids.aWeb = (await a.servers.create({ name: 'a-web', subnet: 's', ip: '10.60.1.10', app: 'web' })).id;
  ids.aPeer = (await a.servers.create({ name: 'a-peer', subnet: 's', ip: '10.60.1.11' })).id;
  ids.bShell = (await b.servers.create({ name: 'b-shell', subnet: 's', ip: '10.60.1.20' })).id;
  ids.bTarget = (await b.servers.create({ name: 'b-target', subnet: 's', ip: '10.60.1.21' })).id;
  ids.bThird = (await b.servers.create({ name: 'b-third', subnet: 's', ip: '10.60.1.22' })).id;
  ids.aLb = (await a.loadBalancers.create({ name: 'a-lb', subnet: 's' })).id;
  await a.pools.create({ name: 'p', loadBalancer: 'a-lb', protocol: 'http', algorithm: 'round_robin' });
  await a.members.create({ name: 'm', pool: 'p', server: 'a-web', port: 8080 });
  await a.listeners.create({ name: 'l', loadBalancer: 'a-lb', protocol: 'http', port: 18097, defaultPool: 'p' });
  await t.daemon.ready;
  await t.daemon.dataplane.settled();
});
after(async () => {
  await t?.close();
});

/** Runs `script` with sh in a server of B's (as B), and answers its exit code and output. */
async function inB(script: string, server = 'b-shell') {
  return b.exec(server, ['sh', '-c', script]);
}

/** The pid of a supervised process once it runs its program (`marker` in its command line). */
async function pidOf(key: string, marker: string): Promise<number> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const pid = t.daemon.workloads.supervisor.pid(key);
    const cmdline = pid ? (identityOf(pid)?.cmdline ?? '') : '';
    // Once the wrappers have exec'd the program itself.
    if (pid && cmdline.startsWith(process.execPath) && cmdline.includes(marker)) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${key} never ran ${marker}`);
}

test("from B's server, and from A's own: the app host that serves A's web app cannot be killed", { skip: skipLinux }, async () => {
  const pid = await pidOf(t.daemon.workloads.apps!.key, 'app-host.js');
  const before = identityOf(pid)!;
  for (const r of [await inB(`kill -9 ${pid}`), await a.exec('a-web', ['sh', '-c', `kill -9 ${pid}`])]) {
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /not permitted|No such process/);
  }
  assert.deepEqual(identityOf(pid), before, 'the same process still runs');
});

test("A's web app: listens inside A's server, answers as a-web, logs per server, from a process no tenant's identity runs", { skip: skipLinux }, async () => {
  // Once it answers (the app host opens the socket as soon as the server's namespace is made).
  let peer = await a.exec('a-peer', ['curl', '-s', '-A', 'hostile-test', 'http://10.60.1.10:8080/who']);
  for (const deadline = Date.now() + 60_000; peer.code !== 0 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 200));
    peer = await a.exec('a-peer', ['curl', '-s', '-A', 'hostile-test', 'http://10.60.1.10:8080/who']);
  }
  assert.match(peer.stdout, /^Hello from a-web \(10\.60\.1\.10\)/);
  const ss = await a.exec('a-web', ['ss', '-ltn']);
  assert.match(ss.stdout, /0\.0\.0\.0:8080\b/, 'the socket is in the server');
  const logs = await a.serverLogs('a-web');
  assert.ok(
    logs.requests.some((r) => r.client === '10.60.1.11' && r.path === '/who' && r.userAgent === 'hostile-test'),
    JSON.stringify(logs.requests),
  );
  const pid = await pidOf(t.daemon.workloads.apps!.key, 'app-host.js');
  const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  // No machine maps the app host's id: each server's machine maps a range of ids of its own (ids.ts).
  for (const id of [ids.aWeb, ids.aPeer, ids.bShell]) {
    const first = claimIds(serverNs(t.prefix, id));
    assert.ok(uid < first || uid >= first + ID_RANGE, `uid ${uid} is outside ${id}'s range from ${first}`);
  }
  assert.ok(uid >= ID_BASE, `uid ${uid} is one of Nimbus's own, not a system's or a user's`);
});

test("from B's server: A's load balancer's control socket cannot be reached", { skip: skipLinux }, async () => {
  const sock = join(workerDir(t.dataDir, ids.aLb), 'control.sock');
  // The default engine's process: HAProxy's agent where HAProxy is installed, else Nimbus's worker.
  await pidOf(ids.aLb, t.daemon.loadBalancers.l7.engine === 'haproxy' ? 'lb-haproxy.js' : 'lb-worker.js');
  const probe = `require('node:net').connect(${JSON.stringify(sock)}).on('connect', () => process.exit(0)).on('error', (e) => { console.log(e.code); process.exit(3); })`;
  const r = await inB(`node -e "${probe.replaceAll('"', '\\"')}"`);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /EACCES|ENOENT/);
});

test('a worker hears only its daemon, and a configuration it holds that the store does not say is replaced', { skip: skipLinux }, async () => {
  const vip = (await a.loadBalancers.get('a-lb')).vip;
  const fetchVip = `python3 -c "import urllib.request; print(urllib.request.urlopen('http://${vip}:18097/', timeout=2).read().decode()[:40])"`;
  const served = async () => {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const r = await a.exec('a-peer', ['sh', '-c', fetchVip]);
      if (r.code === 0 && /Hello from a-web/.test(r.stdout)) return;
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error('the load balancer does not serve');
  };
  await served();
  const sock = join(workerDir(t.dataDir, ids.aLb), 'control.sock');
  const emptyConfig = JSON.stringify({ type: 'config', config: { listeners: [], pools: [] } }) + '\n';
  // Without the secret handed to the worker at spawn, the worker hangs up at the first line.
  await new Promise<void>((resolve, reject) => {
    const c = createConnection(sock, () => c.write(emptyConfig));
    c.on('close', () => resolve());
    c.on('error', reject);
  });
  await served();
  // Root on the host, the strongest caller there is, reads the secret and empties the worker's configuration.
  const secret = readFileSync(join(t.dataDir, 'lb', ids.aLb, 'control.key'), 'utf8').trim();
  await new Promise<void>((resolve, reject) => {
    const c = createConnection(sock, () => c.end(JSON.stringify({ type: 'hello', secret }) + '\n' + emptyConfig, () => resolve()));
    c.on('error', reject);
  });
  await served();
  const lb = await a.loadBalancers.status('a-lb');
  assert.ok(JSON.stringify(lb).includes('the worker held a configuration the store does not say'), `the repair is on the record: ${JSON.stringify(lb)}`);
});

test("from B's server: the database, A's logs and the daemon's environment cannot be read", { skip: skipLinux }, async () => {
  const paths = [
    join(t.dataDir, 'nimbus.db'),
    join(t.dataDir, 'nimbus.db-wal'),
    join(t.dataDir, 'admin-token'),
    t.daemon.workloads.apps!.logFile(ids.aWeb),
    join(workerDir(t.dataDir, ids.aLb), 'access.log'),
    `/proc/${process.pid}/environ`,
    `/proc/${process.pid}/cmdline`,
  ];
  for (const p of paths) {
    const r = await inB(`cat ${p} > /dev/null`);
    assert.notEqual(r.code, 0, `${p} was readable`);
  }
  const ps = await inB('ps -eo pid,args');
  assert.doesNotMatch(ps.stdout, /web\.js|lb-worker|nimbus/, "no other server's, worker's or the daemon's process is visible");
  const env = await inB('env');
  assert.deepEqual(
    env.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('=')[0])
      .sort(),
    ['HOME', 'HOSTNAME', 'LANG', 'LOGNAME', 'PATH', 'PWD', 'SHELL', 'TERM', 'USER'],
  );
});

test("from B's server: a forged source address is dropped at its port, as trace says", { skip: skipLinux }, async () => {
  const trace = await cli(t.daemon.url, ['trace', 'b-shell', '10.60.1.21', '--source-ip', '10.60.1.22'], { NIMBUS_TOKEN: b.token! });
  assert.equal(trace.code, 1);
  assert.match(trace.stdout, /DROP\s+port\s+b-shell\s+source 10\.60\.1\.22 is not b-shell's address/);
  // A capture on b-target (by the host) takes the first ICMP packet that arrives: the forged one is sent first.
  const capture = run('ip', ['netns', 'exec', serverNs(t.prefix, ids.bTarget), 'tcpdump', '-c', '1', '-n', '-l', '-i', 'eth0', 'icmp'], { timeoutMs: 60_000 });
  const send = (src: string) =>
    `import socket,struct\ndef cs(b):\n s=sum(struct.unpack('!%dH'%(len(b)//2),b)); s=(s>>16)+(s&0xffff); s+=s>>16; return ~s&0xffff\nicmp=struct.pack('!BBHHH',8,0,0,7,1)\nicmp=struct.pack('!BBHHH',8,0,cs(icmp),7,1)\nip=struct.pack('!BBHHHBBH4s4s',0x45,0,28,1,0,64,1,0,socket.inet_aton('${src}'),socket.inet_aton('10.60.1.21'))\ns=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_RAW)\ns.sendto(ip+icmp,('10.60.1.21',0))\n`;
  for (let i = 0; i < 200; i++) {
    const forged = await inB(`python3 -c "${send('10.60.1.22')}"`);
    assert.equal(forged.code, 0, forged.stderr);
    const genuine = await inB(`python3 -c "${send('10.60.1.20')}"`);
    assert.equal(genuine.code, 0, genuine.stderr);
    const done = await Promise.race([capture, new Promise((r) => setTimeout(() => r(null), 200))]);
    if (done) break;
  }
  const seen = await capture;
  assert.match(seen.stdout, /IP 10\.60\.1\.20 > 10\.60\.1\.21: ICMP echo request/, seen.stdout + seen.stderr);
  const counters = await run('ip', ['netns', 'exec', routerNs(t.prefix, (await b.vpcs.get('v')).id), 'nft', 'list', 'table', 'bridge', 'nimbus_ports']);
  assert.match(counters.stdout, /counter packets [1-9]\d* bytes \d+ drop comment "port security/);
});

test("from B's server: the daemon's API port is out of reach", { skip: skipLinux }, async () => {
  const port = new URL(t.daemon.url).port;
  for (const host of ['127.0.0.1', '10.60.1.1']) {
    const r = await inB(`timeout 3 bash -c 'exec 3<>/dev/tcp/${host}/${port}' && echo connected`);
    assert.doesNotMatch(r.stdout, /connected/, `${host}:${port} answered`);
  }
});

test("in A's own server: root, ping, tcpdump, port 80 and the server's name", { skip: skipLinux }, async () => {
  const r = await a.exec('a-peer', [
    'sh',
    '-c',
    'id -u; hostname; ping -c 1 -W 2 10.60.1.10 >/dev/null && echo pinged; (tcpdump -c 1 -n -i eth0 icmp 2>/dev/null &) ; sleep 0.5; ping -c 2 -W 2 10.60.1.10 >/dev/null; wait; python3 -c "import socket; s=socket.socket(); s.bind((\'0.0.0.0\', 80)); s.listen(); print(\'bound 80\')"; ip addr add 10.60.1.99/24 dev eth0 2>/dev/null || echo "no address change"',
  ]);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], '0', r.stdout + r.stderr);
  assert.equal(lines[1], 'a-peer');
  assert.ok(lines.includes('pinged'), r.stdout + r.stderr);
  assert.ok(lines.includes('bound 80'), r.stdout + r.stderr);
  assert.ok(lines.includes('no address change'), 'root of a server does not manage its interfaces (no CAP_NET_ADMIN)');
  assert.ok(
    lines.some((l) => /IP 10\.60\.1\.\d+ > 10\.60\.1\.\d+: ICMP/.test(l)),
    r.stdout + r.stderr,
  );
});

test('reference lab step 3 as typed: nimbus ssh ecs-a, then ping -c 3 in that shell', { skip: skipLinux }, async () => {
  const admin = (...args: string[]) => cli(t.daemon.url, args);
  for (const s of LAB_SETUP) assert.equal((await admin(...s)).code, 0, s.join(' '));
  await admin('peering', 'create', '--name', 'pcx-ab', '--vpc', 'vpc-a', '--peer-vpc', 'vpc-b');
  await admin('route', 'add', '--vpc', 'vpc-a', '--destination', '192.168.5.0/24', '--target', 'pcx-ab');
  await admin('route', 'add', '--vpc', 'vpc-b', '--destination', '192.168.6.0/25', '--target', 'pcx-ab', '--wait');
  // script(1) gives nimbus a pseudo-terminal, as a person's terminal would.
  const term = spawn('script', ['-qfec', `${process.execPath} ${BIN} ssh ecs-a`, '/dev/null'], {
    env: { ...process.env, NIMBUS_URL: t.daemon.url, NIMBUS_PROJECT: '', TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  term.stdout.on('data', (d) => (screen += d));
  const waitFor = async (re: RegExp) => {
    for (const deadline = Date.now() + 60_000; !re.test(screen);) {
      if (Date.now() > deadline) throw new Error(`no ${re} in: ${screen}`);
      if (term.exitCode !== null) throw new Error(`the session ended: ${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await waitFor(/#\s*$/m);
  term.stdin.write('hostname; id -u; ping -c 3 192.168.5.130\n');
  await waitFor(/3 packets transmitted, 3 received/);
  term.stdin.write('exit\n');
  await new Promise((r) => term.once('close', r));
  assert.match(screen, /ecs-a\r*\n0\r*\n/);
  assert.match(screen, /64 bytes from 192\.168\.5\.130: icmp_seq=3/);
  const hosts = readFileSync(`/etc/netns/${serverNs(t.prefix, (await t.client.servers.get('ecs-a')).id)}/hosts`, 'utf8');
  assert.match(hosts, /192\.168\.6\.76\tecs-a/);
});
