/**
 * The control plane at size: a daemon (virtual data plane) started as its own process,
 * resources created through the API with a few requests in flight, then list latency and
 * the daemon's resident memory. With `withLoadBalancer`, a load balancer with a listener and
 * two members exists before the servers and routes are created, so its reconciler (which on
 * the virtual plane compiles the whole topology to admit members) runs all along.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NimbusClient } from '../src/client/client.js';
import { median, percentile, start, waitPort } from './lib/proc.js';

const BIN = fileURLToPath(new URL('../bin/nimbus.js', import.meta.url));

export interface ControlPlaneResult {
  withLoadBalancer: boolean;
  resources: number;
  createsPerSecond: number;
  p50ms: number;
  p99ms: number;
  listServers: { count: number; medianMs: number };
  rssMB: number;
}

export async function benchControlPlane(opts: { total: number; log: (s: string) => void; withLoadBalancer?: boolean }): Promise<ControlPlaneResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-cp-'));
  const port = 18190;
  const daemon = start(process.execPath, [BIN, 'serve', '--port', String(port), '--data', dir, '--dataplane', 'virtual']);
  try {
    await waitPort(port);
    const c = new NimbusClient({ url: `http://127.0.0.1:${port}` });
    // The mix: VPCs, 10 subnets each, servers, peerings between neighbours and routes over them.
    const vpcs = Math.max(2, Math.round(opts.total / 100));
    const plan: (() => Promise<unknown>)[] = [];
    for (let v = 0; v < vpcs; v++) plan.push(() => c.vpcs.create({ name: `v${v}`, cidr: `10.${v >> 2}.${(v & 3) * 64}.0/18` }));
    const phase2: (() => Promise<unknown>)[] = [];
    for (let v = 0; v < vpcs; v++)
      for (let s = 0; s < 10; s++) phase2.push(() => c.subnets.create({ name: `v${v}s${s}`, vpc: `v${v}`, cidr: `10.${v >> 2}.${(v & 3) * 64 + s}.0/24` }));
    const phase3: (() => Promise<unknown>)[] = [];
    for (let v = 0; v + 1 < vpcs; v++) phase3.push(() => c.peerings.create({ name: `p${v}`, vpc: `v${v}`, peerVpc: `v${v + 1}` }));
    const fixed = vpcs + vpcs * 10 + (vpcs - 1);
    const routes = Math.min(Math.round(opts.total * 0.1), (vpcs - 1) * 2);
    const servers = opts.total - fixed - routes;
    const phase4: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < servers; i++) phase4.push(() => c.servers.create({ name: `e${i}`, subnet: `v${i % vpcs}s${(i >> 4) % 10}` }));
    for (let v = 0; v + 1 < vpcs && phase4.length < servers + routes; v++) {
      phase4.push(() => c.routeTables.addRoute(`v${v}-main`, { destination: `10.${(v + 1) >> 2}.${((v + 1) & 3) * 64}.0/18`, target: `p${v}` }));
      phase4.push(() => c.routeTables.addRoute(`v${v + 1}-main`, { destination: `10.${v >> 2}.${(v & 3) * 64}.0/18`, target: `p${v}` }));
    }
    const latencies: number[] = [];
    const t0 = performance.now();
    const lb: (() => Promise<unknown>)[] = [];
    if (opts.withLoadBalancer) {
      // One at a time, in order: each needs the one before.
      lb.push(async () => {
        await c.loadBalancers.create({ name: 'elb', subnet: 'v0s0' });
        await c.pools.create({ name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
        await c.listeners.create({ name: 'l', loadBalancer: 'elb', protocol: 'http', port: 8080, defaultPool: 'web' });
        // Members, so the virtual plane's admission asks the analyzer (compiling the topology) on every pass.
        for (const n of ['m0', 'm1']) {
          await c.servers.create({ name: n, subnet: 'v0s0' });
          await c.members.create({ pool: 'web', server: n, port: 8080 });
        }
      });
    }
    for (const phase of [plan, phase2, phase3, lb, phase4]) {
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < phase.length) {
            const job = phase[next++];
            const s = performance.now();
            await job();
            latencies.push(performance.now() - s);
          }
        }),
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    const listTimes: number[] = [];
    let count = 0;
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      count = (await c.servers.list()).length;
      listTimes.push(performance.now() - s);
    }
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${daemon.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const result = {
      withLoadBalancer: opts.withLoadBalancer ?? false,
      resources: latencies.length + (opts.withLoadBalancer ? 6 : 0),
      createsPerSecond: latencies.length / seconds,
      p50ms: median(latencies),
      p99ms: percentile(latencies, 99),
      listServers: { count, medianMs: median(listTimes) },
      rssMB: rss,
    };
    opts.log(
      `  ${result.resources} creates${result.withLoadBalancer ? ' (with a load balancer)' : ''} in ${seconds.toFixed(1)} s: ${result.createsPerSecond.toFixed(0)}/s, p50 ${result.p50ms.toFixed(2)} ms, p99 ${result.p99ms.toFixed(2)} ms; list of ${count} servers ${result.listServers.medianMs.toFixed(0)} ms; RSS ${rss.toFixed(0)} MB`,
    );
    return result;
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
