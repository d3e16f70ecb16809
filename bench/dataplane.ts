/**
 * The linux data plane at size (root only): from the API calls to the first successful
 * real ping for the reference lab, for 100 servers in 10 VPCs and for 500 servers in 10
 * VPCs; then the time to remove them all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon } from '../src/daemon.js';
import { cleanNamespaces } from '../src/dataplane/linux/clean.js';
import type { NimbusClient } from '../src/client/client.js';
import { NimbusClient as Client } from '../src/client/client.js';

export interface DataplaneResult {
  name: string;
  servers: number;
  apiMs: number;
  firstPingMs: number;
  cleanMs: number;
  namespaces: number;
}

async function scenario(
  name: string,
  build: (c: NimbusClient) => Promise<{ from: string; to: string; servers: number }>,
  log: (s: string) => void,
): Promise<DataplaneResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-dp-'));
  const prefix = `b${randomBytes(3).toString('hex')}`;
  const d = await startDaemon({ port: 0, dataDir: dir, dataplane: 'linux', prefix });
  try {
    const c = new Client({ url: d.url });
    const t0 = performance.now();
    const { from, to, servers } = await build(c);
    const apiMs = performance.now() - t0;
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) ok = (await c.ping({ server: from, destination: to, count: 1 })).reachable;
    const firstPingMs = performance.now() - t0;
    if (!ok) throw new Error(`${name}: no successful ping`);
    await d.close();
    const t1 = performance.now();
    const removed = await cleanNamespaces(prefix);
    const r = { name, servers, apiMs, firstPingMs, cleanMs: performance.now() - t1, namespaces: removed.length };
    log(
      `  ${name}: API calls ${apiMs.toFixed(0)} ms, first successful ping ${firstPingMs.toFixed(0)} ms after the first call; clean of ${removed.length} namespaces ${r.cleanMs.toFixed(0)} ms`,
    );
    return r;
  } finally {
    await d.close().catch(() => undefined);
    await cleanNamespaces(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}

function fleet(servers: number, vpcs: number) {
  return async (c: NimbusClient) => {
    for (let v = 0; v < vpcs; v++) {
      await c.vpcs.create({ name: `v${v}`, cidr: `10.${v}.0.0/16` });
      await c.subnets.create({ name: `s${v}`, vpc: `v${v}`, cidr: `10.${v}.0.0/22` });
    }
    for (let i = 0; i < servers; i++) await c.servers.create({ name: `e${i}`, subnet: `s${i % vpcs}` });
    return { from: `e${servers - 1}`, to: `10.${(servers - 1) % vpcs}.0.2`, servers };
  };
}

export async function benchDataplane(opts: { quick: boolean; log: (s: string) => void }): Promise<DataplaneResult[]> {
  const out: DataplaneResult[] = [];
  out.push(
    await scenario(
      'reference lab',
      async (c) => {
        await c.vpcs.create({ name: 'vpc-a', cidr: '192.168.6.0/24' });
        await c.vpcs.create({ name: 'vpc-b', cidr: '192.168.5.0/24' });
        await c.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
        await c.subnets.create({ name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
        await c.servers.create({ name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76' });
        await c.servers.create({ name: 'ecs-b', subnet: 'sub-b', ip: '192.168.5.130' });
        await c.peerings.create({ name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
        await c.routeTables.addRoute('vpc-a-main', { destination: '192.168.5.0/24', target: 'pcx-ab' });
        await c.routeTables.addRoute('vpc-b-main', { destination: '192.168.6.0/25', target: 'pcx-ab' });
        return { from: 'ecs-a', to: '192.168.5.130', servers: 2 };
      },
      opts.log,
    ),
  );
  out.push(await scenario('100 servers in 10 VPCs', fleet(100, 10), opts.log));
  if (!opts.quick) out.push(await scenario('500 servers in 10 VPCs', fleet(500, 10), opts.log));
  return out;
}
