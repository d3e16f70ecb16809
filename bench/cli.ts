/**
 * The CLI and the daemon as a user waits for them: `nimbus --version` and `nimbus vpc list`
 * against a running daemon, each beside a bare `node -e 0` measured in the same rounds; and
 * the time from starting `nimbus serve` until its API answers, on an empty data directory and
 * on one that holds 500 servers (the data plane converges in the background).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NimbusClient } from '../src/client/client.js';
import { median, start, waitPort } from './lib/proc.js';

const BIN = fileURLToPath(new URL('../bin/nimbus.js', import.meta.url));

export interface CliResult {
  nodeMs: number;
  versionMs: number;
  vpcListMs: number;
  startEmptyMs: number;
  start500Ms: number;
  servers: number;
}

function timeRun(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Milliseconds from spawning `nimbus serve` until GET /v1/status answers. */
async function timeStart(dir: string, port: number): Promise<{ ms: number; stop: () => Promise<void> }> {
  const t0 = performance.now();
  const daemon = start(process.execPath, [BIN, 'serve', '--port', String(port), '--data', dir, '--dataplane', 'virtual']);
  for (;;) {
    try {
      // Made anew each try: the daemon records its token (which the client reads) once it starts.
      await new NimbusClient({ url: `http://127.0.0.1:${port}` }).status();
      break;
    } catch {
      if (performance.now() - t0 > 30_000) {
        await daemon.stop();
        throw new Error('the daemon did not answer within 30 s');
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  return { ms: performance.now() - t0, stop: daemon.stop };
}

export async function benchCli(opts: { rounds: number; servers: number; log: (s: string) => void }): Promise<CliResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-cli-'));
  const port = 18191;
  const node: number[] = [];
  const version: number[] = [];
  const list: number[] = [];
  try {
    const first = await timeStart(dir, port);
    const startEmptyMs = first.ms;
    const c = new NimbusClient({ url: `http://127.0.0.1:${port}` });
    await c.vpcs.create({ name: 'v1', cidr: '10.0.0.0/16' });
    const env = { ...process.env, NIMBUS_URL: `http://127.0.0.1:${port}` };
    for (let i = 0; i < opts.rounds; i++) {
      node.push(timeRun([process.execPath, '-e', '0']));
      version.push(timeRun([process.execPath, BIN, '--version']));
      list.push(timeRun([process.execPath, BIN, 'vpc', 'list'], env));
    }
    opts.log(`  node -e 0 ${median(node).toFixed(0)} ms, nimbus --version ${median(version).toFixed(0)} ms, nimbus vpc list ${median(list).toFixed(0)} ms`);
    await c.subnets.create({ name: 's1', vpc: 'v1', cidr: '10.0.0.0/20' });
    for (let i = 0; i < opts.servers; i += 25)
      await Promise.all(Array.from({ length: Math.min(25, opts.servers - i) }, (_, k) => c.servers.create({ name: `e${i + k}`, subnet: 's1' })));
    await first.stop();
    await waitPortFree(port);
    const again = await timeStart(dir, port);
    opts.log(`  API answers ${startEmptyMs.toFixed(0)} ms after start (empty), ${again.ms.toFixed(0)} ms with ${opts.servers} servers`);
    await again.stop();
    return { nodeMs: median(node), versionMs: median(version), vpcListMs: median(list), startEmptyMs, start500Ms: again.ms, servers: opts.servers };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitPortFree(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await waitPort(port, '127.0.0.1', 1);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function cliTable(r: CliResult): string {
  const row = (what: string, ms: number, target: string, ok: boolean) => `| ${what} | ${ms.toFixed(0)} ms | ${target} | ${ok ? 'met' : 'missed'} |`;
  return [
    '| what | time (median) | target | |',
    '|---|---|---|---|',
    `| node -e 0 (reference) | ${r.nodeMs.toFixed(0)} ms | | |`,
    row(
      'nimbus --version',
      r.versionMs,
      `≤ 1.5 × node -e 0 = ${(1.5 * r.nodeMs).toFixed(0)} ms (${(r.versionMs / r.nodeMs).toFixed(2)} ×)`,
      r.versionMs <= 1.5 * r.nodeMs,
    ),
    row('nimbus vpc list (running daemon)', r.vpcListMs, `≤ 2 × node -e 0 + 20 ms = ${(2 * r.nodeMs + 20).toFixed(0)} ms`, r.vpcListMs <= 2 * r.nodeMs + 20),
    row('nimbus serve until the API answers (empty)', r.startEmptyMs, '≤ 1000 ms', r.startEmptyMs <= 1000),
    row(`nimbus serve until the API answers (${r.servers} servers)`, r.start500Ms, '≤ 1000 ms', r.start500Ms <= 1000),
  ].join('\n');
}
