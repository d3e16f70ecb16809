/**
 * The cloud's edge with real packets (privileged), on the linux and ovn planes: AWS's "VPC with public and private
 * subnets" built with the CLI as the README writes it. A web server with an elastic IP in the
 * public subnet, an app server in the private one behind a NAT gateway; then:
 * - the machine reaches the elastic IP (curl), and the server sees the internet's router;
 * - the app server reaches the internet host, which reports the NAT gateway's elastic IP;
 * - the internet reaches the web server's elastic IP and not the app server, nor the NAT's;
 * - without the route, or the gateway, or the elastic IP, nothing goes out or in;
 * - the analyzer says the same as the probes, hop by hop;
 * - no server reaches the machine: none of its addresses, nor the daemon's port.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../helpers/daemon.js';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { ovnDaemon, skipOvn } from '../helpers/ovn.js';
import { run } from '../../src/dataplane/linux/run.js';
import type { ElasticIp } from '../../src/core/model/index.js';

for (const plane of ['linux', 'ovn'] as const)
  describe(`the edge on the ${plane} data plane`, { skip: plane === 'linux' ? skipLinux : skipOvn }, () => {
    let t: LinuxTestDaemon;
    before(async () => {
      t = plane === 'linux' ? await linuxDaemon() : await ovnDaemon(3);
    });
    after(async () => {
      await t?.close();
      if (t) {
        assert.deepEqual(await t.namespaces(), [], 'no namespace of ours is left');
        const tables = (await run('nft', ['list', 'tables'])).stdout;
        assert.doesNotMatch(tables, new RegExp(`nimbus_edge_${t.prefix}\\b`), "the machine's elastic IP table is gone");
      }
    });

    const nimbus = async (...args: string[]) => {
      const r = await cli(t.daemon.url, args);
      assert.equal(r.code, 0, `nimbus ${args.join(' ')}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };

    /** Runs a shell line in a server (or `internet:HOST`); its output and exit code. */
    const inside = async (where: string, line: string) => {
      const r = await t.client.exec(where, ['sh', '-c', line]);
      return { code: r.code, out: r.stdout + r.stderr };
    };

    /** An HTTP GET from the machine, or null when nothing answers within a second. */
    async function fromMachine(url: string): Promise<string | null> {
      try {
        const res = await fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.timeout(1_500) });
        return await res.text();
      } catch {
        return null;
      }
    }

    /** Waits (bounded) until `probe` gives something other than null. */
    async function eventually<T>(what: string, probe: () => Promise<T | null>, ms = 30_000): Promise<T> {
      const until = Date.now() + ms;
      for (;;) {
        const v = await probe();
        if (v !== null) return v;
        if (Date.now() > until) throw new Error(`${what}: not within ${ms / 1000} s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    let webIp = '';
    let natIp = '';

    test('the two-tier VPC, as the README builds it', async () => {
      await nimbus('vpc', 'create', '--name', 'shop', '--cidr', '10.70.0.0/16');
      await nimbus('subnet', 'create', '--name', 'public', '--vpc', 'shop', '--cidr', '10.70.1.0/24');
      await nimbus('subnet', 'create', '--name', 'private', '--vpc', 'shop', '--cidr', '10.70.2.0/24');
      await nimbus('igw', 'create', '--name', 'shop-igw', '--vpc', 'shop');
      await nimbus('route-table', 'create', '--name', 'public-rt', '--vpc', 'shop');
      await nimbus('route-table', 'associate', 'public-rt', '--subnet', 'public');
      await nimbus('route', 'add', '--route-table', 'public-rt', '--destination', '0.0.0.0/0', '--target', 'shop-igw');
      await nimbus('sg', 'create', '--name', 'web');
      await nimbus('sg', 'rule', 'add', '--group', 'web', '--direction', 'ingress', '--protocol', 'tcp', '--port', '8080', '--remote', '0.0.0.0/0');
      await nimbus('server', 'create', '--name', 'web', '--subnet', 'public', '--security-group', 'web', '--app', 'web:8080');
      await nimbus('server', 'create', '--name', 'app', '--subnet', 'private', '--app', 'web:8080');
      await nimbus('eip', 'allocate', '--name', 'web-ip');
      await nimbus('eip', 'associate', 'web-ip', '--server', 'web');
      await nimbus('eip', 'allocate', '--name', 'nat-ip');
      await nimbus('natgw', 'create', '--name', 'shop-nat', '--subnet', 'public', '--eip', 'nat-ip');
      await nimbus('route-table', 'create', '--name', 'private-rt', '--vpc', 'shop');
      await nimbus('route-table', 'associate', 'private-rt', '--subnet', 'private');
      await nimbus('route', 'add', '--route-table', 'private-rt', '--destination', '0.0.0.0/0', '--target', 'shop-nat', '--wait');
      const eips = JSON.parse(await nimbus('eip', 'list', '-o', 'json')) as ElasticIp[];
      webIp = eips.find((e) => e.name === 'web-ip')!.publicIp;
      natIp = eips.find((e) => e.name === 'nat-ip')!.publicIp;
      assert.match(webIp, /^127\.0\.1\.\d+$/);
      const table = await nimbus('eip', 'list');
      assert.match(table, /web-ip\s+eipalloc-\w+\s+127\.0\.1\.\d+\s+server web\s+10\.70\.1\.\d+/);
      assert.match(table, /nat-ip\s+eipalloc-\w+\s+127\.0\.1\.\d+\s+NAT gateway shop-nat\s+10\.70\.1\.\d+/);
      // Converged: nothing left to do, the edge's links included.
      assert.match(await nimbus('dataplane', 'plan'), /nothing to change/);
    });

    test('the machine reaches the elastic IP; the server sees the internet router as the client', async () => {
      const page = await eventually('the web app behind its elastic IP', () => fromMachine(`http://${webIp}:8080/`));
      assert.match(page, /Hello from web \(10\.70\.1\.\d+\)/);
      const logs = await nimbus('server', 'logs', 'web', '-o', 'json');
      const clients = (JSON.parse(logs) as { requests: { client: string }[] }).requests.map((r) => r.client);
      assert.ok(clients.includes('203.0.113.1'), `clients seen: ${clients.join(', ')}`);
    });

    test('out through the NAT gateway the internet sees its elastic IP; through the internet gateway the server’s own', async () => {
      const viaNat = await inside('app', 'curl -s -m 3 http://203.0.113.10/');
      assert.equal(viaNat.code, 0, viaNat.out);
      assert.match(viaNat.out, new RegExp(`your address: ${natIp.replace(/\./g, '\\.')}\\n`));
      const viaIgw = await inside('web', 'curl -s -m 3 http://203.0.113.10/');
      assert.match(viaIgw.out, new RegExp(`your address: ${webIp.replace(/\./g, '\\.')}\\n`));
      // UDP goes out through the NAT gateway too: the echo comes back.
      const udp = await inside('app', "timeout 3 bash -c 'exec 3<>/dev/udp/203.0.113.10/7; echo ping-udp >&3; head -c 9 <&3'");
      assert.match(udp.out, /ping-udp/);
    });

    test('the internet reaches the elastic IP, and not the app server, nor the NAT gateway’s address', async () => {
      const page = await inside('internet', `curl -s -m 3 http://${webIp}:8080/`);
      assert.match(page.out, /Hello from web/);
      const nat = await inside('internet', `curl -s -m 2 http://${natIp}:8080/ || echo FAILED`);
      assert.match(nat.out, /FAILED/);
      const priv = await inside('internet', 'curl -s -m 2 http://10.70.2.2:8080/ || echo FAILED');
      assert.match(priv.out, /FAILED/);
      const traced = await cli(t.daemon.url, ['trace', 'internet', `${natIp}:8080`, '--probe']);
      assert.equal(traced.code, 1, traced.stdout);
      assert.match(traced.stdout, /DROP\s+nat\s+shop-nat/);
      assert.match(traced.stdout, /probe: unreachable \(agrees with the analyzer\)/);
      const toWeb = await cli(t.daemon.url, ['trace', 'internet', `${webIp}:8080`, '--probe']);
      assert.equal(toWeb.code, 0, toWeb.stdout);
      assert.match(toWeb.stdout, /igw\s+shop-igw\s+destination 127\.0\.1\.\d+ -> 10\.70\.1\.\d+/);
      assert.match(toWeb.stdout, /probe: reachable \(agrees with the analyzer\)/);
    });

    test('trace explains the way out hop by hop, and the probe agrees', async () => {
      const r = await cli(t.daemon.url, ['trace', 'app', '203.0.113.10:80', '--probe']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /route\s+private-rt\s+0\.0\.0\.0\/0 -> shop-nat/);
      assert.match(r.stdout, /nat\s+shop-nat\s+source 10\.70\.2\.\d+ -> 10\.70\.1\.\d+/);
      assert.match(r.stdout, /igw\s+shop-igw\s+source 10\.70\.1\.\d+ -> 127\.0\.1\.\d+ \(elastic IP nat-ip\)/);
      assert.match(r.stdout, /probe: reachable \(agrees with the analyzer\)/);
    });

    test('without the route, nothing goes out or comes in; without an elastic IP, nothing goes out', async () => {
      await nimbus('route', 'delete', '--route-table', 'public-rt', '--destination', '0.0.0.0/0', '--wait');
      assert.equal(await fromMachine(`http://${webIp}:8080/`), null, 'the reply has no way back');
      const out = await cli(t.daemon.url, ['trace', 'web', '203.0.113.10:80', '--probe']);
      assert.equal(out.code, 1);
      assert.match(out.stdout, /probe: unreachable \(agrees with the analyzer\)/);
      const into = await cli(t.daemon.url, ['trace', 'internet', `${webIp}:8080`, '--probe']);
      assert.match(into.stdout, /DROP\s+route\s+public-rt/);
      assert.match(into.stdout, /probe: unreachable \(agrees with the analyzer\)/);
      await nimbus('route', 'add', '--route-table', 'public-rt', '--destination', '0.0.0.0/0', '--target', 'shop-igw', '--wait');
      await eventually('the elastic IP again', () => fromMachine(`http://${webIp}:8080/`));

      // A server of the public subnet with no elastic IP: the gateway drops what it sends.
      await nimbus('server', 'create', '--name', 'bare', '--subnet', 'public', '--wait');
      const bare = await cli(t.daemon.url, ['trace', 'bare', '203.0.113.10:80', '--probe']);
      assert.equal(bare.code, 1, bare.stdout);
      assert.match(bare.stdout, /DROP\s+igw\s+shop-igw\s+bare \(10\.70\.1\.\d+\) has no elastic IP/);
      assert.match(bare.stdout, /probe: unreachable \(agrees with the analyzer\)/);
    });

    test('no server reaches the machine: not its addresses, not the daemon’s port, not the internet’s uplink', async () => {
      const port = new URL(t.daemon.url).port;
      const addrs = JSON.parse((await run('ip', ['-4', '-j', 'addr', 'show'])).stdout) as { addr_info: { local: string }[] }[];
      const machine = addrs.flatMap((i) => i.addr_info.map((a) => a.local)).filter((a) => !a.startsWith('127.'));
      assert.ok(machine.length > 0, 'the machine has an address besides loopback');
      for (const server of ['web', 'app']) {
        for (const ip of [...machine, '203.0.113.1']) {
          const r = await inside(server, `timeout 2 bash -c 'exec 3<>/dev/tcp/${ip}/${port}' && echo CONNECTED || echo BLOCKED`);
          assert.match(r.out, /BLOCKED/, `${server} -> ${ip}:${port}: ${r.out}`);
        }
        // 127.0.0.1 is the server's own loopback: the daemon is not there.
        const lo = await inside(server, `timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' && echo CONNECTED || echo BLOCKED`);
        assert.match(lo.out, /BLOCKED/);
      }
      // Nor an address outside Nimbus's namespaces: the internet has no way further.
      const far = await inside('web', 'ping -c 1 -W 1 198.51.100.7 >/dev/null 2>&1 && echo REACHED || echo BLOCKED');
      assert.match(far.out, /BLOCKED/);
    });

    test(
      'ovn: the gateways move with their chassis: a chassis first by name takes them, and gives them back when removed',
      { skip: plane !== 'ovn' && 'the linux plane has no gateway chassis' },
      async () => {
        // The gateway chassis is the first of this machine's by name: ch0 comes before ch1.
        await nimbus('chassis', 'add', 'ch0');
        await nimbus('dataplane', 'sync');
        const bound = async () =>
          (
            await run('sh', ['-c', `ovn-nbctl --db=unix:/run/nimbus/ovn/${t.prefix}/central/nb.sock --bare --columns=chassis_name list Gateway_Chassis`])
          ).stdout.trim();
        assert.equal(await bound(), 'ch0');
        await eventually('the elastic IP through ch0', () => fromMachine(`http://${webIp}:8080/`));
        const out = await eventually('the NAT gateway through ch0', async () => {
          const r = await inside('app', 'curl -s -m 2 http://203.0.113.10/');
          return r.code === 0 ? r.out : null;
        });
        assert.match(out, new RegExp(`your address: ${natIp.replace(/\./g, '\\.')}\\n`));
        await nimbus('chassis', 'remove', 'ch0');
        await nimbus('dataplane', 'sync');
        assert.equal(await bound(), 'ch1');
        await eventually('the elastic IP through ch1 again', () => fromMachine(`http://${webIp}:8080/`));
        assert.match(await nimbus('dataplane', 'plan'), /nothing to change/);
      },
    );

    test('an internet host added by the admin answers; the gateway cannot be detached while addresses are mapped', async () => {
      await nimbus('internet', 'host', 'add', 'mirror', '--ip', '203.0.113.20', '--wait');
      const page = await eventually('the new internet host', async () => {
        const r = await inside('app', 'curl -s -m 2 http://203.0.113.20/');
        return /Hello from internet host mirror/.test(r.out) ? r.out : null;
      });
      assert.match(page, /your address: 127\.0\.1\.\d+/);
      const detach = await cli(t.daemon.url, ['igw', 'detach', 'shop-igw']);
      assert.equal(detach.code, 1);
      assert.match(detach.stderr, /DependencyViolation/);
    });

    test(`the example file comes up with one command on the ${plane} plane: its elastic IP serves, its app goes out by the NAT gateway`, async () => {
      const file = new URL('../../examples/public-private.yaml', import.meta.url).pathname;
      const r = await cli(t.daemon.url, ['apply', '-f', file, '--wait']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const ip = /elastic IP edge-web-ip: (127\.0\.1\.\d+) -> 10\.60\.1\.\d+/.exec(r.stdout)?.[1];
      assert.ok(ip, r.stdout);
      const natIp = /elastic IP edge-nat-ip: (127\.0\.1\.\d+)/.exec(r.stdout)?.[1];
      assert.ok(natIp, r.stdout);
      const page = await eventually('the example web server', () => fromMachine(`http://${ip}:8080/`));
      assert.match(page, /Hello from edge-web-1/);
      const out = await eventually('the example app going out', async () => {
        const x = await inside('edge-app-1', 'curl -s -m 2 http://203.0.113.10/');
        return x.code === 0 ? x.out : null;
      });
      assert.match(out, new RegExp(`your address: ${natIp!.replace(/\./g, '\\.')}\\n`));
      const gone = await cli(t.daemon.url, ['destroy', '-f', file, '--wait']);
      assert.equal(gone.code, 0, gone.stderr);
      assert.equal(await fromMachine(`http://${ip}:8080/`), null);
    });

    test('a public load balancer is reached from the internet through its VPC’s gateway, its security group admitting the client', async () => {
      const c = t.client;
      const lb = await c.loadBalancers.create({ name: 'shop-lb', subnet: 'public', publicIp: true });
      await c.pools.create({ name: 'shop-web', loadBalancer: 'shop-lb', protocol: 'http', algorithm: 'round_robin' });
      await c.members.create({ pool: 'shop-web', server: 'web', port: 8080 });
      await c.listeners.create({ name: 'shop-http', loadBalancer: 'shop-lb', protocol: 'http', port: 8081, defaultPool: 'shop-web' });
      // The load balancer sits in the project's default group: it admits nothing from outside yet.
      const closed = await cli(t.daemon.url, ['trace', 'internet', `${lb.publicIp}:8081`, '--probe']);
      assert.equal(closed.code, 1, closed.stdout);
      assert.match(closed.stdout, /DROP\s+sg ingress\s+default/);
      assert.match(closed.stdout, /probe: unreachable \(agrees with the analyzer\)/);
      await nimbus(
        'sg',
        'rule',
        'add',
        '--group',
        'default',
        '--direction',
        'ingress',
        '--protocol',
        'tcp',
        '--port',
        '8081',
        '--remote',
        '0.0.0.0/0',
        '--wait',
      );
      const page = await eventually('the load balancer from the internet', async () => {
        const r = await inside('internet', `curl -s -m 2 http://${lb.publicIp}:8081/`);
        return /Hello from web/.test(r.out) ? r.out : null;
      });
      assert.match(page, /Hello from web/);
      const open = await cli(t.daemon.url, ['trace', 'internet', `${lb.publicIp}:8081`, '--probe']);
      assert.match(open.stdout, /public IP of load balancer shop-lb/);
      assert.match(open.stdout, /probe: reachable \(agrees with the analyzer\)/);
      // From the machine it is reached as before (its engine's own way), the group not consulted.
      assert.match((await eventually('the load balancer from the machine', () => fromMachine(`http://${lb.publicIp}:8081/`))) ?? '', /Hello from web/);
    });
  });
