/**
 * The figure users get: the engine inside a running daemon on the linux data plane, two
 * servers of a VPC running nginx as their workload, the load balancer's worker in its own
 * namespace, and wrk against the public IP the daemon handed to it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon } from '../src/daemon.js';
import { cleanNamespaces } from '../src/dataplane/linux/clean.js';
import { NimbusClient } from '../src/client/client.js';
import { waitPort } from './lib/proc.js';
import { wrk, type WrkResult } from './lib/wrk.js';

export async function benchLbInDaemon(opts: { seconds: number; rounds: number; log: (s: string) => void }): Promise<WrkResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-lbd-'));
  const prefix = `b${randomBytes(3).toString('hex')}`;
  const d = await startDaemon({ port: 0, dataDir: join(dir, 'data'), dataplane: 'linux', prefix });
  const runs: WrkResult[] = [];
  try {
    const c = new NimbusClient({ url: d.url });
    await c.vpcs.create({ name: 'v', cidr: '10.50.0.0/16' });
    await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.50.1.0/24' });
    for (const n of ['w1', 'w2']) {
      const conf = join(dir, `${n}.conf`);
      writeFileSync(
        conf,
        `worker_processes 1; pid ${dir}/${n}.pid; error_log ${dir}/${n}.err; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 8080; location / { return 200 "hello from ${n}\\n"; } } }
`,
      );
      await c.servers.create({ name: n, subnet: 's', app: `nginx -c ${conf} -p ${dir}` });
    }
    const publicIp = '127.0.1.250';
    await c.loadBalancers.create({ name: 'elb', subnet: 's', publicIp });
    await c.pools.create({ name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
    await c.members.create({ pool: 'web', server: 'w1', port: 8080 });
    await c.members.create({ pool: 'web', server: 'w2', port: 8080 });
    await c.listeners.create({ name: 'l80', loadBalancer: 'elb', protocol: 'http', port: 80, defaultPool: 'web' });
    await waitPort(80, publicIp, 20_000);
    wrk(`http://${publicIp}/`, 1);
    for (let r = 1; r <= opts.rounds; r++) {
      const res = wrk(`http://${publicIp}/`, opts.seconds);
      runs.push(res);
      opts.log(`  round ${r}/${opts.rounds}  Nimbus in the daemon (linux, public IP)   ${res.rps.toFixed(0).padStart(7)} req/s  p50 ${res.p50ms.toFixed(2)} ms  p99 ${res.p99ms.toFixed(2)} ms${res.errors ? `  errors ${res.errors}` : ''}`);
    }
  } finally {
    await d.close();
    await cleanNamespaces(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
  return runs;
}
