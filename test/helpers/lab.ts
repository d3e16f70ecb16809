/**
 * The reference lab, both parts, through the API, and the checks of part 2 that hold on
 * both data planes.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { get } from 'node:http';
import { spawnSync } from 'node:child_process';
import type { NimbusClient } from '../../src/client/client.js';

/** Port 80 as in the lab when we may bind it; a high port otherwise. */
export const LISTEN_PORT = process.getuid?.() === 0 ? 80 : 18080;

/** A public IP for one test file: the virtual tests draw from .100-.174, the linux ones from .175-.249, so files running side by side never meet. */
export function randomPublicIp(plane: 'virtual' | 'linux'): string {
  const draw = () => (plane === 'virtual' ? `127.0.1.${randomInt(100, 175)}` : `127.0.1.${randomInt(175, 250)}`);
  // One no process listens on now (another test file running beside this one may hold one of the range).
  for (let i = 0; i < 30; i++) {
    const ip = draw();
    const r = spawnSync('ss', ['-Hltn', `src ${ip}`], { encoding: 'utf8' });
    if (r.status !== 0 || r.stdout.trim() === '') return ip;
  }
  return draw();
}

export async function part1(c: NimbusClient, app?: string): Promise<void> {
  await c.vpcs.create({ name: 'vpc-a', cidr: '192.168.6.0/24' });
  await c.vpcs.create({ name: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
  await c.subnets.create({ name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.servers.create({ name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76', app });
  await c.servers.create({ name: 'ecs-b', subnet: 'sub-b', ip: '192.168.5.130', app });
  await c.peerings.create({ name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  await c.routeTables.addRoute('vpc-a-main', { destination: '192.168.5.0/24', target: 'pcx-ab' });
  await c.routeTables.addRoute('vpc-b-main', { destination: '192.168.6.0/25', target: 'pcx-ab' });
}

/** Part 2: both servers run the web app behind an HTTP:80 listener with cookie persistence and a health check. */
export async function part2(c: NimbusClient, publicIp: string): Promise<string> {
  await c.loadBalancers.create({ name: 'elb', subnet: 'sub-b', publicIp });
  await c.pools.create({ name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin', persistence: 'http_cookie' });
  await c.members.create({ pool: 'web', server: 'ecs-a', port: 8080, name: 'm-a' });
  await c.members.create({ pool: 'web', server: 'ecs-b', port: 8080, name: 'm-b' });
  await c.healthMonitors.create({ pool: 'web', type: 'http', urlPath: '/', delay: 2, timeout: 1, maxRetries: 2, maxRetriesDown: 2 });
  await c.listeners.create({ name: 'http80', loadBalancer: 'elb', protocol: 'http', port: LISTEN_PORT, defaultPool: 'web' });
  return `http://${publicIp}:${LISTEN_PORT}`;
}

/** Waits until `url` answers 200 (the worker starts in the background), at most 15 s. */
export async function waitUp(url: string): Promise<void> {
  const until = Date.now() + 15_000;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.text();
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waits until every member of the lab's pool passes its health checks and the web app of each
 * member's server says it listens (members start healthy, before their workload is up), at
 * most 20 s.
 */
export async function waitMembersOnline(c: NimbusClient): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const ms = await c.members.list({ pool: 'web' });
    const listening = async () =>
      (await Promise.all(ms.map(async (m) => (m.serverId ? (await c.serverLogs(m.serverId)).output.includes('listening') : true)))).every(Boolean);
    if (ms.length > 0 && ms.every((m) => m.operatingStatus === 'ONLINE') && (await listening())) return;
    if (Date.now() > until) throw new Error(`members not online: ${ms.map((m) => `${m.name} ${m.operatingStatus} ${m.statusReason ?? ''}`).join('; ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function server(url: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { headers });
  const body = await r.text();
  const m = /^Hello from (ecs-[ab]) /.exec(body);
  assert.equal(r.status, 200, body);
  assert.ok(m, body);
  return { name: m[1], cookie: r.headers.get('set-cookie') };
}

/** Part 2's steps 9 and 10: the page is served; with the cookie every request reaches one server and the other's log shows none. */
export async function checkPart2(c: NimbusClient, base: string, tag: string): Promise<void> {
  const first = await server(`${base}/`);
  assert.match(first.cookie ?? '', /^NIMBUSLB=mbr-/);
  const cookie = first.cookie!.split(';')[0];
  const path = `/session-${tag}`;
  for (let i = 0; i < 6; i++) assert.equal((await server(`${base}${path}`, { cookie })).name, first.name);
  const other = first.name === 'ecs-a' ? 'ecs-b' : 'ecs-a';
  const logs = async (s: string) => (await c.serverLogs(s)).requests.filter((r) => r.path === path);
  // The web app appends its log lines asynchronously: give the last one a moment.
  for (let i = 0; i < 30 && (await logs(first.name)).length < 6; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await logs(first.name)).length, 6, `${first.name} logged the session`);
  assert.deepEqual(await logs(other), [], `${other}'s log shows none of the session`);
  const names = [];
  for (let i = 0; i < 4; i++) names.push((await server(`${base}/rr-${tag}`)).name);
  assert.deepEqual(new Set(names), new Set(['ecs-a', 'ecs-b']), `without the cookie round robin alternates: ${names}`);
  assert.notEqual(names[0], names[1]);
}

/** Waits until a load balancer's engine runs what the store says (ACTIVE), at most 30 s. */
export async function waitActive(c: NimbusClient, lb: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (let s = ''; s !== 'ACTIVE'; s = (await c.loadBalancers.get(lb)).provisioningStatus) {
    if (Date.now() > until) throw new Error(`${lb} is ${s}, not ACTIVE, after 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One GET on a connection of its own (none kept alive): its body. */
export function freshGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
    // A load balancer that never answers fails the test rather than hanging it.
    req.setTimeout(15_000, () => req.destroy(new Error(`${url}: no answer within 15 s`)));
  });
}
