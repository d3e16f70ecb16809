/**
 * Density and scale on the linux data plane (root only): a lab of N servers (10 VPCs peered in
 * a ring, every server with `--app web`, 20 load balancers), at several sizes. For each size:
 * - memory: the machine's available memory before and after (all-in, per server), the daemon's
 *   RSS, and the RSS of every workload and worker process together;
 * - time from the first create to every server answering HTTP from a server of the peered VPC
 *   (real probes of every server, one curl per VPC), and the analyzer's verdict for all;
 * - one full reconcile pass (`dataplane sync`): its time and the daemon's CPU in it;
 * - `server create --wait` (the CLI, as a user runs it) while the lab exists: p50 and p99;
 * - a restart after SIGKILL: until the API answers, and until every server answers again;
 * - `nimbus dataplane clean`;
 * beside the floor a namespace costs: a bare `ip netns add` + veth + address per host, as
 * Mininet makes them, measured in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { serverNs } from '../src/dataplane/linux/names.js';
import { run } from '../src/dataplane/linux/run.js';
import { NimbusClient } from '../src/client/client.js';
import { BIN, spawnServe } from '../test/helpers/daemon.js';
import { percentile } from './lib/proc.js';
import { removeInstallation } from './lib/installation.js';

const VPCS = 10;
const LBS = 20;
const CREATE_SAMPLES = 20;
const REACH_LIMIT_MS = 600_000;

export interface ScaleResult {
  servers: number;
  /** Available memory used, all-in, per server (MB). */
  memPerServerMb: number;
  daemonRssMb: number;
  /** RSS of every supervised process (app host, load balancers, resolvers) together, per server (MB). */
  workloadRssPerServerMb: number;
  /** First create to last create (ms). */
  createMs: number;
  /** First create to every server answering HTTP from a peer (ms). */
  reachMs: number;
  /** Last create to every server answering (ms). */
  reachAfterLastMs: number;
  /** The load balancers, created after the servers answer, until all are ACTIVE (ms). */
  lbMs: number;
  answered: number;
  /** The analyzer's verdicts for every server, from a peer: how many say reachable, and their time. */
  analyzerReachable: number;
  analyzerMs: number;
  fullPassMs: number;
  fullPassCpuMs: number;
  createWaitP50Ms: number;
  createWaitP99Ms: number;
  restartApiMs: number;
  restartAllAnswerMs: number;
  cleanMs: number;
  /** The floor: N bare namespaces with a veth and an address each. */
  bareMs: number;
  bareMemPerNsMb: number;
}

const memAvailableKb = () => Number(/^MemAvailable:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
const rssKb = (pid: number) => {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};
/** utime + stime + cutime + cstime of a process, in ms. */
const cpuMs = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
};

/** RSS (kB) of every process in the sessions of the supervised processes (each runs in a session of its own). */
function supervisedRssKb(dataDir: string): number {
  const sessions = new Set<number>();
  for (const f of readdirSync(join(dataDir, 'run'))) {
    try {
      sessions.add((JSON.parse(readFileSync(join(dataDir, 'run', f), 'utf8')) as { pid: number }).pid);
    } catch {
      // gone meanwhile
    }
  }
  let kb = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const sid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
      if (sessions.has(sid)) kb += rssKb(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return kb;
}

/** The machine's busy share of CPU time over `ms`. */
async function busy(ms: number): Promise<number> {
  const read = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  const d = b.map((x, i) => x - a[i]);
  const total = d.reduce((x, y) => x + y, 0);
  return total > 0 ? 1 - (d[3] + d[4]) / total : 0; // idle and iowait
}

/**
 * Waits for a quiet machine before a measurement: the kernel tears namespaces down after `ip
 * netns del` returns (in its own workers, for seconds at a thousand), and that work and the
 * memory it frees would be counted in the next figure. At most a minute.
 */
async function settle(): Promise<void> {
  spawnSync('sync');
  for (let i = 0, quiet = 0; i < 120 && quiet < 2; i++) quiet = (await busy(500)) < 0.15 ? quiet + 1 : 0;
}

/** The lab, as a user builds it through the API: VPCs, groups, the peering ring and its routes. */
async function network(c: NimbusClient): Promise<void> {
  for (let v = 0; v < VPCS; v++) {
    await c.vpcs.create({ name: `v${v}`, cidr: `10.${v}.0.0/16` });
    await c.subnets.create({ name: `s${v}`, vpc: `v${v}`, cidr: `10.${v}.0.0/20` });
  }
  await c.securityGroups.create({ name: 'web' });
  await c.securityGroups.addRule('web', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '10.0.0.0/8' });
  await c.securityGroups.addRule('web', { direction: 'ingress', protocol: 'tcp', ports: '80', remote: '10.0.0.0/8' });
  for (let v = 0; v < VPCS; v++) {
    const w = (v + 1) % VPCS;
    await c.peerings.create({ name: `p${v}`, vpc: `v${v}`, peerVpc: `v${w}` });
    await c.routeTables.addRoute(`v${v}-main`, { destination: `10.${w}.0.0/16`, target: `p${v}` });
    await c.routeTables.addRoute(`v${w}-main`, { destination: `10.${v}.0.0/16`, target: `p${v}` });
  }
}

/** Creates `n` servers, `concurrency` requests at a time, spread over the VPCs. */
async function servers(c: NimbusClient, n: number, concurrency = 4): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await c.servers.create({ name: `e${i}`, subnet: `s${i % VPCS}`, app: 'web', securityGroups: ['web'] });
    }),
  );
}

async function loadBalancers(c: NimbusClient): Promise<void> {
  for (let i = 0; i < LBS; i++) {
    const v = i % VPCS;
    await c.loadBalancers.create({ name: `lb${i}`, subnet: `s${v}` });
    await c.pools.create({ name: `pool${i}`, loadBalancer: `lb${i}`, protocol: 'http', algorithm: 'round_robin' });
    for (const k of [0, 1]) await c.members.create({ pool: `pool${i}`, server: `e${v + VPCS * (2 * Math.floor(i / VPCS) + k)}`, port: 8080 });
    await c.listeners.create({ name: `l${i}`, loadBalancer: `lb${i}`, protocol: 'http', port: 80, defaultPool: `pool${i}` });
  }
}

async function untilLbsActive(c: NimbusClient): Promise<void> {
  for (const until = performance.now() + REACH_LIMIT_MS; performance.now() < until; await new Promise((r) => setTimeout(r, 200))) {
    if ((await c.loadBalancers.list()).every((lb) => lb.provisioningStatus === 'ACTIVE')) return;
  }
  throw new Error('the load balancers did not become ACTIVE');
}

interface Lab {
  ids: string[];
  ips: string[];
}

/**
 * Probes every server not yet answered, from a server of the VPC before it in the ring (one
 * `curl --parallel` per VPC, inside that server's namespace, the ten at once); marks those that
 * answered as themselves.
 */
async function sweep(prefix: string, lab: Lab, answered: boolean[]): Promise<void> {
  await Promise.all(
    Array.from({ length: VPCS }, async (_, v) => {
      const from = (v + VPCS - 1) % VPCS; // e{from} is in the VPC peered with v
      const targets = lab.ips.map((ip, i) => [ip, i] as const).filter(([, i]) => i % VPCS === v && !answered[i]);
      if (targets.length === 0) return;
      const urls = targets.map(([ip]) => `http://${ip}:8080/`);
      const args = ['netns', 'exec', serverNs(prefix, lab.ids[from]), 'curl', '-s', '-Z', '--parallel-max', '100', '--connect-timeout', '1', '-m', '2'];
      const r = await run('ip', [...args, '-w', '%{url} %{http_code}\\n', '-o', '/dev/null', ...urls], { timeoutMs: 60_000 });
      for (const line of r.stdout.split('\n')) {
        const m = /^http:\/\/([\d.]+):8080\/ 200$/.exec(line.trim());
        if (m) answered[lab.ips.indexOf(m[1])] = true;
      }
    }),
  );
}

async function untilAllAnswer(prefix: string, lab: Lab, t0: number, trace?: (line: string) => void): Promise<{ ms: number; answered: number }> {
  const answered = lab.ids.map(() => false);
  for (;;) {
    await sweep(prefix, lab, answered);
    const n = answered.filter(Boolean).length;
    trace?.(
      `answered ${n}/${lab.ids.length}; missing in each VPC: ${Array.from({ length: VPCS }, (_, v) => answered.filter((a, i) => !a && i % VPCS === v).length).join(' ')}`,
    );
    if (n === lab.ids.length || performance.now() - t0 > REACH_LIMIT_MS) return { ms: performance.now() - t0, answered: n };
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** N bare namespaces, each with a veth into a bridge and an address, made by one shell script per host as Mininet does; then removed. */
async function bare(n: number): Promise<{ ms: number; memPerNsMb: number }> {
  const tag = `zb${randomBytes(2).toString('hex')}`;
  await settle();
  const before = memAvailableKb();
  const t0 = performance.now();
  const lines = [`ip netns add ${tag}-hub`, `ip -n ${tag}-hub link add br0 type bridge`, `ip -n ${tag}-hub link set br0 up`];
  for (let i = 0; i < n; i++) {
    lines.push(
      `ip netns add ${tag}-h${i}`,
      `ip link add ${tag}a${i} netns ${tag}-h${i} type veth peer name ${tag}b${i} netns ${tag}-hub`,
      `ip -n ${tag}-h${i} addr add 10.250.${i >> 8}.${i & 255}/16 dev ${tag}a${i}`,
      `ip -n ${tag}-h${i} link set ${tag}a${i} up`,
      `ip -n ${tag}-h${i} link set lo up`,
      `ip -n ${tag}-hub link set ${tag}b${i} master br0 up`,
    );
  }
  try {
    execFileSync('sh', ['-e'], { input: lines.join('\n') + '\n', stdio: ['pipe', 'ignore', 'inherit'] });
    const ms = performance.now() - t0;
    await settle();
    return { ms, memPerNsMb: (before - memAvailableKb()) / 1024 / n };
  } finally {
    const del = [`ip netns del ${tag}-hub`, ...Array.from({ length: n }, (_, i) => `ip netns del ${tag}-h${i}`)];
    spawnSync('sh', [], { input: del.join('\n') + '\n', stdio: ['pipe', 'ignore', 'ignore'] });
  }
}

async function size(n: number, log: (s: string) => void): Promise<ScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-scale-'));
  const prefix = `b${randomBytes(3).toString('hex')}`;
  await settle();
  const memBefore = memAvailableKb();
  let d = await spawnServe(['--data', dir, '--dataplane', 'linux', '--prefix', prefix]);
  // NIMBUS_TRACE_PASSES=1 npm run bench: each daemon's pass lines go to bench/results/scale-trace-<N>.log.
  const trace = process.env.NIMBUS_TRACE_PASSES ? createWriteStream(join('bench', 'results', `scale-trace-${n}.log`)) : null;
  const T0 = performance.now();
  const follow = (child: typeof d.child) => child.stderr!.on('data', (b: Buffer) => trace?.write(`${((performance.now() - T0) / 1000).toFixed(1)} ${b}`));
  follow(d.child);
  try {
    const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    let c = new NimbusClient({ url: d.url, token });
    await network(c);
    const t0 = performance.now();
    await servers(c, n);
    const createMs = performance.now() - t0;
    const lastCreate = performance.now();
    const list = await c.servers.list();
    const byName = new Map(list.map((s) => [s.name, s]));
    const lab: Lab = { ids: [], ips: [] };
    for (let i = 0; i < n; i++) {
      const s = byName.get(`e${i}`)!;
      lab.ids.push(s.id);
      lab.ips.push(s.privateIp);
    }
    log(`  ${n} servers: created in ${(createMs / 1000).toFixed(1)} s; probing every server from its peered VPC...`);
    const reach = await untilAllAnswer(prefix, lab, t0, (l) => trace?.write(`${((performance.now() - T0) / 1000).toFixed(1)} ${l}\n`));
    const reachAfterLastMs = performance.now() - lastCreate;
    log(`    every server answered HTTP ${(reach.ms / 1000).toFixed(1)} s after the first create (${reach.answered}/${n})`);
    const l0 = performance.now();
    await loadBalancers(c);
    await untilLbsActive(c);
    const lbMs = performance.now() - l0;
    log(`    ${LBS} load balancers created and ACTIVE in ${(lbMs / 1000).toFixed(1)} s`);
    // The analyzer, for every server, from the same peer the probe came from.
    const a0 = performance.now();
    let analyzerReachable = 0;
    for (let i = 0; i < n; i++) {
      const from = `e${((i % VPCS) + VPCS - 1) % VPCS}`; // e0..e9 are one per VPC
      const v = await c.trace({ server: from, destination: lab.ips[i], protocol: 'tcp', port: 8080 });
      if (v.reachable) analyzerReachable++;
    }
    const analyzerMs = performance.now() - a0;
    // Memory, once built and answering.
    await settle();
    const memPerServerMb = (memBefore - memAvailableKb()) / 1024 / n;
    const daemonRssMb = rssKb(d.child.pid!) / 1024;
    const workloadRssPerServerMb = supervisedRssKb(dir) / 1024 / n;
    // One full pass, and the daemon's CPU in it.
    const cpu0 = cpuMs(d.child.pid!);
    const sync = await c.dataplane.sync();
    const fullPassCpuMs = cpuMs(d.child.pid!) - cpu0;
    const fullPassMs = sync.ms;
    log(
      `    memory ${memPerServerMb.toFixed(2)} MB per server all-in; daemon ${daemonRssMb.toFixed(0)} MB; full pass ${fullPassMs.toFixed(0)} ms, ${fullPassCpuMs} ms CPU`,
    );
    // `server create --wait`, as a user types it, while the lab exists.
    const waits: number[] = [];
    for (let i = 0; i < CREATE_SAMPLES; i++) {
      const w0 = performance.now();
      const r = spawnSync(
        process.execPath,
        [BIN, 'server', 'create', '--name', `x${i}`, '--subnet', `s${i % VPCS}`, '--app', 'web', '--security-group', 'web', '--wait', '-o', 'json'],
        {
          env: { ...process.env, NIMBUS_URL: d.url, NIMBUS_TOKEN: token, NIMBUS_PROJECT: '' },
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`server create --wait failed: ${r.stderr}`);
      waits.push(performance.now() - w0);
    }
    for (let i = 0; i < CREATE_SAMPLES; i++) await c.servers.delete(`x${i}`);
    log(`    server create --wait: p50 ${percentile(waits, 50).toFixed(0)} ms, p99 ${percentile(waits, 99).toFixed(0)} ms`);
    // A restart after SIGKILL.
    d.child.kill('SIGKILL');
    await new Promise((r) => d.child.once('exit', r));
    const r0 = performance.now();
    const next = spawnServe(['--data', dir, '--dataplane', 'linux', '--prefix', prefix]);
    let restartApiMs = 0;
    for (;;) {
      const url = await Promise.race([next.then((x) => x.url), new Promise<null>((r) => setTimeout(() => r(null), 5))]);
      if (url) {
        try {
          await new NimbusClient({ url, token }).status();
          restartApiMs = performance.now() - r0;
          break;
        } catch {
          // not yet
        }
      }
    }
    d = await next;
    trace?.write(`${((performance.now() - T0) / 1000).toFixed(1)} restarted after SIGKILL\n`);
    follow(d.child);
    c = new NimbusClient({ url: d.url, token });
    const again = await untilAllAnswer(prefix, lab, r0);
    trace?.write(`${((performance.now() - T0) / 1000).toFixed(1)} every server answers again\n`);
    log(`    restart after SIGKILL: API answered after ${restartApiMs.toFixed(0)} ms, every server after ${(again.ms / 1000).toFixed(1)} s`);
    // Stop, then clean.
    const exited = new Promise((r) => d.child.once('exit', r));
    d.child.kill('SIGTERM');
    await exited;
    const c0 = performance.now();
    const clean = spawnSync(process.execPath, [BIN, 'dataplane', 'clean', '--data', dir], { encoding: 'utf8' });
    const cleanMs = performance.now() - c0;
    if (clean.status !== 0) throw new Error(`dataplane clean failed: ${clean.stderr}`);
    const floor = await bare(n);
    log(`    dataplane clean ${(cleanMs / 1000).toFixed(1)} s; bare namespaces: ${(floor.ms / 1000).toFixed(1)} s, ${floor.memPerNsMb.toFixed(2)} MB each`);
    return {
      servers: n,
      memPerServerMb,
      daemonRssMb,
      workloadRssPerServerMb,
      createMs,
      reachMs: reach.ms,
      reachAfterLastMs,
      lbMs,
      answered: reach.answered,
      analyzerReachable,
      analyzerMs,
      fullPassMs,
      fullPassCpuMs,
      createWaitP50Ms: percentile(waits, 50),
      createWaitP99Ms: percentile(waits, 99),
      restartApiMs,
      restartAllAnswerMs: again.ms,
      cleanMs,
      bareMs: floor.ms,
      bareMemPerNsMb: floor.memPerNsMb,
    };
  } finally {
    await removeInstallation(d.child, prefix, dir);
  }
}

export async function benchScale(opts: { sizes: number[]; log: (s: string) => void }): Promise<ScaleResult[]> {
  const out: ScaleResult[] = [];
  for (const n of opts.sizes) out.push(await size(n, opts.log));
  return out;
}

const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);

/** The figures side by side, how each grows from the first size to the last, and the targets at the largest. */
export function scaleTable(rows: ScaleResult[]): string {
  const first = rows[0];
  const last = rows.at(-1)!;
  const line = (name: string, get: (r: ScaleResult) => number, show: (x: number) => string) =>
    `| ${name} | ${rows.map((r) => show(get(r))).join(' | ')} | ${rows.length > 1 && get(first) > 0 ? `${(get(last) / get(first)).toFixed(1)}×` : ''} |`;
  const mb = (x: number) => `${x.toFixed(2)} MB`;
  const table = [
    `| figure | ${rows.map((r) => `${r.servers} servers`).join(' | ')} | growth (${last.servers / first.servers}× servers) |`,
    `|---|${rows.map(() => '---|').join('')}---|`,
    line('memory per server, all-in (available memory)', (r) => r.memPerServerMb, mb),
    line('anchor: a bare namespace + veth + address', (r) => r.bareMemPerNsMb, mb),
    line(
      'daemon RSS',
      (r) => r.daemonRssMb,
      (x) => `${x.toFixed(0)} MB`,
    ),
    line('RSS of every workload and worker, per server', (r) => r.workloadRssPerServerMb, mb),
    line('creating the servers (API, 4 at a time)', (r) => r.createMs, fmt),
    line('first create → every server answers HTTP from a peer', (r) => r.reachMs, fmt),
    line('last create → every server answers', (r) => r.reachAfterLastMs, fmt),
    line('anchor: bare namespaces + veths, one script', (r) => r.bareMs, fmt),
    line(`then ${LBS} load balancers, until all are ACTIVE`, (r) => r.lbMs, fmt),
    line('analyzer: every server from a peer (all reachable)', (r) => r.analyzerMs, fmt),
    line('one full reconcile pass', (r) => r.fullPassMs, fmt),
    line('CPU of the full pass (daemon and its commands)', (r) => r.fullPassCpuMs, fmt),
    line('`server create --wait`, p50', (r) => r.createWaitP50Ms, fmt),
    line('`server create --wait`, p99', (r) => r.createWaitP99Ms, fmt),
    line('restart after SIGKILL: API answers', (r) => r.restartApiMs, fmt),
    line('restart after SIGKILL: every server answers', (r) => r.restartAllAnswerMs, fmt),
    line('`nimbus dataplane clean`', (r) => r.cleanMs, fmt),
  ];
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  const targets = [
    '',
    `Targets at ${last.servers} servers:`,
    '',
    '| target | measured | |',
    '|---|---|---|',
    `| at most 5 MB per server all-in | ${mb(last.memPerServerMb)} | ${met(last.memPerServerMb <= 5)} |`,
    `| every server reachable within 60 s of the last create | ${fmt(last.reachAfterLastMs)} (${last.answered}/${last.servers}; analyzer ${last.analyzerReachable}/${last.servers}) | ${met(last.reachAfterLastMs <= 60_000 && last.answered === last.servers)} |`,
    `| a full pass under 2 s of CPU | ${fmt(last.fullPassCpuMs)} | ${met(last.fullPassCpuMs < 2000)} |`,
    `| \`server create --wait\` p50 under 1 s | ${fmt(last.createWaitP50Ms)} | ${met(last.createWaitP50Ms < 1000)} |`,
    `| the API answers within 1 s of a restart | ${fmt(last.restartApiMs)} | ${met(last.restartApiMs <= 1000)} |`,
    `| the daemon under 300 MB | ${last.daemonRssMb.toFixed(0)} MB | ${met(last.daemonRssMb < 300)} |`,
  ];
  return [...table, ...targets].join('\n');
}
