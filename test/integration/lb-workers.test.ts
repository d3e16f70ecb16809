/**
 * A load balancer with two workers: both serve, the counters add up, and a worker killed
 * under load loses only its own connections; new connections are never refused, and the
 * primary starts another in its place. Bounded: at most 3,000 requests or 30 s. Nimbus's own
 * engine's primary and workers (HAProxy's threads and master are lb.test.ts's and the contract's).
 */
import { test, before, after } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { testDaemon, cli, type TestDaemon } from '../helpers/daemon.js';
import { part1, part2, randomPublicIp, waitMembersOnline, waitUp } from '../helpers/lab.js';

let t: TestDaemon;
let base: string;
before(async () => {
  t = await testDaemon({ l7Engine: 'builtin' });
  await part1(t.client, 'web');
  base = await part2(t.client, randomPublicIp('virtual'));
  await t.client.loadBalancers.update('elb', { workers: 2 });
  await waitUp(`${base}/`);
  await waitMembersOnline(t.client);
});
after(async () => {
  await t?.close();
});

/** The pids of the primary's engine workers (its children running the worker). */
function engineWorkers(primary: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(ppid) === primary && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function primaryPid(): Promise<number> {
  const lb = await t.client.loadBalancers.get('elb');
  for (let i = 0; i < 100; i++) {
    const pid = t.daemon.loadBalancers['supervisor'].pid(lb.id);
    // At least two: under load a third was seen once for a while (see the closing note); the tests need two.
    if (pid && engineWorkers(pid).length >= 2) return pid;
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = t.daemon.loadBalancers['supervisor'].pid(lb.id);
  const kids = pid ? engineWorkers(pid).map((k) => `${k}: ${readFileSync(`/proc/${k}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(-80)}`) : [];
  throw new Error(`no primary with two workers: pid ${pid}, children ${kids.join('; ')}`);
}

/** One request on a new connection: 'ok', 'refused' (ECONNREFUSED), or another failure. */
function once(url: URL): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: '/w', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `status ${res.statusCode}`));
      res.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    req.on('error', (e) =>
      resolve((e as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'refused' : `error ${(e as NodeJS.ErrnoException).code ?? e.message}`),
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Four clients, each a request on a new connection after another, until stopped (at most 3,000 requests or 30 s): the outcomes counted. */
function loadOn(url: URL): { ok(): number; stop(): Promise<Map<string, number>> } {
  const results = new Map<string, number>();
  let running = true;
  let sent = 0;
  const until = Date.now() + 30_000;
  const client = async () => {
    while (running && sent < 3000 && Date.now() < until) {
      sent++;
      const r = await once(url);
      results.set(r, (results.get(r) ?? 0) + 1);
    }
  };
  const all = Promise.all([client(), client(), client(), client()]);
  return {
    ok: () => results.get('ok') ?? 0,
    stop: async () => {
      running = false;
      await all;
      return results;
    },
  };
}

test('two workers: a worker SIGKILLed under load refuses no connection, and is replaced', async () => {
  const primary = await primaryPid();
  const url = new URL(base);
  // Both workers hold the public socket (a worker just started borrows it from its sibling first).
  const holders = () => {
    const out = spawnSync('ss', ['-ltnpH', `sport = :${url.port || 80}`], { encoding: 'utf8' }).stdout;
    return new Set([...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
  };
  for (const deadline = Date.now() + 30_000; engineWorkers(primary).some((p) => !holders().has(p));) {
    assert.ok(Date.now() < deadline, `not every worker holds the public socket: ${[...holders()]} of ${engineWorkers(primary)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const [victim] = engineWorkers(primary);
  const load = loadOn(url);
  await new Promise((r) => setTimeout(r, 400));
  process.kill(victim, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 800));
  const results = await load.stop();
  const failed = [...results].filter(([k]) => k !== 'ok');
  assert.ok((results.get('ok') ?? 0) > 50, `requests were served across the kill (${JSON.stringify([...results])})`);
  assert.equal(results.get('refused') ?? 0, 0, 'no connection was refused');
  assert.ok(failed.reduce((n, [, c]) => n + c, 0) <= 4, `at most the dead worker's in-flight requests failed: ${JSON.stringify(failed)}`);
  for (let i = 0; i < 50 && engineWorkers(primary).filter((p) => p !== victim).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(engineWorkers(primary).filter((p) => p !== victim).length >= 2, 'the primary started another worker');
  assert.ok(!engineWorkers(primary).includes(victim), 'the killed one is gone');
  assert.equal(t.daemon.loadBalancers['supervisor'].pid((await t.client.loadBalancers.get('elb')).id), primary, 'the load balancer itself did not restart');
});

test(
  "the workers parse tenants' traffic unprivileged: not as root, and their folder is theirs",
  { skip: process.getuid?.() === 0 ? false : 'needs root to have a privilege to drop' },
  async () => {
    const primary = await primaryPid();
    const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    // Read once the process is node itself (the wrappers that drop the privilege have exec'd it): on a loaded machine that takes a while.
    const isNode = (pid: number) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`) === process.execPath;
      } catch {
        return false;
      }
    };
    const pids = [primary, ...engineWorkers(primary)];
    for (const deadline = Date.now() + 60_000; !pids.every(isNode) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
    for (const pid of pids) assert.notEqual(uidOf(pid), 0, `process ${pid} runs as root`);
    const dir = t.daemon.loadBalancers.ownDir((await t.client.loadBalancers.get('elb')).id);
    assert.ok(dir.startsWith('/var/lib/nimbus/'), dir);
    assert.equal(statSync(dir).uid, uidOf(primary));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  },
);

test('both workers serve, the access log holds both, and the counters add up', async () => {
  await waitUp(`${base}/`);
  const before = (await t.client.loadBalancers.status('elb')).listeners[0].counters?.requests['2xx'] ?? 0;
  const url = new URL(base);
  for (let i = 0; i < 40; i++) assert.equal(await once(url), 'ok');
  let after = before;
  for (let i = 0; i < 50 && after < before + 40; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = (await t.client.loadBalancers.status('elb')).listeners[0].counters?.requests['2xx'] ?? 0;
  }
  assert.ok(after >= before + 40, `the summed counter took all 40 requests (${before} -> ${after})`);
  const dir = t.daemon.loadBalancers.ownDir((await t.client.loadBalancers.get('elb')).id);
  const files = readdirSync(dir).filter((f) => /^access\.log\.w\d$/.test(f));
  assert.deepEqual(files.sort(), ['access.log.w0', 'access.log.w1'], 'one access log per worker');
  const logs = await cli(t.daemon.url, ['lb', 'logs', 'elb', '--tail', '40', '-o', 'json']);
  const lines = JSON.parse(logs.stdout) as { path: string }[];
  assert.equal(lines.filter((l) => l.path === '/w').length, 40, 'lb logs merges them');
  const show = await cli(t.daemon.url, ['lb', 'show', 'elb']);
  assert.match(show.stdout, /workers\s+2/);
});

test('two workers check health once between them, and both follow what the check finds', async () => {
  // The lab's monitor: HTTP every 2 s. One checker: about 4 checks of ecs-a in 8 s; one per worker would be about 8.
  const checks = async () => (await t.client.serverLogs('ecs-a')).requests.filter((r) => r.userAgent?.includes('health')).length;
  await new Promise((r) => setTimeout(r, 1000));
  const before = await checks();
  await new Promise((r) => setTimeout(r, 8000));
  const during = (await checks()) - before;
  assert.ok(during >= 2 && during <= 6, `${during} checks of ecs-a in 8 s with a 2 s delay`);

  // A member whose port nothing listens on: the checker finds it DOWN, and the other worker follows.
  const failures = async (memberId: string) => {
    const m = new RegExp(`nimbus_lb_member_connect_failures_total\\{lb="[^"]+",member="${memberId}"\\} (\\d+)`).exec(await t.client.metrics());
    return Number(m?.[1] ?? 0);
  };
  const dead = await t.client.members.create({ name: 'm-dead', pool: 'web', server: 'ecs-b', port: 9 });
  for (let i = 0; i < 150 && (await t.client.members.get('m-dead')).operatingStatus !== 'ERROR'; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await t.client.members.get('m-dead')).operatingStatus, 'ERROR');
  await new Promise((r) => setTimeout(r, 1500)); // the workers' counters reach the daemon every second
  const seen = await failures(dead.id);
  const url = new URL(base);
  for (let i = 0; i < 30; i++) assert.equal(await once(url), 'ok');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await failures(dead.id), seen, 'neither worker tried the member the check found down');
  await t.client.members.delete('m-dead');
});

test('a change right after a change of workers ends ACTIVE (the primary answers several configurations once)', async () => {
  for (const [workers, weight] of [
    [1, 0],
    [2, 1],
  ]) {
    await t.client.loadBalancers.update('elb', { workers });
    await t.client.members.update('m-b', { weight });
    let lb = await t.client.loadBalancers.get('elb');
    for (const deadline = Date.now() + 60_000; lb.provisioningStatus !== 'ACTIVE' && Date.now() < deadline; lb = await t.client.loadBalancers.get('elb'))
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      lb.provisioningStatus,
      'ACTIVE',
      `workers ${workers}, then weight ${weight}: ${JSON.stringify((await t.client.loadBalancers.status('elb')).errors)}`,
    );
  }
});

test('one worker SIGKILLed under load: its socket holder keeps the public socket, connections wait for the next worker, none is refused', async () => {
  await t.client.loadBalancers.update('elb', { workers: 1 });
  const lbId = (await t.client.loadBalancers.get('elb')).id;
  for (const deadline = Date.now() + 60_000; (await t.client.loadBalancers.get('elb')).provisioningStatus !== 'ACTIVE' && Date.now() < deadline;)
    await new Promise((r) => setTimeout(r, 100));
  const url = new URL(base);
  await waitUp(`${base}/`);
  const victim = t.daemon.loadBalancers['supervisor'].pid(lbId) as number;
  assert.ok(victim, 'a worker runs');
  // Who listens on the public port: the daemon runs in this process (its pid would show), the worker, and the holder.
  const listeners = () =>
    new Set([...spawnSync('ss', ['-ltnpH', `sport = :${url.port || 80}`], { encoding: 'utf8' }).stdout.matchAll(/pid=(\d+),/g)].map((m) => Number(m[1])));
  for (const deadline = Date.now() + 30_000; !listeners().has(victim); await new Promise((r) => setTimeout(r, 100)))
    assert.ok(Date.now() < deadline, `the worker takes the public socket: ${[...listeners()]}`);
  const holder = [...listeners()].find((p) => p !== victim && readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('python3'));
  assert.ok(holder, `a socket holder keeps the public socket beside the worker: ${[...listeners()]}`);
  const load = loadOn(url);
  for (const deadline = Date.now() + 20_000; load.ok() < 40 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
  process.kill(victim, 'SIGKILL');
  let daemonListened = false;
  let next = 0;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    daemonListened ||= listeners().has(process.pid);
    const pid = t.daemon.loadBalancers['supervisor'].pid(lbId);
    if (pid && pid !== victim && listeners().has(pid)) {
      next = pid;
      break;
    }
  }
  assert.ok(next, 'the next worker took the socket');
  // Requests the next worker served.
  const before = load.ok();
  for (const deadline = Date.now() + 20_000; load.ok() < before + 40 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
  const results = await load.stop();
  assert.equal(daemonListened, false, 'the daemon did not listen in between: the holder kept the socket');
  assert.ok(listeners().has(holder), 'the same holder still keeps it');
  assert.equal(results.get('refused') ?? 0, 0, `none refused: ${JSON.stringify([...results])}`);
  // A request in flight on the dead worker may be cut (one per client); no other fails.
  const failed = [...results].filter(([k]) => k !== 'ok').reduce((n, [, c]) => n + c, 0);
  assert.ok(failed <= 4, `at most the requests in flight failed: ${JSON.stringify([...results])}`);
  assert.ok(load.ok() >= before + 40, `the next worker served (${JSON.stringify([...results])})`);
});
