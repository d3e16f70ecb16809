/**
 * The example topology files on the linux data plane (privileged): the reference lab with
 * real ping and real HTTP through the load balancer's public IP, and hub and spoke with real
 * pings agreeing with the analyzer that peering is not transitive.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { checkPart2, waitMembersOnline, waitUp } from '../helpers/lab.js';
import type { TopologyProgress } from '../../src/client/client.js';

const example = (f: string) => readFileSync(fileURLToPath(new URL(`../../examples/${f}`, import.meta.url)), 'utf8');
let t: LinuxTestDaemon;
before(async () => {
  if (skipLinux) return;
  t = await linuxDaemon();
});
after(async () => {
  await t?.close();
});

async function apply(file: string, project: string): Promise<Extract<TopologyProgress, { type: 'done' }>> {
  await t.client.projects.create({ name: project });
  const lines: TopologyProgress[] = [];
  await t.client.as(project).topology.apply(example(file), undefined, (l) => lines.push(l));
  const end = lines.at(-1);
  assert.equal(end?.type, 'done', JSON.stringify(end));
  await t.daemon.dataplane.settled();
  return end as Extract<TopologyProgress, { type: 'done' }>;
}

test('the reference lab from its file: real ping over the peering, real HTTP through the public IP', { skip: skipLinux }, async () => {
  const done = await apply('reference-lab.yaml', 'lab');
  const c = t.client.as('lab');
  const ping = await c.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 2 });
  assert.equal(ping.reachable, true, ping.output);
  assert.match(ping.output, /2 received/);
  await waitMembersOnline(c);
  const lb = done.loadBalancers.find((l) => l.name === 'elb');
  assert.ok(lb?.publicIp);
  await waitUp(`http://${lb.publicIp}/`);
  await checkPart2(c, `http://${lb.publicIp}`, 'linux-topology');
  assert.equal((await c.topology.plan(example('reference-lab.yaml'))).steps.length, 0);
});

test('hub and spoke from its file: real pings reach the hub, not across (not transitive)', { skip: skipLinux }, async () => {
  await apply('hub-and-spoke.yaml', 'hub');
  const c = t.client.as('hub');
  const ping = async (from: string, to: string) => (await c.ping({ server: from, destination: to, count: 1 })).reachable;
  assert.equal(await ping('spoke-1', '10.0.1.10'), true);
  assert.equal(await ping('hub-1', '10.2.1.10'), true);
  assert.equal(await ping('spoke-1', '10.2.1.10'), false, 'no transit through the hub');
  const verdict = await c.trace({ server: 'spoke-1', destination: '10.2.1.10', protocol: 'icmp' });
  assert.equal(verdict.reachable, false, 'and the analyzer says the same');
});

test(
  'two tiers from its file: real HTTP through the load balancer to three web servers; the database refuses the probe, takes the web tier',
  { skip: skipLinux },
  async () => {
    const done = await apply('two-tier.yaml', 'shop');
    const c = t.client.as('shop');
    const lb = done.loadBalancers.find((l) => l.name === 'shop-lb');
    assert.ok(lb?.publicIp);
    await waitUp(`http://${lb.publicIp}/`);
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < 3; i++) {
      const m = /Hello from (web-\d)/.exec(await (await fetch(`http://${lb.publicIp}/`, { headers: { connection: 'close' } })).text());
      if (m) seen.add(m[1]);
    }
    assert.deepEqual([...seen].sort(), ['web-1', 'web-2', 'web-3']);
    const probe = (from: string) => c.trace({ server: from, destination: '10.30.2.20', protocol: 'tcp', port: 5432, probe: true });
    const blocked = await probe('lb-probe');
    assert.equal(blocked.reachable, false);
    assert.equal(blocked.probe?.agrees, true, 'a real connection attempt agrees');
    const open = await probe('web-1');
    assert.equal(open.reachable, true);
    assert.equal(open.probe?.agrees, true);
  },
);
