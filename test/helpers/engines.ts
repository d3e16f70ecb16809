/**
 * The two layer-7 engines the load balancer tests run on (`nimbus serve --l7-engine`): Nimbus's
 * own, and HAProxy (skipped, with the reason, where it is not installed); and how a test finds
 * HAProxy's worker process to kill it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHaproxy } from '../../src/lb/haproxy/render.js';
import type { EngineConfig } from '../../src/lb/config.js';
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { track } from './engine.js';
import { Engine } from '../../src/lb/engine.js';
import { haproxyPath } from '../../src/workloads/haproxy.js';
import { workerDir } from '../../src/workloads/lb-dirs.js';
import { testDaemon, type TestDaemon } from './daemon.js';
import { part1, part2, randomPublicIp, waitMembersOnline, waitUp } from './lab.js';

export type L7Engine = 'builtin' | 'haproxy';

export const NO_HAPROXY = haproxyPath() ? false : 'haproxy is not installed (bash scripts/install-deps.sh installs it)';

export const L7_ENGINES: { engine: L7Engine; skip: string | false }[] = [
  { engine: 'builtin', skip: false },
  { engine: 'haproxy', skip: NO_HAPROXY },
];

/** Both layer-7 engines as the contract tests serve a configuration on loopback: Nimbus's own in this process, HAProxy as the agent renders it. */
export const CONTRACT_ENGINES: { name: string; skip: string | false; serve: (config: EngineConfig, port: number) => Promise<void> }[] = [
  {
    name: "Nimbus's engine",
    skip: false,
    serve: async (config) => {
      await track(new Engine(null)).apply(config);
    },
  },
  { name: 'HAProxy', skip: NO_HAPROXY, serve: (config, port) => haproxyServing(config, port) },
];

/** HAProxy's master, from the pid file in the load balancer's agent folder. */
export function haproxyMaster(dataDir: string, lbId: string): number {
  return Number(readFileSync(join(workerDir(dataDir, lbId), 'haproxy.pid'), 'utf8'));
}

/** HAProxy's current worker: its master's newest child (the workers of before a reload may still be ending their connections). */
export function haproxyWorker(dataDir: string, lbId: string): number {
  const master = haproxyMaster(dataDir, lbId);
  const children = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).map(Number);
  return Math.max(...children);
}

/** A daemon on the virtual plane with `engine`, running the reference lab's both parts, its load balancer serving: the daemon and the public URL. */
export async function labOn(engine: L7Engine): Promise<{ t: TestDaemon; base: string }> {
  const t = await testDaemon({ l7Engine: engine });
  await part1(t.client, 'web');
  const base = await part2(t.client, randomPublicIp('virtual'));
  await waitUp(`${base}/`);
  await waitMembersOnline(t.client);
  return { t, base };
}

/**
 * HAProxy in the foreground with the configuration the agent renders for `config` (its
 * listeners on 127.0.0.1), closed with the file's other engines (track); resolves once
 * `port` accepts connections.
 */
export async function haproxyServing(config: EngineConfig, port: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-haproxy-contract-'));
  writeFileSync(join(dir, 'servers.state'), '1\n');
  writeFileSync(join(dir, 'haproxy.cfg'), renderHaproxy(config, { dir, threads: 1 }));
  const child = spawn(haproxyPath()!, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
  track({
    close: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  });
  // Listening: a connection is accepted (no request is sent, so no member sees one).
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('HAProxy did not listen within 5 s');
}

/**
 * New connections to `url`, one after another, until stopped (at most 60 s): the requests sent,
 * and what failed (a status other than 200, or the error's cause). `enough(n)` waits for `n`
 * more requests to have been sent.
 */
export function steadyLoad(url: string, init: { localAddress?: string } = {}) {
  const failures: string[] = [];
  /** The number of each failed request (1 for the first sent), in order. */
  const failedAt: number[] = [];
  const state = { sent: 0, running: true };
  const until = Date.now() + 60_000;
  const one = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const opts = { localAddress: init.localAddress, headers: { connection: 'close' }, signal: AbortSignal.timeout(10_000) };
      const req = httpRequest(url, opts, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) failures.push(`status ${res.statusCode}: ${body.slice(0, 80)}`);
          resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  const done = (async () => {
    while (state.running && Date.now() < until) {
      state.sent++;
      try {
        await one();
      } catch (err) {
        const e = err as Error & { cause?: unknown };
        failures.push(String(e.cause ?? e));
        failedAt.push(state.sent);
      }
    }
  })();
  return {
    failures,
    failedAt,
    get sent() {
      return state.sent;
    },
    async enough(n: number): Promise<void> {
      for (const goal = state.sent + n; state.sent < goal && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
    },
    async stop(): Promise<void> {
      state.running = false;
      await done;
    },
  };
}
