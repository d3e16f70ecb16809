/**
 * Test daemons: a real daemon on a free loopback port with its own temporary data
 * directory, removed afterwards; and the real `nimbus` binary run as a child process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/daemon.js';
import { NimbusClient } from '../../src/client/client.js';
import { installationFolders } from '../../src/workloads/lb-dirs.js';

export const BIN = fileURLToPath(new URL('../../bin/nimbus.js', import.meta.url));

// Daemons started by the tests record their tokens in a config folder of this run, not the user's;
// the CLIs the tests spawn inherit it and find them there. The test file that made it removes it as it ends.
if (!process.env.NIMBUS_CONFIG_DIR) {
  const configDir = mkdtempSync(join(tmpdir(), 'nimbus-test-config-'));
  process.env.NIMBUS_CONFIG_DIR = configDir;
  process.once('exit', () => rmSync(configDir, { recursive: true, force: true }));
}

export interface TestDaemon {
  daemon: Daemon;
  /** The admin's client. */
  client: NimbusClient;
  /** The admin token's header, for raw requests. */
  auth: { authorization: string };
  dataDir: string;
  /** Stops the daemon and starts a new one on the same data directory. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function testDaemon(opts: DaemonOptions = {}): Promise<TestDaemon> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-test-'));
  // Tests start from a converged machine: the daemon answers at once, its first passes follow.
  const start = async () => {
    const d = await startDaemon({ port: 0, dataDir, dataplane: 'virtual', ...opts });
    // A data plane that cannot start: the daemon's API stops listening and its store closes (its close() would wait
    // for the data plane's first pass, which never comes), and the reason is thrown.
    await d.ready.catch(async (err) => {
      await d.app.close().catch(() => undefined);
      d.store.close();
      throw err;
    });
    return d;
  };
  const t: TestDaemon = {
    daemon: await start(),
    client: undefined as unknown as NimbusClient,
    auth: { authorization: '' },
    dataDir,
    async restart() {
      await t.daemon.close();
      t.daemon = await start();
      t.client = new NimbusClient({ url: t.daemon.url, token: t.daemon.adminToken });
      t.auth = { authorization: `Bearer ${t.daemon.adminToken}` };
    },
    async close() {
      await t.daemon.close();
      rmSync(dataDir, { recursive: true, force: true });
      for (const f of installationFolders(dataDir)) rmSync(f, { recursive: true, force: true });
    },
  };
  t.client = new NimbusClient({ url: t.daemon.url, token: t.daemon.adminToken });
  t.auth = { authorization: `Bearer ${t.daemon.adminToken}` };
  return t;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with exactly `env`, collecting what it prints and its exit code. */
export function runCollect(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs `nimbus ARGS` against `url`, as a user would from a shell. */
export function cli(url: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCollect(process.execPath, [BIN, ...args], { ...process.env, NIMBUS_URL: url, NIMBUS_PROJECT: '', ...env });
}

/** The reference lab's part 1 up to the first ping: two VPCs, a subnet and a server in each. */
export const LAB_SETUP: string[][] = [
  ['vpc', 'create', '--name', 'vpc-a', '--cidr', '192.168.6.0/24'],
  ['vpc', 'create', '--name', 'vpc-b', '--cidr', '192.168.5.0/24'],
  ['subnet', 'create', '--name', 'sub-a', '--vpc', 'vpc-a', '--cidr', '192.168.6.0/25'],
  ['subnet', 'create', '--name', 'sub-b', '--vpc', 'vpc-b', '--cidr', '192.168.5.0/24'],
  ['server', 'create', '--name', 'ecs-a', '--subnet', 'sub-a', '--ip', '192.168.6.76'],
  ['server', 'create', '--name', 'ecs-b', '--subnet', 'sub-b', '--ip', '192.168.5.130'],
];

/** Starts `nimbus serve ARGS` as a child process and resolves with it and its URL once it listens. */
export async function spawnServe(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`nimbus serve exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`)));
  });
  return { child, url };
}

/**
 * Removes what an installation whose daemon was killed may leave on the host: its loopback
 * guard table (virtual plane as root), its load-balancer workers' folder, and its data
 * directory. (A daemon that stops cleanly removes the first itself.)
 */
export async function cleanInstallation(dataDir: string): Promise<void> {
  try {
    const second = /^127\.(\d+)\.0\.0\/16$/.exec(readFileSync(join(dataDir, 'workload-range'), 'utf8').trim())?.[1];
    // Twice: an `nft -f` the killed daemon had started may still land its table after the first.
    for (let i = 0; second && i < 2; i++) {
      if (i) await new Promise((r) => setTimeout(r, 500));
      spawnSync('nft', ['delete', 'table', 'inet', `nimbus_lo_127_${second}`], { stdio: 'ignore' });
    }
  } catch {
    // no range recorded: nothing of it on the host
  }
  for (const f of installationFolders(dataDir)) rmSync(f, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
