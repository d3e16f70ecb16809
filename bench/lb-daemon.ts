/**
 * The figure users get: the engine inside a running daemon on the linux data plane, two
 * servers of a VPC running nginx as their workload, the load balancer's worker in its own
 * namespace, and wrk against the public IP the daemon handed to it. Beside it, in alternate
 * rounds, HAProxy in the same position: listening on the host (the public IP, another port)
 * and connecting to the same members from the load balancer's namespace (HAProxy's
 * `namespace` keyword), so the ratio between the two is the engine's, with the namespaces'
 * and veths' cost on both sides.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon } from '../src/daemon.js';
import { cleanNamespaces } from '../src/dataplane/linux/clean.js';
import { NimbusClient } from '../src/client/client.js';
import { start, waitPort } from './lib/proc.js';
import { serverNs } from '../src/dataplane/linux/names.js';
import { wrk, type WrkResult } from './lib/wrk.js';

export async function benchLbInDaemon(opts: {
  seconds: number;
  rounds: number;
  log: (s: string) => void;
}): Promise<{ nimbus: WrkResult[]; haproxy: WrkResult[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-lbd-'));
  const prefix = `b${randomBytes(3).toString('hex')}`;
  const d = await startDaemon({ port: 0, dataDir: join(dir, 'data'), dataplane: 'linux', prefix });
  const runs: WrkResult[] = [];
  const reference: WrkResult[] = [];
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
    const lb = await c.loadBalancers.get('elb');
    const members = await Promise.all(['w1', 'w2'].map((n) => c.servers.get(n)));
    const conf = join(dir, 'haproxy.cfg');
    writeFileSync(
      conf,
      `global\n  nbthread 1\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n  option http-keep-alive\nlisten lb\n  bind ${publicIp}:81\n  balance roundrobin\n` +
        members.map((m) => `  server ${m.name} ${m.privateIp}:8080 namespace ${serverNs(prefix, lb.id)}\n`).join(''),
    );
    const show = (name: string, r: number, res: WrkResult) =>
      opts.log(
        `  round ${r}/${opts.rounds}  ${name.padEnd(42)} ${res.rps.toFixed(0).padStart(7)} req/s  p50 ${res.p50ms.toFixed(2)} ms  p99 ${res.p99ms.toFixed(2)} ms${res.errors ? `  errors ${res.errors}` : ''}`,
      );
    wrk(`http://${publicIp}/`, 1);
    for (let r = 1; r <= opts.rounds; r++) {
      const res = wrk(`http://${publicIp}/`, opts.seconds);
      runs.push(res);
      show('Nimbus in the daemon (linux, public IP)', r, res);
      const h = start('haproxy', ['-f', conf, '-db']);
      try {
        await waitPort(81, publicIp);
        wrk(`http://${publicIp}:81/`, 1);
        const hr = wrk(`http://${publicIp}:81/`, opts.seconds);
        reference.push(hr);
        show('HAProxy in the same position', r, hr);
      } finally {
        await h.stop();
      }
    }
  } finally {
    await d.close();
    await cleanNamespaces(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
  return { nimbus: runs, haproxy: reference };
}
