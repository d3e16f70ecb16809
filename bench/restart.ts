/**
 * A daemon's restart after SIGKILL at size (root only): 500 servers on the linux data plane,
 * 2 of them with a workload (a web app, served by the app host, and a command of the server's
 * own, a process of its own), and a load balancer. How soon the API answers again, how soon
 * the data plane is converged, and whether the workloads and the worker were adopted (the same
 * processes) rather than started again; beside a bare node HTTP server's start to its first
 * answer, measured in the same run.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { NimbusClient } from '../src/client/client.js';
import { spawnServe } from '../test/helpers/daemon.js';
import { removeInstallation } from './lib/installation.js';

export interface RestartResult {
  servers: number;
  apiMs: number;
  convergedMs: number;
  adopted: boolean;
  bareNodeMs: number;
}

const serve = (dir: string, prefix: string) => spawnServe(['--data', dir, '--dataplane', 'linux', '--prefix', prefix]);

/** Milliseconds from `t0` to the first 200 of `url`. */
async function firstAnswer(url: () => Promise<string> | string, t0: number, headers: Record<string, string> = {}): Promise<number> {
  const u = await url();
  for (;;) {
    try {
      const r = await fetch(u, { headers });
      await r.text();
      if (r.ok) return performance.now() - t0;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function bareNode(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      '-e',
      "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log('listening on http://127.0.0.1:'+this.address().port)})",
    ],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const url = new Promise<string>((resolve) => child.stdout!.on('data', (d) => resolve(/(http:\/\/\S+)/.exec(String(d))![1])));
  const ms = await firstAnswer(() => url, t0);
  child.kill();
  return ms;
}

export async function benchRestart(opts: { servers: number; log: (s: string) => void }): Promise<RestartResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-restart-'));
  const prefix = `b${randomBytes(3).toString('hex')}`;
  let d = await serve(dir, prefix);
  try {
    const c = new NimbusClient({ url: d.url });
    await c.vpcs.create({ name: 'v', cidr: '10.60.0.0/16' });
    await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.60.0.0/22' });
    for (let i = 0; i < opts.servers; i++) await c.servers.create({ name: `e${i}`, subnet: 's', app: i === 0 ? 'web' : i === 1 ? 'sleep 86400' : undefined });
    await c.loadBalancers.create({ name: 'elb', subnet: 's' });
    await c.pools.create({ name: 'p', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
    await c.members.create({ pool: 'p', server: 'e0', port: 8080 });
    await c.listeners.create({ name: 'l', loadBalancer: 'elb', protocol: 'http', port: 80, defaultPool: 'p' });
    for (;;) {
      const st = await c.status();
      if (st.dataplane.converged && (await c.loadBalancers.get('elb')).provisioningStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const pidOf = (key: string) => (JSON.parse(readFileSync(join(dir, 'run', key), 'utf8')) as { pid: number }).pid;
    const lb = await c.loadBalancers.get('elb');
    // The worker and the server's own command are adopted (the app host is started anew by design: docs/decisions.md, issue 28).
    const before = [pidOf(lb.id), pidOf((await c.servers.get('e1')).id)];
    opts.log(`  ${opts.servers} servers built and converged; SIGKILL`);
    d.child.kill('SIGKILL');
    await new Promise((r) => d.child.once('exit', r));
    const t0 = performance.now();
    d = await serve(dir, prefix);
    const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    const apiMs = await firstAnswer(() => `${d.url}/v1/status`, t0, { authorization: `Bearer ${token}` });
    const c2 = new NimbusClient({ url: d.url });
    let convergedMs = 0;
    for (;;) {
      const st = await c2.status();
      if (st.dataplane.converged) {
        convergedMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const after = [pidOf(lb.id), pidOf((await c2.servers.get('e1')).id)];
    const adopted = before.every((p, i) => p === after[i]);
    const bareNodeMs = await bareNode();
    opts.log(
      `  restart: API answered after ${apiMs.toFixed(0)} ms (bare node ${bareNodeMs.toFixed(0)} ms), converged after ${convergedMs.toFixed(0)} ms; adopted: ${adopted}`,
    );
    return { servers: opts.servers, apiMs, convergedMs, adopted, bareNodeMs };
  } finally {
    await removeInstallation(d.child, prefix, dir);
  }
}
