/**
 * Private DNS on the linux data plane (privileged), as a user meets it: `ping ecs-b` from
 * ecs-a; the fully qualified and AWS-style names; a load balancer's name; NXDOMAIN for the rest,
 * asked of nobody; a group that keeps DNS in is seen by trace and by the kernel alike; a VPC with
 * DNS off answers nothing; a peered VPC's names only once the peering lets them through.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../helpers/daemon.js';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';

let t: LinuxTestDaemon;
before(async () => {
  if (skipLinux) return;
  t = await linuxDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'v', cidr: '10.82.0.0/16' });
  await c.subnets.create({ name: 'a', vpc: 'v', cidr: '10.82.1.0/24' });
  await c.subnets.create({ name: 'b', vpc: 'v', cidr: '10.82.2.0/24' });
  await c.securityGroups.create({ name: 'pingable' });
  await c.securityGroups.addRule('pingable', { direction: 'ingress', protocol: 'icmp', remote: '10.82.0.0/16' });
  await c.securityGroups.create({ name: 'web-only' });
  const egressAll = (await c.securityGroups.get('web-only')).rules.find((r) => r.direction === 'egress')!;
  await c.securityGroups.removeRule('web-only', egressAll.id);
  await c.securityGroups.addRule('web-only', { direction: 'egress', protocol: 'tcp', ports: '80', remote: '0.0.0.0/0' });
  await c.servers.create({ name: 'ecs-a', subnet: 'a', ip: '10.82.1.10', securityGroups: ['pingable'] });
  await c.servers.create({ name: 'ecs-b', subnet: 'b', ip: '10.82.2.10', securityGroups: ['pingable'] });
  await c.servers.create({ name: 'ecs-c', subnet: 'a', ip: '10.82.1.11', securityGroups: ['web-only'] });
  await c.loadBalancers.create({ name: 'front', subnet: 'b', vip: '10.82.2.50' });
  await c.vpcs.create({ name: 'w', cidr: '10.83.0.0/16' });
  await c.subnets.create({ name: 'wa', vpc: 'w', cidr: '10.83.1.0/24' });
  await c.servers.create({ name: 'ecs-w', subnet: 'wa', ip: '10.83.1.10' });
});
after(async () => {
  await t?.close();
});

const nimbus = (...args: string[]) => cli(t.daemon.url, args, { NIMBUS_TOKEN: t.daemon.adminToken });

/** Runs `sh -c script` in a server once the kernel and the resolvers match the store. */
async function sh(server: string, script: string) {
  await t.daemon.dataplane.settled();
  await t.daemon.resolvers.settled();
  return nimbus('exec', server, '--', 'sh', '-c', script);
}

/** What a name resolves to from `server` (getent: the resolv.conf the server has), or null. */
async function resolve(server: string, name: string): Promise<string | null> {
  const r = await sh(server, `getent hosts ${name}`);
  return r.code === 0 ? r.stdout.trim().split(/\s+/)[0] : null;
}

/**
 * A resolver that has just been (re)started binds its addresses within moments: a name asked
 * for is tried until it answers, as a server's resolver library retries, at most 50 times.
 */
async function resolveSoon(server: string, name: string): Promise<string | null> {
  for (let i = 0; i < 50; i++) {
    const ip = await resolve(server, name);
    if (ip) return ip;
  }
  return null;
}

/** The DNS answer code (0 NOERROR, 3 NXDOMAIN) a query for `name` gets at `at` from `server`; 'timeout', or the server's own group refusing to send it. */
async function rcode(server: string, at: string, name: string): Promise<string> {
  const py = [
    'import socket,struct,sys',
    'q=struct.pack(">HHHHHH",7,0x0100,1,0,0,0)+b"".join(bytes([len(p)])+p.encode() for p in sys.argv[2].split("."))+b"\\0"+struct.pack(">HH",1,1)',
    's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2)',
    'try: s.sendto(q,(sys.argv[1],53)); print(s.recv(512)[3]&15)',
    'except socket.timeout: print("timeout")',
    'except PermissionError: print("dropped on the way out")',
  ].join('\n');
  const r = await sh(server, `python3 -c '${py}' ${at} ${name}`);
  return r.stdout.trim();
}

test('ping ecs-b by name; its full name, its AWS-style names and the load balancer resolve; vpc show says where', { skip: skipLinux }, async () => {
  assert.equal(await resolveSoon('ecs-a', 'ecs-b'), '10.82.2.10');
  const ping = await sh('ecs-a', 'ping -n -c 1 -W 2 ecs-b');
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  assert.match(ping.stdout, /PING ecs-b\.v\.default\.nimbus\.internal \(10\.82\.2\.10\)/);
  assert.equal(await resolve('ecs-a', 'ecs-b.v.default.nimbus.internal'), '10.82.2.10');
  assert.equal(await resolve('ecs-a', 'ip-10-82-2-10.ec2.internal'), '10.82.2.10');
  assert.equal(await resolve('ecs-a', 'ip-10-82-2-10'), '10.82.2.10');
  assert.equal(await resolve('ecs-a', 'front'), '10.82.2.50');
  assert.equal(await resolve('ecs-a', 'front.lb.v.default.nimbus.internal'), '10.82.2.50');
  const conf = await sh('ecs-a', 'cat /etc/resolv.conf');
  assert.match(conf.stdout, /^nameserver 10\.82\.1\.253$/m);
  assert.match(conf.stdout, /^search v\.default\.nimbus\.internal ec2\.internal$/m);
  const show = await nimbus('vpc', 'show', 'v');
  assert.match(show.stdout, /resolver at 169\.254\.169\.253, 10\.82\.1\.253 \(a\), 10\.82\.2\.253 \(b\)/);
  // Both addresses answer; a name Nimbus does not know is NXDOMAIN at once, asked of nobody else.
  assert.equal(await rcode('ecs-a', '169.254.169.253', 'ecs-b.v.default.nimbus.internal'), '0');
  assert.equal(await rcode('ecs-a', '10.82.2.253', 'ecs-b.v.default.nimbus.internal'), '0');
  assert.equal(await rcode('ecs-a', '169.254.169.253', 'example.com'), '3');
  assert.equal(await resolve('ecs-a', 'example.com'), null);
});

test('a group that lets no DNS out: trace names it, and the kernel agrees', { skip: skipLinux }, async () => {
  const tr = await nimbus('trace', 'ecs-c', '169.254.169.253', '--protocol', 'udp', '--port', '53');
  assert.equal(tr.code, 1);
  assert.match(tr.stdout, /DROP\s+sg egress\s+web-only\s+no egress rule allows udp:53 to 169\.254\.169\.253/);
  assert.equal(await rcode('ecs-c', '169.254.169.253', 'ecs-b'), 'dropped on the way out');
  assert.equal(await resolve('ecs-c', 'ecs-b'), null);
  const ok = await nimbus('trace', 'ecs-a', '169.254.169.253', '--protocol', 'udp', '--port', '53');
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /resolver answers at 169\.254\.169\.253/);
  // The resolver answers DNS only: a ping to it is dropped, and trace says so.
  const ping = await nimbus('trace', 'ecs-a', '169.254.169.253');
  assert.equal(ping.code, 1);
  assert.match(ping.stdout, /answers DNS only/);
  assert.notEqual((await sh('ecs-a', 'ping -n -c 1 -W 1 169.254.169.253')).code, 0);
});

test('DNS off in a VPC: nothing answers, trace says why; on again, names come back', { skip: skipLinux }, async () => {
  assert.equal((await nimbus('vpc', 'update', 'v', '--dns', 'off')).code, 0);
  assert.equal(await rcode('ecs-a', '169.254.169.253', 'ecs-b'), 'timeout');
  assert.match((await nimbus('trace', 'ecs-a', '169.254.169.253', '--protocol', 'udp', '--port', '53')).stdout, /DNS support is off in VPC v/);
  assert.equal((await nimbus('vpc', 'update', 'v', '--dns', 'on')).code, 0);
  assert.equal(await resolveSoon('ecs-a', 'ecs-b'), '10.82.2.10');
  assert.equal((await nimbus('vpc', 'update', 'v', '--dns-hostnames', 'off')).code, 0);
  await t.daemon.resolvers.settled();
  assert.equal(await resolveSoon('ecs-a', 'ip-10-82-2-10'), '10.82.2.10', 'AWS-style names stay');
  assert.equal(await resolve('ecs-a', 'ecs-b.v.default.nimbus.internal'), null, 'names by server name go');
  assert.equal((await nimbus('vpc', 'update', 'v', '--dns-hostnames', 'on')).code, 0);
  assert.equal(await resolveSoon('ecs-a', 'ecs-b'), '10.82.2.10');
});

test("a peered VPC's names resolve only once the peering lets them through", { skip: skipLinux }, async () => {
  const made = await nimbus('peering', 'create', '--name', 'vw', '--vpc', 'v', '--peer-vpc', 'w');
  assert.equal(made.code, 0, made.stderr);
  await t.daemon.resolvers.settled();
  assert.equal(await resolve('ecs-a', 'ecs-w.w.default.nimbus.internal'), null);
  assert.equal(await resolve('ecs-a', 'ecs-w'), null);
  const allow = await nimbus('peering', 'dns', 'vw', '--allow');
  assert.equal(allow.code, 0, allow.stderr);
  assert.match(allow.stdout, /both ways/);
  assert.equal(await resolveSoon('ecs-a', 'ecs-w.w.default.nimbus.internal'), '10.83.1.10');
  assert.equal(await resolveSoon('ecs-w', 'ecs-a.v.default.nimbus.internal'), '10.82.1.10');
  // The peer's domain joins the search list: its short names work too.
  assert.match((await sh('ecs-a', 'cat /etc/resolv.conf')).stdout, /^search v\.default\.nimbus\.internal w\.default\.nimbus\.internal ec2\.internal$/m);
  assert.equal(await resolve('ecs-a', 'ecs-w'), '10.83.1.10');
});
