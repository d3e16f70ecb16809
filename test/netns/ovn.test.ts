/**
 * The ovn data plane end to end, as root, on three simulated chassis on this machine (each a
 * namespace with Open vSwitch's userspace datapath and ovn-controller, joined by Geneve): the
 * reference lab with ecs-a and ecs-b on different chassis, real pings and HTTP across them,
 * security groups and non-transit held by OVN, a server moved between chassis, chassis added
 * and removed, a dead chassis process brought back, a restart that changes nothing, and
 * `dataplane clean` leaving nothing. Skipped with the reason where the packages cannot be
 * installed.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ApiError, type NimbusClient } from '../../src/client/client.js';
import { ovnDaemon, skipOvn } from '../helpers/ovn.js';
import type { LinuxTestDaemon } from '../helpers/linux.js';
import { OVN_RUN_DIR } from '../../src/dataplane/ovn/fabric.js';
import { cleanNamespaces } from '../../src/dataplane/linux/clean.js';
import { cli } from '../helpers/daemon.js';
import { freshGet, part2, randomPublicIp, waitActive, waitMembersOnline, waitUp } from '../helpers/lab.js';
import { OvsdbClient } from '../../src/dataplane/ovn/ovsdb.js';
import { resolverId } from '../../src/dataplane/ovn/resolver.js';
import { serverNs } from '../../src/dataplane/linux/names.js';

/** Pings until one answers (the first packet to a new tunnel peer is lost, OVN-NOTES pitfall 3), at most 20 tries. */
async function reaches(c: NimbusClient, server: string, destination: string): Promise<boolean> {
  for (let i = 0; i < 20; i++) if ((await c.ping({ server, destination, count: 1 })).reachable) return true;
  return false;
}

async function refused(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof ApiError && e.code === code);
}

describe('the ovn data plane on three chassis', { skip: skipOvn }, () => {
  let t: LinuxTestDaemon;
  let c: NimbusClient;
  let closed = false;
  before(async () => {
    t = await ovnDaemon(3);
    c = t.client;
    await c.vpcs.create({ name: 'vpc-a', cidr: '192.168.6.0/24' });
    await c.vpcs.create({ name: 'vpc-b', cidr: '192.168.5.0/24' });
    await c.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
    await c.subnets.create({ name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
    await c.servers.create({ name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76', app: 'web', chassis: 'ch1' });
    await c.servers.create({ name: 'ecs-b', subnet: 'sub-b', ip: '192.168.5.130', app: 'web', chassis: 'ch2' });
    await c.peerings.create({ name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
    await c.routeTables.addRoute('vpc-a-main', { destination: '192.168.5.0/24', target: 'pcx-ab' });
    await c.routeTables.addRoute('vpc-b-main', { destination: '192.168.6.0/25', target: 'pcx-ab' });
  });
  after(async () => {
    if (!closed) await t?.close();
  });

  test('the chassis report to the southbound database, each with its tunnel address and its servers', async () => {
    const list = await c.chassis.list();
    assert.deepEqual(
      list.map((ch) => [ch.name, ch.local]),
      [
        ['ch1', true],
        ['ch2', true],
        ['ch3', true],
      ],
    );
    for (const ch of list) assert.match(ch.encapIp ?? '', /^198\.18\.\d+\.\d+$/);
    assert.deepEqual(list.find((ch) => ch.name === 'ch1')?.servers, ['ecs-a']);
    assert.deepEqual(list.find((ch) => ch.name === 'ch2')?.servers, ['ecs-b']);
    assert.equal((await c.servers.get('ecs-b')).chassis, 'ch2');
    const shown = await cli(t.daemon.url, ['chassis', 'list']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^ch1\s+up\s+198\.18\.\d+\.\d+\s+ecs-a\s/m);
    const status = await c.status();
    assert.equal(status.dataplane.kind, 'ovn');
  });

  test('the reference lab across chassis: ecs-a pings ecs-b over the peering, and gets its web page', async () => {
    assert.equal(await reaches(c, 'ecs-a', '192.168.5.130'), true);
    // ecs-b's app may still be starting on a loaded machine (CI saw a refusal once, a reset once): asked again
    // until it answers, at most 30 times.
    const get = () => c.exec('ecs-a', ['curl', '-s', '-m', '5', 'http://192.168.5.130:8080/']);
    let r = await get();
    for (let i = 0; i < 30 && r.code !== 0; i++) {
      await new Promise((done) => setTimeout(done, 500));
      r = await get();
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ecs-b \(192\.168\.5\.130\)/);
    const mtu = await c.exec('ecs-a', ['cat', '/sys/class/net/eth0/mtu']);
    assert.equal(mtu.stdout.trim(), '1400', 'room for Geneve');
  });

  test('after convergence the plan is empty, and a second sync changes nothing', async () => {
    await c.dataplane.sync();
    assert.deepEqual((await c.dataplane.plan()).steps, []);
    assert.deepEqual((await c.dataplane.sync()).steps, []);
  });

  test('security groups hold across chassis: a group with no rule for it drops the ping; back in the default group, it passes', async () => {
    await c.securityGroups.create({ name: 'closed' });
    await c.servers.update('ecs-b', { securityGroups: ['closed'] });
    await c.dataplane.sync();
    const blocked = await c.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 2 });
    assert.equal(blocked.reachable, false, blocked.output);
    await c.servers.update('ecs-b', { securityGroups: ['default'] });
    assert.equal(await reaches(c, 'ecs-a', '192.168.5.130'), true);
  });

  test('peerings do not transit: a spoke reaches the hub, not the other spoke, even with routes through the hub', async () => {
    await c.vpcs.create({ name: 'vpc-c', cidr: '192.168.7.0/24' });
    await c.subnets.create({ name: 'sub-c', vpc: 'vpc-c', cidr: '192.168.7.0/24' });
    await c.servers.create({ name: 'ecs-c', subnet: 'sub-c', ip: '192.168.7.10', chassis: 'ch3' });
    await c.peerings.create({ name: 'pcx-ac', vpc: 'vpc-a', peerVpc: 'vpc-c' });
    await c.routeTables.addRoute('vpc-c-main', { destination: '192.168.6.0/25', target: 'pcx-ac' });
    await c.routeTables.addRoute('vpc-a-main', { destination: '192.168.7.0/24', target: 'pcx-ac' });
    // vpc-b sends vpc-c's traffic to the hub, and vpc-c answers through it: only transit is missing.
    await c.routeTables.addRoute('vpc-b-main', { destination: '192.168.7.0/24', target: 'pcx-ab' });
    await c.routeTables.addRoute('vpc-c-main', { destination: '192.168.5.0/24', target: 'pcx-ac' });
    assert.equal(await reaches(c, 'ecs-c', '192.168.6.76'), true, 'spoke c reaches the hub');
    const across = await c.ping({ server: 'ecs-b', destination: '192.168.7.10', count: 3 });
    assert.equal(across.reachable, false, across.output);
    const trace = await c.trace({ server: 'ecs-b', destination: '192.168.7.10', probe: true });
    assert.equal(trace.reachable, false);
    assert.equal(trace.probe?.agrees, true, trace.probe?.output);
  });

  test("a VPC's resolver answers at each subnet's .253 and, from every subnet, at 169.254.169.253; NXDOMAIN for the rest; peered names once both sides allow; gone when the VPC's DNS is off", async (t2) => {
    await c.subnets.create({ name: 'sub-a2', vpc: 'vpc-a', cidr: '192.168.6.128/25' });
    await c.servers.create({ name: 'ecs-n', subnet: 'sub-a2', chassis: 'ch3' });
    t2.after(async () => {
      await c.vpcs.update('vpc-a', { enableDnsSupport: true });
      await c.peerings.dns('pcx-ab', false);
      await c.servers.delete('ecs-n');
      await c.subnets.delete('sub-a2');
      await c.dataplane.sync();
    });
    await c.dataplane.sync();
    // Python's resolver says which: an address, NXDOMAIN (-2, "Name or service not known") or no answer (-3).
    const resolve = async (server: string, name: string) => {
      const r = await c.exec(server, [
        'python3',
        '-c',
        'import socket,sys\ntry: print(socket.gethostbyname(sys.argv[1]))\nexcept socket.gaierror as e: print(e.errno)',
        name,
      ]);
      return r.stdout.trim();
    };
    /** Asks until the answer is not "no answer" (the resolver starts again when its names change), at most 50 times. */
    const answer = async (server: string, name: string) => {
      let a = await resolve(server, name);
      for (let i = 0; i < 50 && a === '-3'; i++) a = await resolve(server, name);
      return a;
    };
    /** One A query sent to `at` by hand: the first address of the answer, NXDOMAIN, or none. */
    const askAt = async (server: string, at: string, name: string) => {
      const program = [
        'import socket,struct,sys',
        'q=struct.pack(">HHHHHH",7,256,1,0,0,0)+b"".join(bytes([len(p)])+p.encode() for p in sys.argv[2].split("."))+b"\\0"+struct.pack(">HH",1,1)',
        's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(2)',
        'try:',
        ' s.sendto(q,(sys.argv[1],53));r=s.recv(512)',
        'except OSError: print("none");sys.exit()',
        'print("NXDOMAIN" if r[3]&15==3 else socket.inet_ntoa(r[-4:]) if struct.unpack(">H",r[6:8])[0] else "empty")',
      ].join('\n');
      let out = '';
      for (let i = 0; i < 20 && (out === '' || out === 'none'); i++) out = (await c.exec(server, ['python3', '-c', program, at, name])).stdout.trim();
      return out;
    };
    const conf = await c.exec('ecs-n', ['cat', '/etc/resolv.conf']);
    assert.match(conf.stdout, /^nameserver 192\.168\.6\.253$/m, "a server asks its own subnet's .253, as on the linux plane");
    assert.equal(await answer('ecs-n', 'ecs-a'), '192.168.6.76');
    assert.equal(await answer('ecs-a', 'ip-192-168-6-76.ec2.internal'), '192.168.6.76');
    assert.equal(await answer('ecs-n', 'nosuch'), '-2', 'NXDOMAIN');
    // 169.254.169.253 from the subnet whose resolver does not hold it: through the router to the first subnet's.
    assert.equal(await askAt('ecs-n', '169.254.169.253', 'ecs-a.vpc-a.default.nimbus.internal'), '192.168.6.76');
    assert.equal(await askAt('ecs-a', '169.254.169.253', 'ecs-n.vpc-a.default.nimbus.internal'), '192.168.6.130');
    assert.equal(await askAt('ecs-a', '192.168.6.125', 'nosuch.vpc-a.default.nimbus.internal'), 'NXDOMAIN');
    assert.equal(await answer('ecs-a', 'ecs-b.vpc-b.default.nimbus.internal'), '-2', "a peer's names need both sides' consent");
    await c.peerings.dns('pcx-ab', true);
    await c.dataplane.sync();
    let peer = await answer('ecs-a', 'ecs-b.vpc-b.default.nimbus.internal');
    for (let i = 0; i < 50 && peer === '-2'; i++) peer = await answer('ecs-a', 'ecs-b.vpc-b.default.nimbus.internal');
    assert.equal(peer, '192.168.5.130');
    const resolverNs = await Promise.all(['sub-a', 'sub-a2'].map(async (n) => serverNs(t.prefix, resolverId(await c.subnets.get(n)))));
    const present = () => {
      const all = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
        .stdout.split('\n')
        .map((l) => l.split(' ')[0]);
      return resolverNs.filter((n) => all.includes(n)).length;
    };
    assert.equal(present(), 2, `each subnet of vpc-a has its resolver endpoint: ${resolverNs.join(', ')}`);
    await c.vpcs.update('vpc-a', { enableDnsSupport: false });
    await c.dataplane.sync();
    assert.equal(present(), 0, "vpc-a's resolver endpoints are gone with its DNS");
  });

  test('a server moves: stopped, given another chassis, started, with the same IP; a running one is not moved', async () => {
    await refused(c.servers.update('ecs-b', { chassis: 'ch3' }), 'IncorrectInstanceState');
    await c.servers.stop('ecs-b');
    await c.servers.update('ecs-b', { chassis: 'ch3' });
    await c.servers.start('ecs-b');
    assert.equal((await c.servers.get('ecs-b')).privateIp, '192.168.5.130');
    assert.deepEqual((await c.chassis.get('ch3')).servers.sort(), ['ecs-b', 'ecs-c']);
    assert.equal(await reaches(c, 'ecs-a', '192.168.5.130'), true);
    await refused(c.servers.update('ecs-a', { chassis: 'nowhere' }), 'IncorrectInstanceState');
    await refused(c.servers.create({ name: 'ecs-x', subnet: 'sub-a', chassis: 'nowhere' }), 'InvalidParameterValue');
  });

  test('chassis are added and removed; one that holds servers is not removed', async () => {
    const added = await c.chassis.add('ch4');
    assert.equal(added.name, 'ch4');
    await refused(c.chassis.add('ch4'), 'InvalidChassis.Duplicate');
    await refused(c.chassis.add('Bad_Name'), 'InvalidParameterValue');
    await c.servers.create({ name: 'ecs-d', subnet: 'sub-a', chassis: 'ch4' });
    await refused(c.chassis.remove('ch4'), 'DependencyViolation');
    assert.equal(await reaches(c, 'ecs-d', '192.168.6.76'), true, 'a server on the new chassis');
    await c.servers.delete('ecs-d');
    await c.chassis.remove('ch4');
    assert.deepEqual(
      (await c.chassis.list()).map((ch) => ch.name),
      ['ch1', 'ch2', 'ch3'],
    );
    assert.equal((await t.namespaces()).filter((n) => n.endsWith('-ch-ch4')).length, 0);
    await refused(c.chassis.remove('ch4'), 'InvalidChassis.NotFound');
  });

  test('a chassis whose ovn-controller died is started again by the next pass, and its servers answer', async () => {
    const pidFile = join(OVN_RUN_DIR, t.prefix, 'chassis', 'ch1', 'ovn-controller.pid');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    // This sync, or a pass just before it, starts it again: its pid file then names another, live process.
    await c.dataplane.sync();
    const alive = (p: number) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('ovn-controller');
      } catch {
        return false;
      }
    };
    const now = Number(readFileSync(pidFile, 'utf8'));
    assert.notEqual(now, pid);
    assert.ok(alive(now), `ovn-controller ${now} runs`);
    assert.equal(await reaches(c, 'ecs-b', '192.168.6.76'), true);
  });

  test('an HTTP load balancer on a chassis serves members on two others; a chassis that stops reporting has its members taken out of service', async () => {
    const base = await part2(c, randomPublicIp('linux'));
    await waitUp(`${base}/`);
    await waitMembersOnline(c);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await freshGet(`${base}/`)).split(' ')[2]);
    assert.deepEqual([...seen].sort(), ['ecs-a', 'ecs-b']);
    // ch3 holds ecs-b now: its ovn-controller stops (frozen, so that no pass starts it again) and reports nothing.
    const ecsB = (await c.servers.get('ecs-b')).chassis!;
    const pid = Number(readFileSync(join(OVN_RUN_DIR, t.prefix, 'chassis', ecsB, 'ovn-controller.pid'), 'utf8'));
    process.kill(pid, 'SIGSTOP');
    try {
      let ch = await c.chassis.get(ecsB);
      for (const deadline = Date.now() + 60_000; ch.state !== 'down' && Date.now() < deadline; ch = await c.chassis.get(ecsB))
        await new Promise((r) => setTimeout(r, 200));
      assert.equal(ch.state, 'down');
      let m = await c.members.get('m-b');
      // ERROR, as for a member whose workload is down (OFFLINE is an operator's: admin down, server stopped).
      for (const deadline = Date.now() + 30_000; m.operatingStatus !== 'ERROR' && Date.now() < deadline; m = await c.members.get('m-b'))
        await new Promise((r) => setTimeout(r, 100));
      assert.equal(m.operatingStatus, 'ERROR');
      assert.match(m.statusReason ?? '', new RegExp(`chassis ${ecsB} is down`));
      for (let i = 0; i < 4; i++) assert.match(await freshGet(`${base}/`), /ecs-a/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    let ch = await c.chassis.get(ecsB);
    for (const deadline = Date.now() + 60_000; ch.state !== 'up' && Date.now() < deadline; ch = await c.chassis.get(ecsB))
      await new Promise((r) => setTimeout(r, 200));
    assert.equal(ch.state, 'up');
    await waitMembersOnline(c);
  });

  test("a TCP listener is OVN's own load balancer: clients in the VPC and its peers are balanced on their chassis, even with the load balancer's worker stopped; clients in the load balancer's own subnet are served by its engine", async () => {
    await c.pools.create({ name: 'tcp', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'round_robin' });
    await c.members.create({ name: 't-a', pool: 'tcp', server: 'ecs-a', port: 8080 });
    await c.members.create({ name: 't-b', pool: 'tcp', server: 'ecs-b', port: 8080 });
    await c.listeners.create({ name: 'tcp9090', loadBalancer: 'elb', protocol: 'tcp', port: 9090, defaultPool: 'tcp' });
    await waitActive(c, 'elb');
    // A client in the peered VPC, on the third chassis, in a subnet of its own.
    await c.subnets.create({ name: 'sub-a2', vpc: 'vpc-a', cidr: '192.168.6.128/25' });
    await c.servers.create({ name: 'cl', subnet: 'sub-a2', chassis: 'ch3' });
    await c.routeTables.addRoute('vpc-b-main', { destination: '192.168.6.128/25', target: 'pcx-ab' });
    await c.dataplane.sync();
    const lb = await c.loadBalancers.get('elb');
    const nb = await OvsdbClient.connect(`unix:${join(OVN_RUN_DIR, t.prefix, 'central', 'nb.sock')}`);
    try {
      const rows = await nb.select('OVN_Northbound', 'Load_Balancer', ['vips']);
      const vips = rows.map((r) => r.vips as Record<string, string>);
      assert.deepEqual(vips, [{ [`${lb.vip}:9090`]: '192.168.5.130:8080,192.168.6.76:8080' }]);
    } finally {
      nb.close();
    }
    // The worker (the user-space engine) is frozen: what answers on the VIP is OVN.
    const worker = Number((JSON.parse(readFileSync(join(t.dataDir, 'run', lb.id), 'utf8')) as { pid: number }).pid);
    process.kill(worker, 'SIGSTOP');
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 12 && seen.size < 2; i++) {
        const r = await c.exec('cl', ['curl', '-s', '-m', '3', `http://${lb.vip}:9090/`]);
        const who = /Hello from (ecs-\w)/.exec(r.stdout)?.[1];
        if (who) seen.add(who);
      }
      assert.deepEqual([...seen].sort(), ['ecs-a', 'ecs-b']);
    } finally {
      process.kill(worker, 'SIGCONT');
    }
    // A client on a member's own switch (ecs-a's) is balanced by OVN too, the worker frozen again. It takes the
    // address of a server deleted a moment before, whose MAC ecs-a had cached: the new port's gratuitous ARP
    // updates ecs-a's entry (without it, ecs-a answered the old MAC until its entry expired).
    const tmp = await c.servers.create({ name: 'tmp', subnet: 'sub-a', chassis: 'ch2' });
    await c.dataplane.sync();
    assert.equal(await reaches(c, 'ecs-a', tmp.privateIp), true);
    await c.servers.delete('tmp');
    await c.dataplane.sync();
    await c.servers.create({ name: 'ca', subnet: 'sub-a', ip: tmp.privateIp, chassis: 'ch3' });
    // A client in the load balancer's own subnet sends to the VIP's own address: the listener's engine in the load balancer's namespace answers it.
    await c.servers.create({ name: 'cb', subnet: 'sub-b', chassis: 'ch1' });
    await c.dataplane.sync();
    const answered = async (client: string, n: number) => {
      const names = new Set<string>();
      for (let i = 0; i < n; i++) {
        const r = await c.exec(client, ['curl', '-s', '-m', '3', `http://${lb.vip}:9090/`]);
        names.add(/Hello from (ecs-\w)/.exec(r.stdout)?.[1] ?? `none (${r.stderr.trim()})`);
      }
      return [...names].sort();
    };
    process.kill(worker, 'SIGSTOP');
    try {
      assert.deepEqual(await answered('ca', 12), ['ecs-a', 'ecs-b']);
    } finally {
      process.kill(worker, 'SIGCONT');
    }
    assert.deepEqual(await answered('cb', 12), ['ecs-a', 'ecs-b']);
    // A member whose server stops leaves OVN's backends.
    await c.servers.stop('ecs-a');
    try {
      await c.dataplane.sync();
      const again = await OvsdbClient.connect(`unix:${join(OVN_RUN_DIR, t.prefix, 'central', 'nb.sock')}`);
      try {
        const [row] = await again.select('OVN_Northbound', 'Load_Balancer', ['vips']);
        assert.deepEqual(row.vips, { [`${lb.vip}:9090`]: '192.168.5.130:8080' });
      } finally {
        again.close();
      }
    } finally {
      await c.servers.start('ecs-a');
    }
  });

  test("a TCP listener's health monitor is OVN's own check: a member whose port does not answer is taken out by the chassis that checks it, and every connection is answered", async () => {
    const lb = await c.loadBalancers.get('elb');
    // A third member on a port of ecs-b where nothing listens: without a check, a third of the connections would be refused.
    await c.members.create({ name: 't-dead', pool: 'tcp', server: 'ecs-b', port: 8081 });
    await c.healthMonitors.create({ name: 'hm-tcp', pool: 'tcp', type: 'TCP', delay: 2, timeout: 1, maxRetries: 1, maxRetriesDown: 1 });
    try {
      await waitActive(c, 'elb');
      await c.dataplane.sync();
      const sb = await OvsdbClient.connect(`unix:${join(OVN_RUN_DIR, t.prefix, 'central', 'sb.sock')}`);
      try {
        // The chassis report each backend's state in the southbound Service_Monitor table.
        const states = async () =>
          Object.fromEntries((await sb.select('OVN_Southbound', 'Service_Monitor', ['ip', 'port', 'status'])).map((r) => [`${r.ip}:${r.port}`, r.status]));
        let seen: Record<string, unknown> = {};
        for (let i = 0; i < 100; i++) {
          seen = await states();
          if (seen['192.168.5.130:8081'] === 'offline' && seen['192.168.5.130:8080'] === 'online' && seen['192.168.6.76:8080'] === 'online') break;
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.deepEqual(seen, { '192.168.5.130:8081': 'offline', '192.168.5.130:8080': 'online', '192.168.6.76:8080': 'online' });
      } finally {
        sb.close();
      }
      // The control plane still lists it (OVN's check, not Nimbus's, takes it out), and no connection goes to it.
      const nb = await OvsdbClient.connect(`unix:${join(OVN_RUN_DIR, t.prefix, 'central', 'nb.sock')}`);
      try {
        const [row] = await nb.select('OVN_Northbound', 'Load_Balancer', ['vips']);
        assert.match(Object.values(row.vips as Record<string, string>)[0], /192\.168\.5\.130:8081/);
      } finally {
        nb.close();
      }
      const answers: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await c.exec('cl', ['curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', `http://${lb.vip}:9090/`]);
        answers.push(r.stdout);
      }
      assert.deepEqual(answers, Array(12).fill('200'));
    } finally {
      await c.healthMonitors.delete('hm-tcp');
      await c.members.delete('t-dead');
    }
  });

  test('what the ovn plane does not carry out yet is refused with UnsupportedOperation and not stored: flow logs', async () => {
    await refused(c.flowLogs.create({ name: 'fl-x', vpc: 'vpc-a' }), 'UnsupportedOperation');
    assert.deepEqual(await c.flowLogs.list(), []);
    // The CLI says why, with the code.
    const r = await cli(t.daemon.url, ['flowlog', 'create', '--name', 'fl-y', '--vpc', 'vpc-a']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /UnsupportedOperation.*flow logs are not carried out on the ovn data plane/);
  });

  test('a restarted daemon finds everything in place: the plan is empty and the servers answer', async () => {
    await t.restart();
    c = t.client;
    assert.deepEqual((await c.dataplane.plan()).steps, []);
    assert.equal(await reaches(c, 'ecs-a', '192.168.5.130'), true);
  });

  test('dataplane clean removes every namespace, process and file the ovn plane made', async () => {
    const dir = join(OVN_RUN_DIR, t.prefix);
    assert.ok(existsSync(dir));
    closed = true;
    await t.close(); // the daemon stops, then `dataplane clean`'s own function runs
    await cleanNamespaces(t.prefix);
    assert.deepEqual(await t.namespaces(), []);
    assert.equal(existsSync(dir), false);
    const left = spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', `processes still running from ${dir}`);
  });
});
