/**
 * The load balancer against HAProxy, nginx and http-proxy: the same two nginx back ends
 * (a small fixed body), the same wrk load (64 connections, keep-alive), every proxy given
 * one thread or worker, runs alternated and repeated, medians reported with min and max and
 * as ratios to HAProxy measured in the same run.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, waitPort, median, type Proc } from './lib/proc.js';
import { wrk, type WrkResult } from './lib/wrk.js';
import type { EngineConfig } from '../src/lb/config.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const B1 = 18101;
const B2 = 18102;

export interface Contender {
  name: string;
  protocol: 'http' | 'tcp';
  port: number;
  headers?: string[];
  start(dir: string): Promise<Proc>;
}

function nginxBackends(dir: string): Proc {
  const conf = join(dir, 'backends.conf');
  writeFileSync(
    conf,
    `worker_processes 1; pid ${dir}/backends.pid; error_log ${dir}/backends.err; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 60s;
  server { listen 127.0.0.1:${B1}; location / { return 200 "hello from b1\\n"; } }
  server { listen 127.0.0.1:${B2}; location / { return 200 "hello from b2\\n"; } } }
`,
  );
  return start('nginx', ['-c', conf, '-p', dir]);
}

function haproxy(mode: 'http' | 'tcp', port: number): Contender {
  return {
    name: `HAProxy mode ${mode} (1 thread)`,
    protocol: mode,
    port,
    async start(dir) {
      const conf = join(dir, `haproxy-${mode}.cfg`);
      writeFileSync(
        conf,
        `global
  nbthread 1
  maxconn 4096
defaults
  mode ${mode}
  timeout connect 5s
  timeout client 30s
  timeout server 30s
${mode === 'http' ? '  option http-keep-alive\n' : ''}listen lb
  bind 127.0.0.1:${port}
  balance roundrobin
  server b1 127.0.0.1:${B1}
  server b2 127.0.0.1:${B2}
`,
      );
      return start('haproxy', ['-f', conf, '-db']);
    },
  };
}

function nginxProxy(port: number): Contender {
  return {
    name: 'nginx proxy (1 worker)',
    protocol: 'http',
    port,
    async start(dir) {
      const conf = join(dir, 'proxy.conf');
      writeFileSync(
        conf,
        `worker_processes 1; pid ${dir}/proxy.pid; error_log ${dir}/proxy.err; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream b { server 127.0.0.1:${B1}; server 127.0.0.1:${B2}; keepalive 64; }
  server { listen 127.0.0.1:${port};
    location / { proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
`,
      );
      return start('nginx', ['-c', conf, '-p', dir]);
    },
  };
}

function httpProxy(port: number): Contender {
  return {
    name: 'http-proxy (keep-alive agent)',
    protocol: 'http',
    port,
    async start() {
      return start(process.execPath, [join(ROOT, 'bench/http-proxy-server.cjs'), String(port), String(B1), String(B2)]);
    },
  };
}

function nimbus(
  name: string,
  protocol: 'http' | 'tcp',
  port: number,
  pool: Partial<EngineConfig['pools'][number]>,
  accessLog: boolean,
  headers?: string[],
): Contender {
  return {
    name,
    protocol,
    port,
    headers,
    async start(dir) {
      const log = accessLog ? join(dir, `access-${port}.log`) : '';
      // Compiled, as users run it (`npm run bench` builds dist/ first): through tsx's loader the
      // engine ran a third slower in the daemon's rows.
      const child = fork(join(ROOT, 'dist/lb/worker.js'), log ? [log] : [], {
        execArgv: [],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        detached: true,
        cwd: ROOT,
      });
      const config: EngineConfig = {
        listeners: [{ id: 'lsn', protocol: protocol === 'http' ? 'HTTP' : 'TCP', port, poolId: 'pool', bind: ['127.0.0.1'] }],
        pools: [
          {
            id: 'pool',
            algorithm: 'ROUND_ROBIN',
            persistence: null,
            health: null,
            members: [
              { id: 'b1', host: '127.0.0.1', port: B1, weight: 1, enabled: true },
              { id: 'b2', host: '127.0.0.1', port: B2, weight: 1, enabled: true },
            ],
            ...pool,
          },
        ],
      };
      child.once('message', () => child.send({ type: 'config', config }));
      return {
        child,
        stop: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      };
    },
  };
}

export interface LbRow {
  name: string;
  protocol: 'http' | 'tcp';
  runs: WrkResult[];
}

export async function benchLb(opts: { seconds: number; rounds: number; log: (s: string) => void; only?: RegExp | null }): Promise<LbRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
  const backends = nginxBackends(dir);
  const all: Contender[] = [
    haproxy('http', 18110),
    nginxProxy(18111),
    httpProxy(18112),
    nimbus('Nimbus round robin', 'http', 18113, {}, false),
    nimbus('Nimbus cookie persistence + access log', 'http', 18114, { persistence: { type: 'HTTP_COOKIE' } }, true, ['Cookie: NIMBUSLB=b1']),
    nimbus('Nimbus least connections', 'http', 18115, { algorithm: 'LEAST_CONNECTIONS' }, false),
    haproxy('tcp', 18116),
    nimbus('Nimbus TCP listener', 'tcp', 18117, {}, false),
  ];
  const contenders = all.filter((c) => !opts.only || c.name.startsWith('HAProxy') || opts.only.test(c.name));
  const rows: LbRow[] = contenders.map((c) => ({ name: c.name, protocol: c.protocol, runs: [] }));
  try {
    await waitPort(B1);
    await waitPort(B2);
    for (let round = 1; round <= opts.rounds; round++) {
      for (const [i, c] of contenders.entries()) {
        const p = await c.start(dir);
        try {
          await waitPort(c.port);
          wrk(`http://127.0.0.1:${c.port}/`, 1, c.headers); // warm up
          const r = wrk(`http://127.0.0.1:${c.port}/`, opts.seconds, c.headers);
          rows[i].runs.push(r);
          opts.log(
            `  round ${round}/${opts.rounds}  ${c.name.padEnd(42)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms${r.errors ? `  errors ${r.errors}` : ''}`,
          );
        } finally {
          await p.stop();
        }
      }
    }
  } finally {
    await backends.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function lbTable(rows: LbRow[]): string {
  const ref = (protocol: 'http' | 'tcp') => rows.find((r) => r.protocol === protocol && r.name.startsWith('HAProxy'))!;
  const out = ['| proxy | req/s (median, min–max) | ÷ HAProxy | p50 ms | p99 ms | p99 ÷ HAProxy | errors |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const rps = r.runs.map((x) => x.rps);
    const h = ref(r.protocol);
    const hr = median(h.runs.map((x) => x.rps));
    const hp99 = median(h.runs.map((x) => x.p99ms));
    const p99 = median(r.runs.map((x) => x.p99ms));
    out.push(
      `| ${r.name} | ${median(rps).toFixed(0)} (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}) | ${(median(rps) / hr).toFixed(2)} | ${median(r.runs.map((x) => x.p50ms)).toFixed(2)} | ${p99.toFixed(2)} | ${(p99 / hp99).toFixed(2)} | ${r.runs.reduce((a, x) => a + x.errors, 0)} |`,
    );
  }
  return out.join('\n');
}
