/**
 * The ovn data plane beside the linux one, in one run (root, with OVN installed):
 *
 * - paths: ping RTT and TCP throughput between two servers on the same chassis, on two
 *   chassis (Geneve), and on the linux plane (a veth pair through a router namespace);
 * - an API change to its effect: a security-group rule added through the API, until OVN's
 *   `hv_cfg` says every chassis has it, and until a real ping that it allows answers;
 * - idle CPU of each chassis (ovsdb-server, ovs-vswitchd, ovn-controller) and of the central;
 * - a lab of N servers over three chassis (5 VPCs): from the first create to the first and the
 *   last server answering a real ping.
 *
 * Every load is bounded (a ping count, a byte count with a time limit); every daemon's
 * installation is removed at the end, also when a step failed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { installationFolders } from '../src/workloads/lb-dirs.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, type Daemon } from '../src/daemon.js';
import { NimbusClient } from '../src/client/client.js';
import { cleanNamespaces } from '../src/dataplane/linux/clean.js';
import { serverNs } from '../src/dataplane/linux/names.js';
import { pool, run } from '../src/dataplane/linux/run.js';
import { OVN_RUN_DIR } from '../src/dataplane/ovn/fabric.js';
import { OvsdbClient } from '../src/dataplane/ovn/ovsdb.js';

export interface PathRow {
  path: string;
  rttAvgMs: number;
  rttMinMs: number;
  mbitPerS: number;
}
export interface OvnResult {
  paths: PathRow[];
  change: { nbMs: number; everyChassisMs: number; pingMs: number };
  idle: { name: string; cores: number }[];
  labs: { servers: number; apiMs: number; firstMs: number; lastMs: number }[];
}

interface Installation {
  d: Daemon;
  c: NimbusClient;
  prefix: string;
  dir: string;
}

async function start(dataplane: 'linux' | 'ovn'): Promise<Installation> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-ovn-'));
  const prefix = `b${randomBytes(3).toString('hex')}`;
  const d = await startDaemon({ port: 0, dataDir: dir, dataplane, prefix, chassis: 3 });
  await d.ready;
  return { d, c: new NimbusClient({ url: d.url, token: d.adminToken }), prefix, dir };
}

async function stop(i: Installation | null): Promise<void> {
  if (!i) return;
  await i.d.close().catch(() => undefined);
  await cleanNamespaces(i.prefix);
  for (const f of installationFolders(i.dir)) rmSync(f, { recursive: true, force: true });
  rmSync(i.dir, { recursive: true, force: true });
}

const inNs = (ns: string, argv: string[], timeoutMs = 30_000) => spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: timeoutMs });

/** Pings until one answers (OVN loses the first packet to an unresolved address), at most `tries`. */
function reach(ns: string, ip: string, tries = 30): boolean {
  for (let i = 0; i < tries; i++) if (inNs(ns, ['ping', '-n', '-c', '1', '-W', '1', ip]).status === 0) return true;
  return false;
}

/** RTT of 200 pings at 10 ms, and TCP throughput of 200 MB (at most 20 s) from `from` to `to`. */
function measurePath(path: string, fromNs: string, toNs: string, toIp: string): PathRow {
  if (!reach(fromNs, toIp)) throw new Error(`${path}: ${toIp} does not answer`);
  const p = inNs(fromNs, ['ping', '-n', '-q', '-c', '200', '-i', '0.01', toIp]).stdout;
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(p);
  const receiver = `import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('${toIp}', 5201)); s.listen(1); s.settimeout(20)
c,_=s.accept(); n=0
while True:
  b=c.recv(1<<20)
  if not b: break
  n+=len(b)
print(n)`;
  const sender = `import socket,time
s=socket.create_connection(('${toIp}', 5201), timeout=20); buf=b'x'*(1<<20); t=time.time(); n=0
while n < 200*(1<<20) and time.time()-t < 20:
  s.sendall(buf); n+=len(buf)
s.shutdown(socket.SHUT_WR); s.recv(1); print(n, time.time()-t)`;
  const rx = spawnSync('sh', ['-c', `ip netns exec ${toNs} python3 -c "$R" & sleep 0.5; ip netns exec ${fromNs} python3 -c "$S"; wait`], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, R: receiver, S: sender },
  });
  const [bytes, secs] = rx.stdout.trim().split('\n').pop()!.split(' ').map(Number);
  return { path, rttMinMs: Number(m?.[1] ?? NaN), rttAvgMs: Number(m?.[2] ?? NaN), mbitPerS: secs > 0 ? (bytes * 8) / secs / 1e6 : NaN };
}

async function oneSubnet(c: NimbusClient, placements: (string | undefined)[]): Promise<{ name: string; ip: string }[]> {
  await c.vpcs.create({ name: 'v', cidr: '10.8.0.0/16' });
  await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.8.1.0/24' });
  const out: { name: string; ip: string }[] = [];
  for (const [i, chassis] of placements.entries()) {
    const s = await c.servers.create({ name: `e${i}`, subnet: 's', ...(chassis ? { chassis } : {}) });
    out.push({ name: s.name, ip: s.privateIp });
  }
  await c.dataplane.sync();
  return out;
}

/** CPU seconds used so far by the processes whose pid files are in `dir`. */
function cpuOf(dir: string, names: string[]): number {
  const tick = 100;
  let total = 0;
  for (const n of names) {
    try {
      const pid = readFileSync(join(dir, `${n}.pid`), 'utf8').trim();
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(f[11]) + Number(f[12])) / tick;
    } catch {
      // not running
    }
  }
  return total;
}

export async function benchOvn(opts: { labSizes: number[]; idleSeconds: number; log: (s: string) => void }): Promise<OvnResult> {
  const { log } = opts;
  const paths: PathRow[] = [];
  let ovn: Installation | null = null;
  let linux: Installation | null = null;
  const result: OvnResult = { paths, change: { nbMs: NaN, everyChassisMs: NaN, pingMs: NaN }, idle: [], labs: [] };
  try {
    ovn = await start('ovn');
    const s = await oneSubnet(ovn.c, ['ch1', 'ch1', 'ch2', 'ch3']);
    const ns = (i: number) => nsOf(ovn!, s[i].name);
    paths.push(measurePath('ovn, same chassis', ns(0), ns(1), s[1].ip));
    paths.push(measurePath('ovn, two chassis (Geneve)', ns(0), ns(2), s[2].ip));
    for (const p of paths) log(`  ${p.path}: rtt ${p.rttAvgMs} ms (min ${p.rttMinMs}), TCP ${p.mbitPerS.toFixed(0)} Mbit/s`);

    // An API change to its effect: ICMP closed, then opened by a rule; e0 (ch1) pings e3 (ch3).
    const c = ovn.c;
    await c.securityGroups.create({ name: 'shut' });
    for (const x of s) await c.servers.update(x.name, { securityGroups: ['shut'] });
    await c.dataplane.sync();
    const from = ns(0);
    if (reach(from, s[3].ip, 2)) throw new Error('ICMP should be closed before the change');
    const nb = await OvsdbClient.connect(`unix:${join(OVN_RUN_DIR, ovn.prefix, 'central', 'nb.sock')}`);
    try {
      const acls = async () => (await nb.select('OVN_Northbound', 'ACL', ['match'])).filter((a) => String(a.match).includes('icmp4')).length;
      const t0 = performance.now();
      await c.securityGroups.addRule('shut', { direction: 'ingress', protocol: 'icmp', remote: '10.8.0.0/16' });
      while ((await acls()) === 0) await new Promise((r) => setTimeout(r, 2));
      const nbMs = performance.now() - t0;
      const [g] = await nb.select('OVN_Northbound', 'NB_Global', ['nb_cfg', 'hv_cfg']);
      const target = Number(g.nb_cfg);
      for (;;) {
        const [h] = await nb.select('OVN_Northbound', 'NB_Global', ['hv_cfg']);
        if (Number(h.hv_cfg) >= target) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      const everyChassisMs = performance.now() - t0;
      while ((await run('ip', ['netns', 'exec', from, 'ping', '-n', '-c', '1', '-W', '0.2', s[3].ip])).code !== 0 && performance.now() - t0 < 20_000);
      const pingMs = performance.now() - t0;
      result.change = { nbMs, everyChassisMs, pingMs };
      log(
        `  API change: in the NB ${nbMs.toFixed(0)} ms, on every chassis (hv_cfg) ${everyChassisMs.toFixed(0)} ms, first ping through ${pingMs.toFixed(0)} ms`,
      );
    } finally {
      nb.close();
    }

    // Idle CPU: the servers stay, nothing changes.
    const dir = join(OVN_RUN_DIR, ovn.prefix);
    const groups = [
      { name: 'central (nb, sb, northd)', dir: join(dir, 'central'), procs: ['nb', 'sb', 'northd'] },
      ...['ch1', 'ch2', 'ch3'].map((ch) => ({ name: `chassis ${ch}`, dir: join(dir, 'chassis', ch), procs: ['ovsdb', 'vswitchd', 'ovn-controller'] })),
    ];
    const before = groups.map((g) => cpuOf(g.dir, g.procs));
    await new Promise((r) => setTimeout(r, opts.idleSeconds * 1000));
    result.idle = groups.map((g, i) => ({ name: g.name, cores: (cpuOf(g.dir, g.procs) - before[i]) / opts.idleSeconds }));
    for (const x of result.idle) log(`  idle ${x.name}: ${x.cores.toFixed(4)} of a core`);
  } finally {
    await stop(ovn);
  }

  try {
    linux = await start('linux');
    const s = await oneSubnet(linux.c, [undefined, undefined]);
    paths.push(measurePath('linux plane, same subnet', nsOf(linux, s[0].name), nsOf(linux, s[1].name), s[1].ip));
    log(`  ${paths.at(-1)!.path}: rtt ${paths.at(-1)!.rttAvgMs} ms, TCP ${paths.at(-1)!.mbitPerS.toFixed(0)} Mbit/s`);
  } finally {
    await stop(linux);
  }

  for (const n of opts.labSizes) {
    let i: Installation | null = null;
    try {
      i = await start('ovn');
      const c = i.c;
      const t0 = performance.now();
      const servers: { name: string; ip: string; vpc: number }[] = [];
      for (let v = 0; v < 5; v++) {
        await c.vpcs.create({ name: `v${v}`, cidr: `10.${10 + v}.0.0/16` });
        await c.subnets.create({ name: `s${v}`, vpc: `v${v}`, cidr: `10.${10 + v}.0.0/20` });
      }
      await pool(
        Array.from({ length: n }, (_, k) => k),
        8,
        async (k) => {
          const s = await c.servers.create({ name: `e${k}`, subnet: `s${k % 5}` });
          servers.push({ name: s.name, ip: s.privateIp, vpc: k % 5 });
        },
      );
      const apiMs = performance.now() - t0;
      // From the first server of each VPC, every other server of it: the first and the last to answer.
      const probers = new Map<number, string>();
      for (const s of [...servers].sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)))) if (!probers.has(s.vpc)) probers.set(s.vpc, s.name);
      let firstMs = NaN;
      let lastMs = 0;
      const targets = servers.filter((s) => probers.get(s.vpc) !== s.name);
      await pool(targets, 8, async (s) => {
        const from = nsOf(i!, probers.get(s.vpc)!);
        for (let k = 0; k < 600 && performance.now() - t0 < 300_000; k++) {
          // Asynchronous: the daemon runs in this process, and a synchronous ping would hold its event loop.
          if ((await run('ip', ['netns', 'exec', from, 'ping', '-n', '-c', '1', '-W', '1', s.ip], { timeoutMs: 5_000 })).code === 0) {
            const at = performance.now() - t0;
            if (!(at >= firstMs)) firstMs = Number.isNaN(firstMs) ? at : Math.min(firstMs, at);
            lastMs = Math.max(lastMs, at);
            return;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        const status = await c.status();
        const server = await c.servers.get(s.name);
        throw new Error(`${s.name} (${s.ip}, chassis ${server.chassis}) never answered; data plane errors: ${JSON.stringify(status.dataplane.errors)}`);
      });
      result.labs.push({ servers: n, apiMs, firstMs, lastMs });
      log(
        `  lab of ${n} servers over 3 chassis: creates ${apiMs.toFixed(0)} ms, first answer ${firstMs.toFixed(0)} ms, last ${lastMs.toFixed(0)} ms after the first create`,
      );
    } finally {
      await stop(i);
    }
  }
  return result;
}

/** A server's namespace, from its id (looked up by name). */
function nsOf(i: Installation, name: string): string {
  const s = i.d.store.list<{ id: string; name: string }>('server').find((x) => x.name === name)!;
  return serverNs(i.prefix, s.id);
}

export function ovnTables(r: OvnResult): string {
  const linux = r.paths.find((p) => p.path.startsWith('linux'));
  const paths = [
    '| path | ping RTT avg (min) | ÷ linux plane | TCP Mbit/s | ÷ linux plane |',
    '|---|---|---|---|---|',
    ...r.paths.map(
      (p) =>
        `| ${p.path} | ${p.rttAvgMs.toFixed(3)} ms (${p.rttMinMs.toFixed(3)}) | ${linux ? (p.rttAvgMs / linux.rttAvgMs).toFixed(1) + '×' : ''} | ${p.mbitPerS.toFixed(0)} | ${linux ? (p.mbitPerS / linux.mbitPerS).toFixed(2) + '×' : ''} |`,
    ),
  ];
  const change = [
    '| an API change (a security-group rule) | ms |',
    '|---|---|',
    `| in the northbound database | ${r.change.nbMs.toFixed(0)} |`,
    `| on every chassis (OVN's hv_cfg) | ${r.change.everyChassisMs.toFixed(0)} |`,
    `| first real ping it allows, across chassis | ${r.change.pingMs.toFixed(0)} |`,
  ];
  const idle = ['| idle | share of a core |', '|---|---|', ...r.idle.map((x) => `| ${x.name} | ${x.cores.toFixed(4)} |`)];
  const labs = [
    '| lab over 3 chassis | creates (API) | first server answers | last server answers |',
    '|---|---|---|---|',
    ...r.labs.map(
      (l) => `| ${l.servers} servers | ${(l.apiMs / 1000).toFixed(1)} s | ${(l.firstMs / 1000).toFixed(1)} s | ${(l.lastMs / 1000).toFixed(1)} s |`,
    ),
  ];
  return [paths.join('\n'), change.join('\n'), idle.join('\n'), labs.join('\n')].join('\n\n');
}
