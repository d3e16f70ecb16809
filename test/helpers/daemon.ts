/**
 * Test daemons: a real daemon on a free loopback port with its own temporary data
 * directory, removed afterwards; and the real `nimbus` binary run as a child process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/daemon.js';
import { NimbusClient } from '../../src/client/client.js';

export const BIN = fileURLToPath(new URL('../../bin/nimbus.js', import.meta.url));

export interface TestDaemon {
  daemon: Daemon;
  client: NimbusClient;
  dataDir: string;
  /** Stops the daemon and starts a new one on the same data directory. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function testDaemon(opts: DaemonOptions = {}): Promise<TestDaemon> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-test-'));
  const start = () => startDaemon({ port: 0, dataDir, dataplane: 'virtual', ...opts });
  const t: TestDaemon = {
    daemon: await start(),
    client: undefined as unknown as NimbusClient,
    dataDir,
    async restart() {
      await t.daemon.close();
      t.daemon = await start();
      t.client = new NimbusClient({ url: t.daemon.url });
    },
    async close() {
      await t.daemon.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  t.client = new NimbusClient({ url: t.daemon.url });
  return t;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `nimbus ARGS` against `url`, as a user would from a shell. */
export function cli(url: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NIMBUS_URL: url, NIMBUS_PROJECT: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
