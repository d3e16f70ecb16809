/**
 * The random-crash run (issue 12 §7), shared by the privileged test (a small fixed number of
 * kills) and `npm run soak` (many): a real daemon on the linux data plane builds a topology
 * (3 VPCs, 30 servers, two peerings with routes, a load balancer behind a public IP) and tears
 * it down through the API, and is SIGKILLed at random moments of both. After each restart it
 * must converge (status converged with no errors, an empty plan), the analyzer must agree with
 * real pings, and the load balancer must serve once it is built. At the end nothing may be
 * left: no namespace, nft table, process or pid file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { ApiError, NimbusClient } from '../../src/client/client.js';
import { listNamespaces } from '../../src/dataplane/linux/observe.js';
import { owned } from '../../src/dataplane/linux/names.js';
import { identityOf } from '../../src/workloads/process-identity.js';
import { spawnServe } from './daemon.js';

export interface CrashReport {
  operations: number;
  kills: number;
  /** Server pairs whose analyzer verdict was compared with a real ping, and how many agreed. */
  pairs: number;
  agreed: number;
  disagreements: string[];
  /** Times the load balancer was checked after a restart, and served. */
  lbChecks: number;
  lbServed: number;
  /** The checks it failed: where, and the last error a client saw. */
  lbUnserved: string[];
  /** Restarts that did not converge (plan not empty, errors) within the wait. */
  unconverged: string[];
  leftovers: string[];
  ms: number;
}

type Op = { what: string; run: (c: NimbusClient) => Promise<unknown> };

/** A create that finds its resource already there, or a delete that finds it gone, was done before the kill. */
const DONE_BEFORE = /NameInUse|Duplicate|AlreadyExists|InUse|NotFound/;

/** A small deterministic random source (mulberry32), so a failing seed can be run again. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VPCS = [1, 2, 3];
const PER_SUBNET = 10;
const ip = (v: number, i: number) => `10.8${v}.1.${10 + i}`;

function buildOps(publicIp: string, port: number): Op[] {
  const ops: Op[] = [];
  for (const v of VPCS) {
    ops.push({ what: `vpc v${v}`, run: (c) => c.vpcs.create({ name: `v${v}`, cidr: `10.8${v}.0.0/16` }) });
    ops.push({ what: `subnet s${v}`, run: (c) => c.subnets.create({ name: `s${v}`, vpc: `v${v}`, cidr: `10.8${v}.1.0/24` }) });
  }
  for (const v of VPCS) {
    for (let i = 0; i < PER_SUBNET; i++) {
      const app = v === 1 && i < 2 ? 'web' : undefined;
      ops.push({ what: `server e${v}-${i}`, run: (c) => c.servers.create({ name: `e${v}-${i}`, subnet: `s${v}`, ip: ip(v, i), app }) });
    }
  }
  for (const [a, b] of [
    [1, 2],
    [2, 3],
  ]) {
    ops.push({ what: `peering p${a}${b}`, run: (c) => c.peerings.create({ name: `p${a}${b}`, vpc: `v${a}`, peerVpc: `v${b}` }) });
    ops.push({ what: `route v${a}->v${b}`, run: (c) => c.routeTables.addRoute(`v${a}-main`, { destination: `10.8${b}.0.0/16`, target: `p${a}${b}` }) });
    ops.push({ what: `route v${b}->v${a}`, run: (c) => c.routeTables.addRoute(`v${b}-main`, { destination: `10.8${a}.0.0/16`, target: `p${a}${b}` }) });
  }
  ops.push({ what: 'lb', run: (c) => c.loadBalancers.create({ name: 'elb', subnet: 's1', publicIp }) });
  ops.push({ what: 'pool', run: (c) => c.pools.create({ name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' }) });
  ops.push({ what: 'member 0', run: (c) => c.members.create({ name: 'm0', pool: 'web', server: 'e1-0', port: 8080 }) });
  ops.push({ what: 'member 1', run: (c) => c.members.create({ name: 'm1', pool: 'web', server: 'e1-1', port: 8080 }) });
  ops.push({ what: 'listener', run: (c) => c.listeners.create({ name: 'l', loadBalancer: 'elb', protocol: 'http', port, defaultPool: 'web' }) });
  // A TCP listener: nftables rules in the load balancer's namespace and on the host (linux plane).
  ops.push({ what: 'tcp pool', run: (c) => c.pools.create({ name: 'raw', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'round_robin' }) });
  ops.push({ what: 'tcp member', run: (c) => c.members.create({ name: 'r0', pool: 'raw', server: 'e1-0', port: 8080 }) });
  ops.push({ what: 'tcp listener', run: (c) => c.listeners.create({ name: 't', loadBalancer: 'elb', protocol: 'tcp', port: port + 1, defaultPool: 'raw' }) });
  return ops;
}

function teardownOps(): Op[] {
  const ops: Op[] = [{ what: 'delete lb', run: (c) => c.loadBalancers.delete('elb', { cascade: true }) }];
  for (const [a, b] of [
    [1, 2],
    [2, 3],
  ]) {
    ops.push({ what: `delete route v${a}->v${b}`, run: (c) => c.routeTables.removeRoute(`v${a}-main`, `10.8${b}.0.0/16`) });
    ops.push({ what: `delete route v${b}->v${a}`, run: (c) => c.routeTables.removeRoute(`v${b}-main`, `10.8${a}.0.0/16`) });
    ops.push({ what: `delete peering p${a}${b}`, run: (c) => c.peerings.delete(`p${a}${b}`) });
  }
  for (const v of VPCS) for (let i = 0; i < PER_SUBNET; i++) ops.push({ what: `delete server e${v}-${i}`, run: (c) => c.servers.delete(`e${v}-${i}`) });
  for (const v of VPCS) {
    ops.push({ what: `delete subnet s${v}`, run: (c) => c.subnets.delete(`s${v}`) });
    ops.push({ what: `delete vpc v${v}`, run: (c) => c.vpcs.delete(`v${v}`) });
  }
  return ops;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitConverged(c: NimbusClient, limitMs = 60_000): Promise<string | null> {
  const until = Date.now() + limitMs;
  let why = '';
  while (Date.now() < until) {
    const st = await c.status();
    const plan = st.dataplane.converged ? (await c.dataplane.plan()).steps : [];
    if (st.dataplane.converged && st.dataplane.errors.length === 0 && plan.length === 0) return null;
    why = `converged ${st.dataplane.converged}, errors ${JSON.stringify(st.dataplane.errors.slice(0, 2))}, plan ${plan.length} steps`;
    await sleep(200);
  }
  return why;
}

/** null once the URL answers 200, else the last thing a client saw. */
async function served(url: string, limitMs = 20_000): Promise<string | null> {
  const until = Date.now() + limitMs;
  let last = 'no attempt';
  while (Date.now() < until) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000), headers: { connection: 'close' } });
      const body = await r.text();
      if (r.status === 200) return null;
      last = `${r.status} ${body.slice(0, 80)}`;
    } catch (err) {
      last = String((err as Error).cause ?? err);
    }
    await sleep(200);
  }
  return last;
}

/** What an installation left behind after its daemon stopped. */
export async function leftovers(prefix: string, dir: string, pids: number[]): Promise<string[]> {
  const out: string[] = [];
  for (const ns of (await listNamespaces()).filter((n) => owned(prefix, n))) out.push(`namespace ${ns}`);
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  for (const line of tables.split('\n')) if (line.includes(prefix)) out.push(`nft ${line.trim()}`);
  const run = join(dir, 'run');
  if (existsSync(run)) for (const f of readdirSync(run)) out.push(`pid file ${f}`);
  for (const pid of pids) if (identityOf(pid)) out.push(`process ${pid}`);
  return out;
}

function pidsIn(dir: string): number[] {
  const run = join(dir, 'run');
  if (!existsSync(run)) return [];
  return readdirSync(run).flatMap((f) => {
    try {
      return [(JSON.parse(readFileSync(join(run, f), 'utf8')) as { pid: number }).pid];
    } catch {
      return [];
    }
  });
}

export async function crashRun(opts: {
  kills: number;
  seed: number;
  prefix: string;
  dir: string;
  publicIp: string;
  port: number;
  log?: (line: string) => void;
  /** The plane the daemon runs (linux by default; ovn with three simulated chassis). */
  dataplane?: 'linux' | 'ovn';
}): Promise<CrashReport> {
  const t0 = performance.now();
  const rnd = random(opts.seed);
  const log = opts.log ?? (() => undefined);
  const build = buildOps(opts.publicIp, opts.port);
  const teardown = teardownOps();
  const all = [...build, ...teardown];
  const killAt = new Set<number>();
  while (killAt.size < Math.min(opts.kills, all.length)) killAt.add(Math.floor(rnd() * all.length));
  const report: CrashReport = {
    operations: all.length,
    kills: 0,
    pairs: 0,
    agreed: 0,
    disagreements: [],
    lbChecks: 0,
    lbServed: 0,
    lbUnserved: [],
    unconverged: [],
    leftovers: [],
    ms: 0,
  };
  const plane = opts.dataplane ?? 'linux';
  const serve = () => spawnServe(['--data', opts.dir, '--dataplane', plane, '--prefix', opts.prefix, ...(plane === 'ovn' ? ['--chassis', '3'] : [])]);
  let daemon: { child: ChildProcess; url: string } | null = await serve();
  let c = new NimbusClient({ url: daemon.url });
  const seen = new Set<number>();
  try {
    for (let i = 0; i < all.length; i++) {
      const op = all[i];
      const call = op.run(c).catch((err: unknown) => err);
      if (killAt.has(i)) {
        // Somewhere in the request, or in the reconcile passes it starts.
        await sleep(Math.floor(rnd() * 40));
        for (const p of pidsIn(opts.dir)) seen.add(p);
        daemon.child.kill('SIGKILL');
        await new Promise((r) => daemon!.child.once('exit', r));
        await call;
        report.kills++;
        daemon = await serve();
        c = new NimbusClient({ url: daemon.url });
        log(`kill ${report.kills} during '${op.what}' (operation ${i + 1} of ${all.length})`);
        await check(c, build.length <= i, op.what);
        i--; // the operation again: done before the kill, or not
        killAt.delete(i + 1);
        continue;
      }
      const result = await call;
      if (result instanceof Error && !(result instanceof ApiError && (DONE_BEFORE.test(result.code) || / is already deleted$/.test(result.message))))
        throw new Error(`${op.what}: ${result.message}`);
      // Built: the whole topology is checked once, load balancer included, before the tear-down.
      if (i === build.length - 1) await check(c, false, 'the build');
    }
    await check(c, true, 'the end');
  } finally {
    for (const p of pidsIn(opts.dir)) seen.add(p);
    if (daemon) {
      const exited = new Promise((r) => daemon!.child.once('exit', r));
      daemon.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
      clearTimeout(timer);
      daemon.child.kill('SIGKILL');
    }
  }
  await sleep(300);
  report.leftovers = await leftovers(opts.prefix, opts.dir, [...seen]);
  report.ms = Math.round(performance.now() - t0);
  return report;

  /** After a restart: converged, the analyzer agrees with real pings, the load balancer serves (once built, until torn down). */
  async function check(client: NimbusClient, tearingDown: boolean, where: string): Promise<void> {
    const why = await waitConverged(client);
    if (why) report.unconverged.push(`after '${where}': ${why}`);
    const servers = (await client.servers.list()).filter((s) => s.status === 'running');
    for (let k = 0; k < 4 && servers.length > 1; k++) {
      const from = servers[Math.floor(rnd() * servers.length)];
      const to = servers[Math.floor(rnd() * servers.length)];
      if (from.id === to.id) continue;
      // The plane's own real probe (a ping; on ovn, one that allows for OVN losing a first packet).
      const r = await client.trace({ server: from.name, destination: to.privateIp, protocol: 'icmp', probe: true });
      const verdict = r.reachable;
      const real = r.probe!.reachable;
      report.pairs++;
      if (verdict === real) report.agreed++;
      else report.disagreements.push(`${from.name} -> ${to.name}: analyzer ${verdict}, ping ${real} (after '${where}')`);
    }
    const listeners = tearingDown ? [] : (await client.listeners.list()).map((l) => l.port);
    for (const port of listeners) {
      report.lbChecks++;
      const last = await served(`http://${opts.publicIp}:${port}/`);
      if (last === null) report.lbServed++;
      else report.lbUnserved.push(`port ${port} after '${where}': ${last}`);
    }
  }
}
