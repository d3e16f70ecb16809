/**
 * The analyzer and the kernel agree at the edge (privileged). One VPC with a public and a
 * private subnet, servers with and without an elastic IP, a NAT gateway; then the edge is taken
 * apart step by step: the private route goes, the public route goes, the NAT gateway's subnet
 * loses its way out, the NAT gateway goes, the gateway is detached. After each step, every
 * server's packets to the internet host (ping and TCP 80) and the internet's packets to every
 * elastic IP (ping and TCP 8080) are traced with a real probe beside them: they must agree.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { pool } from '../../src/dataplane/linux/run.js';
import type { NimbusClient } from '../../src/client/client.js';

let t: LinuxTestDaemon;
before(async () => {
  if (!skipLinux) t = await linuxDaemon();
});
after(async () => {
  await t?.close();
});

interface Probe {
  from: string;
  to: string;
  protocol: 'icmp' | 'tcp';
  port?: number;
}

/** Every probe of the current state, and the ones where the analyzer and the kernel differ. */
async function disagreements(c: NimbusClient, servers: string[]): Promise<{ count: number; reachable: number; wrong: string[]; ok: string[] }> {
  const eips = (await c.elasticIps.list()).filter((e) => e.serverId);
  const probes: Probe[] = [
    ...servers.flatMap((s) => [
      { from: s, to: '203.0.113.10', protocol: 'icmp' as const },
      { from: s, to: '203.0.113.10', protocol: 'tcp' as const, port: 80 },
    ]),
    ...eips.flatMap((e) => [
      { from: 'internet', to: e.publicIp, protocol: 'icmp' as const },
      { from: 'internet', to: e.publicIp, protocol: 'tcp' as const, port: 8080 },
    ]),
  ];
  const wrong: string[] = [];
  const ok: string[] = [];
  let reachable = 0;
  await pool(probes, 6, async (p) => {
    const r = await c.trace({ server: p.from, destination: p.to, protocol: p.protocol, port: p.port, probe: true });
    if (r.reachable) {
      reachable++;
      ok.push(`${p.from}->${p.to}/${p.protocol}`);
    }
    if (!r.probe!.agrees)
      wrong.push(
        `${p.from} -> ${p.to} ${p.protocol}${p.port ? `/${p.port}` : ''}: analyzer ${r.reachable ? 'reachable' : 'unreachable'}, kernel ${r.probe!.reachable ? 'reachable' : 'unreachable'}\n${r.text}${r.probe!.output}`,
      );
  });
  return { count: probes.length, reachable, wrong, ok: ok.sort() };
}

test('analyzer and kernel agree on the edge, step by step as it is taken apart', { skip: skipLinux }, async () => {
  const c = t.client;
  await c.vpcs.create({ name: 'v', cidr: '10.50.0.0/16' });
  await c.subnets.create({ name: 'pub', vpc: 'v', cidr: '10.50.1.0/24' });
  await c.subnets.create({ name: 'priv', vpc: 'v', cidr: '10.50.2.0/24' });
  await c.securityGroups.create({ name: 'open' });
  await c.securityGroups.addRule('open', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '0.0.0.0/0' });
  await c.securityGroups.addRule('open', { direction: 'ingress', protocol: 'icmp', remote: '203.0.113.0/24' });
  await c.securityGroups.create({ name: 'shut' });
  await c.securityGroups.addRule('shut', { direction: 'egress', protocol: 'tcp', remote: '0.0.0.0/0' });
  await c.internetGateways.create({ name: 'igw', vpc: 'v' });
  await c.routeTables.create({ name: 'pub-rt', vpc: 'v' });
  await c.routeTables.associate('pub-rt', 'pub');
  await c.routeTables.create({ name: 'priv-rt', vpc: 'v' });
  await c.routeTables.associate('priv-rt', 'priv');
  await c.routeTables.addRoute('pub-rt', { destination: '0.0.0.0/0', target: 'igw' });
  const servers = [
    { name: 'w-eip', subnet: 'pub', groups: ['open'], eip: true },
    { name: 'w-shut', subnet: 'pub', groups: ['shut'], eip: true },
    { name: 'w-bare', subnet: 'pub', groups: ['open'], eip: false },
    { name: 'p-app', subnet: 'priv', groups: ['open'], eip: false },
    { name: 'p-eip', subnet: 'priv', groups: ['open'], eip: true },
  ];
  for (const s of servers) {
    await c.servers.create({ name: s.name, subnet: s.subnet, securityGroups: s.groups, app: 'web:8080' });
    if (s.eip) {
      await c.elasticIps.create({ name: `${s.name}-ip` });
      await c.elasticIps.associate(`${s.name}-ip`, s.name);
    }
  }
  await c.elasticIps.create({ name: 'nat-ip' });
  await c.natGateways.create({ name: 'nat', subnet: 'pub', elasticIp: 'nat-ip' });
  await c.routeTables.addRoute('priv-rt', { destination: '0.0.0.0/0', target: 'nat' });

  const names = servers.map((s) => s.name);
  const steps: [string, () => Promise<unknown>][] = [
    ['the whole edge', async () => undefined],
    ['the private route gone', () => c.routeTables.removeRoute('priv-rt', '0.0.0.0/0')],
    ['the private route to the internet gateway (no NAT)', () => c.routeTables.addRoute('priv-rt', { destination: '0.0.0.0/0', target: 'igw' })],
    [
      'the private route back to the NAT gateway, the public route gone',
      async () => {
        await c.routeTables.removeRoute('priv-rt', '0.0.0.0/0');
        await c.routeTables.addRoute('priv-rt', { destination: '0.0.0.0/0', target: 'nat' });
        await c.routeTables.removeRoute('pub-rt', '0.0.0.0/0');
      },
    ],
    [
      'the public route again, the NAT gateway deleted (its route a blackhole)',
      async () => {
        await c.routeTables.addRoute('pub-rt', { destination: '0.0.0.0/0', target: 'igw' });
        await c.natGateways.delete('nat');
      },
    ],
    [
      'every address unmapped and the gateway detached (its routes blackholes)',
      async () => {
        for (const s of servers) if (s.eip) await c.elasticIps.disassociate(`${s.name}-ip`);
        await c.internetGateways.detach('igw');
      },
    ],
  ];
  const report: string[] = [];
  let total = 0;
  for (const [what, change] of steps) {
    await change();
    const sync = await c.dataplane.sync();
    assert.deepEqual(sync.errors, [], `${what}: the data plane converged`);
    const d = await disagreements(c, names);
    total += d.count;
    report.push(`${what}: ${d.count} probes, ${d.reachable} reachable (${d.ok.join(' ')})`);
    assert.deepEqual(d.wrong, [], `${what}:\n${d.wrong.join('\n')}`);
  }
  // The steps reach different things (the whole edge some, no route out nothing): the test tells states apart.
  const counts = report.map((l) => Number(/(\d+) reachable/.exec(l)![1]));
  assert.ok(new Set(counts).size >= 3 && counts[0] > 0 && counts.includes(0), report.join('\n'));
  if (process.env.NIMBUS_SHOW) console.log(report.join('\n'));
  assert.ok(total > 60, report.join('\n'));
});
