/**
 * The figure users get: the engine inside a running daemon on the linux data plane, two
 * servers of a VPC running nginx as their workload, the load balancer's worker in its own
 * namespace, and wrk against the public IP the daemon handed to it. Beside it, in alternate
 * rounds, HAProxy in the same position: listening on the host (the public IP, another port)
 * and connecting to the same members from the load balancer's namespace (HAProxy's
 * `namespace` keyword), so the ratio between the two is the engine's, with the namespaces'
 * and veths' cost on both sides.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnServe } from '../test/helpers/daemon.js';
import { installationFolders } from '../src/workloads/lb-dirs.js';
import { cleanNamespaces } from '../src/dataplane/linux/clean.js';
import { NimbusClient } from '../src/client/client.js';
import { start, waitPort } from './lib/proc.js';
import { serverNs } from '../src/dataplane/linux/names.js';
import { L7_RETRIES } from '../src/lb/haproxy/render.js';
import { wrk, type WrkResult } from './lib/wrk.js';

export interface DaemonRow {
  name: string;
  protocol: 'http' | 'tcp';
  runs: WrkResult[];
  /** The row this one is compared with (HAProxy in the same position). */
  versus?: string;
}

const HAPROXY_HTTP = (n: number) => `HAProxy in the same position (nbthread ${n}, host socket, members from the LB namespace)`;
const HAPROXY_TCP = 'HAProxy mode tcp in the same position (nbthread 1)';
const HAPROXY_POLICIES = 'HAProxy with the same 10 ACL rules in the same position (nbthread 1)';
const HAPROXY_TLS = 'HAProxy terminating TLS (one certificate) in the same position (nbthread 1)';
/** Bare HAProxy with the L7 retries the engine renders (render.ts): what they cost HAProxy itself. */
const HAPROXY_RETRIES = "HAProxy in the same position with the engine's L7 retries (retry-on conn-failure empty-response, nbthread 1)";
/** The ten policies' paths: none is requested, so every request is checked against all ten and goes to the default pool. */
const POLICY_PATHS = Array.from({ length: 10 }, (_, i) => `/p${i + 1}/`);

export async function benchLbInDaemon(opts: {
  seconds: number;
  rounds: number;
  log: (s: string) => void;
  /** Only the HTTP rows or only the TCP rows (`--daemon=http|tcp`); both when absent. */
  only?: 'http' | 'tcp' | 'l7';
  /** The daemon's layer-7 engine (`nimbus serve --l7-engine`): Nimbus's own (default) or HAProxy. */
  engine?: 'builtin' | 'haproxy';
}): Promise<DaemonRow[]> {
  const engine = opts.engine ?? 'builtin';
  const by = engine === 'haproxy' ? ' (HAProxy engine)' : '';
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-lbd-'));
  const prefix = `b${randomBytes(3).toString('hex')}`;
  // The daemon as users run it: `nimbus serve` from dist/, so its workers run compiled JavaScript
  // (a daemon started from src/ runs them through tsx, which cost a third of their rate).
  const d = await spawnServe(['--data', join(dir, 'data'), '--dataplane', 'linux', '--prefix', prefix, '--l7-engine', engine]);
  const rows: DaemonRow[] = [];
  const row = (name: string, protocol: 'http' | 'tcp', versus?: string) => {
    let r = rows.find((x) => x.name === name);
    if (!r) rows.push((r = { name, protocol, runs: [], versus }));
    return r;
  };
  try {
    const c = new NimbusClient({ url: d.url });
    await c.vpcs.create({ name: 'v', cidr: '10.50.0.0/16' });
    await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.50.1.0/24' });
    for (const n of ['w1', 'w2']) {
      const conf = join(dir, `${n}.conf`);
      writeFileSync(
        conf,
        `worker_processes 1; pid /tmp/${n}.pid; error_log /tmp/${n}.err; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path /tmp/nb; proxy_temp_path /tmp/np; fastcgi_temp_path /tmp/nf; uwsgi_temp_path /tmp/nu; scgi_temp_path /tmp/ns;
  server { listen 8080; location / { return 200 "hello from ${n}\\n"; } } }
`,
      );
      // nginx runs as its server's root, a host id of its own: its files (its temporary folders too,
      // which Debian's build puts under /var/lib/nginx) go to the server's own /tmp.
      const text = Buffer.from(readFileSync(conf)).toString('base64');
      await c.servers.create({ name: n, subnet: 's', app: `echo ${text} | base64 -d > /tmp/nginx.conf && exec nginx -c /tmp/nginx.conf -p /tmp/` });
    }
    const publicIp = '127.0.1.250';
    await c.loadBalancers.create({ name: 'elb', subnet: 's', publicIp });
    await c.pools.create({ name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
    await c.pools.create({ name: 'raw', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'round_robin' });
    for (const pool of ['web', 'raw']) for (const server of ['w1', 'w2']) await c.members.create({ pool, server, port: 8080 });
    await c.listeners.create({ name: 'l80', loadBalancer: 'elb', protocol: 'http', port: 80, defaultPool: 'web' });
    // TCP: the kernel's rules (port 82), and the user-space engine (port 84: a connection limit keeps it there).
    await c.listeners.create({ name: 'k82', loadBalancer: 'elb', protocol: 'tcp', port: 82, defaultPool: 'raw' });
    await c.listeners.create({ name: 'u84', loadBalancer: 'elb', protocol: 'tcp', port: 84, defaultPool: 'raw', connectionLimit: 1_000_000 });
    // A listener with 10 L7 policies (port 86) and one terminating TLS (port 443), both to the same pool.
    await c.listeners.create({ name: 'p86', loadBalancer: 'elb', protocol: 'http', port: 86, defaultPool: 'web' });
    for (const [i, path] of POLICY_PATHS.entries())
      await c.l7Policies.create({
        listener: 'p86',
        name: `p${i + 1}`,
        action: 'redirect_to_pool',
        redirectPool: 'web',
        rules: [{ type: 'path', compareType: 'starts_with', value: path }],
      });
    await c.certificates.create({ name: 'bench', selfSigned: { dnsNames: ['bench.test'] } });
    await c.listeners.create({ name: 's443', loadBalancer: 'elb', protocol: 'terminated_https', port: 443, defaultPool: 'web', certificate: 'bench' });
    const cert = await c.certificates.get('bench');
    await waitPort(80, publicIp, 20_000);
    if (opts.only !== 'http' && opts.only !== 'l7') {
      await waitPort(82, publicIp, 20_000);
      await waitPort(84, publicIp, 20_000);
    }
    const engines = (await c.loadBalancers.status('elb')).listeners.map((l) => `${l.name}: ${l.engine}`).join(', ');
    opts.log(`  listeners: ${engines}`);
    const lb = await c.loadBalancers.get('elb');
    const members = await Promise.all(['w1', 'w2'].map((n) => c.servers.get(n)));
    // The certificate and key, for bare HAProxy's `crt` (the daemon's copy is sealed; this one is the bench's own).
    const pemFile = join(dir, 'bench.pem');
    const haproxyConf = (mode: 'http' | 'tcp', threads: number, port: number, extra: { tls?: boolean; policies?: boolean; retries?: boolean } = {}) => {
      const conf = join(dir, `haproxy-${mode}-${threads}-${port}.cfg`);
      const bind = `  bind ${publicIp}:${port}${extra.tls ? ` ssl crt ${pemFile} alpn http/1.1` : ''}\n`;
      // The same ten checks as the listener's policies: each path prefix sends to a backend of its own, none matches.
      const acls = extra.policies ? POLICY_PATHS.map((p, i) => `  use_backend other if { path_beg ${p} } # ${i + 1}\n`).join('') : '';
      const servers = members.map((m) => `  server ${m.name} ${m.privateIp}:8080 namespace ${serverNs(prefix, lb.id)}\n`).join('');
      writeFileSync(
        conf,
        `global\n  nbthread ${threads}\n  maxconn 4096\ndefaults\n  mode ${mode}\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n${mode === 'http' ? '  option http-keep-alive\n' : ''}frontend lb\n${bind}${acls}  default_backend pool\nbackend pool\n  balance roundrobin\n${extra.retries ? RETRY_LINES : ''}${servers}` +
          (extra.policies ? `backend other\n  balance roundrobin\n${servers}` : ''),
      );
      return conf;
    };
    const measure = (name: string, protocol: 'http' | 'tcp', r: number, port: number, versus?: string, scheme = 'http') => {
      wrk(`${scheme}://${publicIp}:${port}/`, 1);
      const res = wrk(`${scheme}://${publicIp}:${port}/`, opts.seconds);
      row(name, protocol, versus).runs.push(res);
      opts.log(
        `  round ${r}/${opts.rounds}  ${name.padEnd(58)} ${res.rps.toFixed(0).padStart(7)} req/s  p50 ${res.p50ms.toFixed(2)} ms  p99 ${res.p99ms.toFixed(2)} ms${res.errors ? `  errors ${res.errors}` : ''}`,
      );
    };
    const withHaproxy = async (conf: string, port: number, fn: () => void) => {
      const h = start('haproxy', ['-f', conf, '-db']);
      try {
        await waitPort(port, publicIp);
        fn();
      } finally {
        await h.stop();
      }
    };
    for (const workers of opts.only === 'tcp' || opts.only === 'l7' ? [] : [1, 2]) {
      await c.loadBalancers.update('elb', { workers });
      await waitActive(c);
      await waitPort(80, publicIp, 20_000);
      const conf = haproxyConf('http', workers, 81);
      const retries = haproxyConf('http', 1, 89, { retries: true });
      for (let r = 1; r <= opts.rounds; r++) {
        measure(`Nimbus HTTP in the daemon${by}, workers ${workers} (access log on)`, 'http', r, 80, HAPROXY_HTTP(workers));
        await withHaproxy(conf, 81, () => measure(HAPROXY_HTTP(workers), 'http', r, 81));
        if (workers === 1 && opts.engine === 'haproxy') await withHaproxy(retries, 89, () => measure(HAPROXY_RETRIES, 'http', r, 89, HAPROXY_HTTP(1)));
      }
    }
    await c.loadBalancers.update('elb', { workers: 1 });
    await waitActive(c);
    if (opts.only !== 'tcp') {
      // The key never leaves the daemon; bare HAProxy gets a certificate of the same kind (EC P-256) made here.
      const { selfSign } = await import('../src/resources/certificate/service.js');
      const own = await selfSign([cert.domainName], 30);
      writeFileSync(pemFile, `${own.certPem.trimEnd()}\n${own.keyPem}`, { mode: 0o600 });
      await waitPort(86, publicIp, 20_000);
      await waitPort(443, publicIp, 20_000);
      const policiesConf = haproxyConf('http', 1, 87, { policies: true });
      const tlsConf = haproxyConf('http', 1, 444, { tls: true });
      for (let r = 1; r <= opts.rounds; r++) {
        measure(`Nimbus HTTP, a listener with 10 L7 policies${by}, workers 1`, 'http', r, 86, HAPROXY_POLICIES);
        await withHaproxy(policiesConf, 87, () => measure(HAPROXY_POLICIES, 'http', r, 87));
        measure(`Nimbus HTTPS (TERMINATED_HTTPS, one certificate)${by}, workers 1`, 'http', r, 443, HAPROXY_TLS, 'https');
        await withHaproxy(tlsConf, 444, () => measure(HAPROXY_TLS, 'http', r, 444, undefined, 'https'));
      }
    }
    const tcpConf = haproxyConf('tcp', 1, 83);
    for (let r = 1; r <= (opts.only === 'http' || opts.only === 'l7' ? 0 : opts.rounds); r++) {
      measure('Nimbus TCP listener, kernel (nftables), public IP', 'tcp', r, 82, HAPROXY_TCP);
      measure(`Nimbus TCP listener, user-space engine${by}, public IP`, 'tcp', r, 84, HAPROXY_TCP);
      await withHaproxy(tcpConf, 83, () => measure(HAPROXY_TCP, 'tcp', r, 83));
    }
  } finally {
    await new Promise((r) => {
      d.child.once('exit', r);
      d.child.kill('SIGTERM');
    });
    await cleanNamespaces(prefix);
    for (const f of installationFolders(join(dir, 'data'))) rmSync(f, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The L7 retries as render.ts writes them into a backend. */
const RETRY_LINES = L7_RETRIES.map((l) => `${l}\n`).join('');

async function waitActive(c: NimbusClient): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await c.loadBalancers.get('elb')).provisioningStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the load balancer did not become ACTIVE within 20 s');
}
