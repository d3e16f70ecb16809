/**
 * `npm run bench [-- --quick]`: every benchmark in one run, side by side with the reference
 * tools measured in the same run. Installs haproxy, nginx and wrk on Debian (as root) when
 * missing, bounds every load in time, stops everything it started, and writes
 * bench/results/<date>.md and .json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { benchLb, lbTable } from './lb.js';
import { median } from './lib/proc.js';
import { benchLbInDaemon, type DaemonRow } from './lb-daemon.js';
import { benchControlPlane } from './control-plane.js';
import { benchAnalyzer } from './analyzer.js';
import { benchRestart } from './restart.js';
import { benchDataplane } from './dataplane.js';
import { benchCli, cliTable } from './cli.js';
import { benchScale, scaleTable } from './scale.js';
import { benchOvn, ovnTables } from './ovn.js';
import { ovnUnavailable } from '../src/dataplane/ovn/fabric.js';
import { linuxUnavailable } from '../src/dataplane/choose.js';

const quick = process.argv.includes('--quick');
// The daemons benchmarked record their tokens here, not in the user's config folder.
process.env.NIMBUS_CONFIG_DIR ??= mkdtempSync(join(tmpdir(), 'nimbus-bench-config-'));
/** `--sections=lb,daemon,cp,analyzer,dataplane,restart,scale` runs only those (`--daemon=tcp|http|l7` only those in-daemon rows, nothing else of the load balancer); `--proxies=<regex>` only the matching load balancer rows (HAProxy always). */
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const sections = arg('sections')?.split(',') ?? ['cli', 'lb', 'daemon', 'cp', 'analyzer', 'dataplane', 'restart', 'scale', 'ovn'];
const proxies = arg('proxies') ? new RegExp(arg('proxies')!, 'i') : null;
const rounds = Number(arg('rounds') ?? (quick ? 1 : 5));
const log = (s: string) => process.stdout.write(s + '\n');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function ensureTools(): string | null {
  const missing = ['haproxy', 'nginx', 'wrk'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length === 0) return null;
  if (process.getuid?.() !== 0) return `missing ${missing.join(', ')} (install as root: apt-get install haproxy nginx-light wrk)`;
  log(`installing ${missing.join(', ')} from Debian...`);
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  const pkgs = missing.map((m) => (m === 'nginx' ? 'nginx-light' : m));
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0 ? null : `apt-get install ${pkgs.join(' ')} failed`;
}

const date = new Date().toISOString().slice(0, 10);
const results: Record<string, unknown> = { date, quick, machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version } };
const md: string[] = [
  `# Benchmarks, ${date}${quick ? ' (quick)' : ''}`,
  '',
  `${cpus().length} cores (${cpus()[0]?.model}), Node ${process.version}. Reproduce: \`npm run bench${quick ? ' -- --quick' : ''}\`.`,
  '',
];

log(`Nimbus benchmarks${quick ? ' (quick)' : ''}`);
const missing = ensureTools();
const daemonRows: DaemonRow[] = [];
const daemonOnly = arg('daemon') as 'http' | 'tcp' | 'l7' | undefined;
/** `--l7-engines=builtin,haproxy`: the in-daemon rows for each layer-7 engine asked (both by default). */
const l7Engines = (arg('l7-engines')?.split(',') ?? ['builtin', 'haproxy']) as ('builtin' | 'haproxy')[];
if (daemonOnly && !missing && !linuxUnavailable()) {
  // `--daemon=tcp` (or http): only those rows of the in-daemon section, for a quick comparison.
  const seconds = quick ? 3 : 10;
  log(`load balancer in a running daemon, ${daemonOnly} rows only: wrk -t2 -c64 -d${seconds}s, ${rounds} alternating round(s)`);
  for (const engine of l7Engines) daemonRows.push(...(await benchLbInDaemon({ seconds, rounds, log, only: daemonOnly, engine })));
  results.loadBalancerInDaemon = daemonRows;
  md.push('## Load balancer in a running daemon', '', daemonTable(daemonRows), '');
} else if (!sections.includes('lb')) {
  // not asked for
} else if (missing) {
  log(`load balancer: skipped: ${missing}`);
  md.push('## Load balancer', '', `Skipped: ${missing}.`, '');
} else {
  const seconds = quick ? 3 : 10;
  log(`load balancer: wrk -t2 -c64 -d${seconds}s, keep-alive, ${rounds} alternating round(s)`);
  const rows = await benchLb({ seconds, rounds, log, only: proxies });
  if (!linuxUnavailable() && sections.includes('daemon')) {
    log('load balancer in a running daemon: linux data plane, nginx workloads, wrk against the public IP');
    for (const engine of l7Engines) daemonRows.push(...(await benchLbInDaemon({ seconds, rounds, log, engine })));
  }
  results.loadBalancer = rows;
  results.loadBalancerInDaemon = daemonRows;
  md.push(
    '## Load balancer',
    '',
    `Two nginx back ends (one worker, a fixed 14-byte body); wrk -t2 -c64 -d${seconds}s with keep-alive; each proxy with one thread or worker; ${rounds} alternating round(s); medians.`,
    '',
    lbTable(rows),
    '',
  );
  if (daemonRows.length > 0) {
    md.push(
      '### In a running daemon (linux data plane), beside HAProxy in the same position',
      '',
      "wrk against the public IP on the host; members two servers running nginx; HAProxy in alternate rounds, listening on the host and connecting to the same members from the load balancer's namespace (its `namespace` keyword). Ratios are to the HAProxy row named.",
      '',
      daemonTable(daemonRows),
      '',
    );
  }
}

function daemonTable(rows: DaemonRow[]): string {
  const out = ['| in the daemon | req/s (median, min–max) | ÷ HAProxy | p50 ms | p99 ms | p99 ÷ HAProxy | errors |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const h = rows.find((x) => x.name === r.versus) ?? r;
    const rps = r.runs.map((x) => x.rps);
    const p99 = median(r.runs.map((x) => x.p99ms));
    out.push(
      `| ${r.name} | ${median(rps).toFixed(0)} (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}) | ${(median(rps) / median(h.runs.map((x) => x.rps))).toFixed(2)} | ${median(r.runs.map((x) => x.p50ms)).toFixed(2)} | ${p99.toFixed(2)} | ${(p99 / median(h.runs.map((x) => x.p99ms))).toFixed(2)} | ${r.runs.reduce((a, x) => a + x.errors, 0)} |`,
    );
  }
  return out.join('\n');
}

if (sections.includes('cli')) {
  log('CLI and daemon start: each beside a bare node -e 0, in the same rounds');
  const cli = await benchCli({ rounds: quick ? 5 : 15, servers: 500, log });
  results.cli = cli;
  md.push(
    '## CLI and daemon start',
    '',
    'Medians over the rounds; the daemon on the virtual data plane, its data in a fresh directory.',
    '',
    cliTable(cli),
    '',
  );
}

if (sections.includes('cp')) {
  log('control plane: resources created through the API, 8 in flight');
  const cps = [
    await benchControlPlane({ total: quick ? 1000 : 10_000, log }),
    await benchControlPlane({ total: quick ? 1000 : 10_000, log, withLoadBalancer: true }),
  ];
  results.controlPlane = cps;
  md.push(
    '## Control plane',
    '',
    '| resources | creates/s | p50 ms | p99 ms | list servers | daemon RSS |',
    '|---|---|---|---|---|---|',
    ...cps.map(
      (cp) =>
        `| ${cp.resources}${cp.withLoadBalancer ? ' (with a load balancer)' : ''} | ${cp.createsPerSecond.toFixed(0)} | ${cp.p50ms.toFixed(2)} | ${cp.p99ms.toFixed(2)} | ${cp.listServers.count} in ${cp.listServers.medianMs.toFixed(0)} ms | ${cp.rssMB.toFixed(0)} MB |`,
    ),
    '',
  );
}

if (sections.includes('analyzer')) {
  log('analyzer: synthetic topology');
  const an = benchAnalyzer({ vpcs: quick ? 200 : 1000, traces: quick ? 2000 : 10_000, matrix: quick ? 200 : 1000, log });
  results.analyzer = an;
  md.push(
    '## Analyzer',
    '',
    '| VPCs | subnets | routes | servers | compile | trace median | trace p99 | matrix |',
    '|---|---|---|---|---|---|---|---|',
    `| ${an.vpcs} | ${an.subnets} | ${an.routes} | ${an.servers} | ${an.compileMs.toFixed(0)} ms | ${an.traceMedianUs.toFixed(1)} µs | ${an.traceP99Us.toFixed(1)} µs | ${an.matrixServers} servers in ${an.matrixMs.toFixed(0)} ms |`,
    '',
  );
}

const why = linuxUnavailable();
if (!sections.includes('dataplane')) {
  // not asked for
} else if (why) {
  log(`linux data plane: skipped: ${why}`);
  md.push('## Linux data plane', '', `Skipped: ${why}.`, '');
} else {
  log('linux data plane: from the API calls to the first real ping');
  const dp = await benchDataplane({ quick, log });
  results.dataplane = dp;
  md.push(
    '## Linux data plane',
    '',
    '| topology | API calls | first successful ping | clean |',
    '|---|---|---|---|',
    ...dp.map((d) => `| ${d.name} | ${d.apiMs.toFixed(0)} ms | ${d.firstPingMs.toFixed(0)} ms | ${d.namespaces} namespaces in ${d.cleanMs.toFixed(0)} ms |`),
    '',
  );
}

if (!sections.includes('restart')) {
  // not asked for
} else if (why) {
  log(`restart: skipped: ${why}`);
  md.push('## Restart after SIGKILL', '', `Skipped: ${why}.`, '');
} else {
  log('restart after SIGKILL: 500 servers on the linux data plane');
  const r = await benchRestart({ servers: quick ? 100 : 500, log });
  results.restart = r;
  md.push(
    '## Restart after SIGKILL',
    '',
    '| servers | API answers | ratio to a bare node HTTP server | data plane converged | workloads and worker |',
    '|---|---|---|---|---|',
    `| ${r.servers} | ${r.apiMs.toFixed(0)} ms | ${(r.apiMs / r.bareNodeMs).toFixed(2)} × (${r.bareNodeMs.toFixed(0)} ms) | ${r.convergedMs.toFixed(0)} ms | ${r.adopted ? 'adopted (same pids)' : 'started again'} |`,
    '',
  );
}

if (!sections.includes('scale')) {
  // not asked for
} else if (why) {
  log(`scale: skipped: ${why}`);
  md.push('## Density and scale', '', `Skipped: ${why}.`, '');
} else {
  // `--scale-sizes=100,300` for a shorter run; 1,000 servers take about ten minutes here.
  const sizes = (arg('scale-sizes') ?? (quick ? '100,300' : '100,300,1000')).split(',').map(Number);
  log(`density and scale: ${sizes.join(', ')} servers with --app web, 10 VPCs peered in a ring, 20 load balancers`);
  const rows = await benchScale({ sizes, log });
  results.scale = rows;
  md.push(
    '## Density and scale',
    '',
    'A lab of N servers on the linux data plane: 10 VPCs peered in a ring, every server with `--app web`, 20 HTTP load balancers with two members each. Every server is probed with real HTTP from a server of the VPC before it in the ring, and traced with the analyzer. Anchors are measured in the same run.',
    '',
    scaleTable(rows),
    '',
  );
}

if (sections.includes('ovn')) {
  const whyNot = linuxUnavailable() ?? ovnUnavailable();
  if (whyNot) {
    log(`ovn: skipped: ${whyNot}`);
    md.push('## The ovn data plane', '', `Skipped: ${whyNot}.`, '');
  } else {
    // `--ovn-sizes=100` for a shorter run.
    const labSizes = (arg('ovn-sizes') ?? (quick ? '100' : '100,500')).split(',').map(Number);
    log(`ovn data plane: paths on one and two chassis beside the linux plane, an API change, idle CPU, labs of ${labSizes.join(', ')} servers over 3 chassis`);
    const r = await benchOvn({ labSizes, idleSeconds: quick ? 5 : 20, log });
    results.ovn = r;
    md.push(
      '## The ovn data plane',
      '',
      'Three simulated chassis on this machine (userspace datapath, Geneve between them), beside the linux plane in the same run. Paths: 200 pings at 10 ms, then 200 MB over one TCP connection (Python on both ends).',
      '',
      ovnTables(r),
      '',
    );
  }
}

if (arg('sections') || proxies || arg('rounds') || arg('scale-sizes') || arg('ovn-sizes')) {
  // A partial run is for working on one figure: printed, not written over the full results.
  log(`\n${md.join('\n')}\n(partial run: nothing written)`);
  process.exit(0);
}
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const base = join(dir, `${date}${quick ? '-quick' : ''}`);
writeFileSync(`${base}.md`, md.join('\n'));
writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
log(`\n${md.join('\n')}\nwritten: ${base}.md and .json`);
process.exit(0);
