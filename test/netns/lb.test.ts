/**
 * The reference lab's part 2 on the linux data plane (privileged): the load balancer in its
 * own namespace holding the VIP, its worker supervised, the public IP's sockets handed over
 * from the host; member traffic starts inside the VPC, so a member behind a missing route
 * fails its health check. On both layer-7 engines: Nimbus's own and HAProxy (`--l7-engine haproxy`).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { checkPart2, part1, part2, randomPublicIp, waitMembersOnline, waitUp, LISTEN_PORT } from '../helpers/lab.js';
import { serverNs } from '../../src/dataplane/linux/names.js';
import { listNamespaces } from '../../src/dataplane/linux/observe.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { NO_HAPROXY, haproxyWorker, steadyLoad } from '../helpers/engines.js';

for (const engine of ['builtin', 'haproxy'] as const)
  describe(`the ${engine} engine`, { skip: skipLinux || (engine === 'haproxy' ? NO_HAPROXY : false) }, () => {
    let t: LinuxTestDaemon;
    let base: string;
    before(async () => {
      if (skipLinux) return;
      t = await linuxDaemon(undefined, { l7Engine: engine });
      await part1(t.client, 'web');
      base = await part2(t.client, randomPublicIp('linux'));
      await waitUp(`${base}/`);
      await waitMembersOnline(t.client);
    });
    after(async () => {
      await t?.close();
    });

    async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
      const until = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    test('reference lab part 2 with real packets: persistence, round robin, requests seen from the VIP', { skip: skipLinux }, async () => {
      const lb = await t.client.loadBalancers.get('elb');
      assert.ok((await listNamespaces()).includes(serverNs(t.prefix, lb.id)), 'the load balancer has its own namespace');
      await checkPart2(t.client, base, 'linux');
      const seen = (await t.client.serverLogs('ecs-a')).requests.filter((r) => r.path?.startsWith('/rr-linux'));
      assert.ok(seen.length > 0);
      assert.ok(
        seen.every((r) => r.client === lb.vip),
        'members see the VIP: the worker connects from inside the VPC',
      );
      assert.ok(
        seen.every((r) => r.forwardedFor === '127.0.0.1'),
        'and the client in X-Forwarded-For',
      );
      const probe = await t.client.trace({ server: 'ecs-a', destination: lb.vip, protocol: 'tcp', port: LISTEN_PORT, probe: true });
      assert.equal(probe.reachable, true);
      assert.equal(probe.probe?.agrees, true, 'servers reach the VIP inside the VPC');
    });

    test(
      'L7 in the reference lab: /api goes to ecs-a and the rest to ecs-b, each seen in its own request log; HTTPS through the public IP',
      { skip: skipLinux },
      async () => {
        const lb = await t.client.loadBalancers.get('elb');
        await t.client.pools.create({ name: 'api-a', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
        await t.client.members.create({ name: 'api-a-m', pool: 'api-a', server: 'ecs-a', port: 8080 });
        await t.client.pools.create({ name: 'site-b', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
        await t.client.members.create({ name: 'site-b-m', pool: 'site-b', server: 'ecs-b', port: 8080 });
        await t.client.l7Policies.create({
          listener: 'http80',
          name: 'api',
          action: 'redirect_to_pool',
          redirectPool: 'api-a',
          rules: [{ type: 'path', compareType: 'starts_with', value: '/api' }],
        });
        await t.client.listeners.update('http80', { defaultPool: 'site-b' });
        await t.client.certificates.create({ name: 'lab-cert', selfSigned: { dnsNames: ['lab.test'] } });
        await t.client.listeners.create({
          name: 'https',
          loadBalancer: 'elb',
          protocol: 'terminated_https',
          port: 8443,
          defaultPool: 'site-b',
          certificate: 'lab-cert',
        });
        await waitFor('the policy and the new default pool to serve', async () => {
          const [api, site] = [await (await fetch(`${base}/api/l7-ready`)).text(), await (await fetch(`${base}/l7-ready`)).text()];
          return api.includes('ecs-a') && site.includes('ecs-b');
        });
        for (let i = 0; i < 3; i++) {
          assert.match(await (await fetch(`${base}/api/orders-${i}`)).text(), /Hello from ecs-a/);
          assert.match(await (await fetch(`${base}/page-${i}`)).text(), /Hello from ecs-b/);
        }
        const logOf = async (server: string) => (await t.client.serverLogs(server)).requests.map((r) => r.path);
        const [a, b] = [await logOf('ecs-a'), await logOf('ecs-b')];
        for (let i = 0; i < 3; i++) {
          assert.ok(a.includes(`/api/orders-${i}`) && !b.includes(`/api/orders-${i}`), `/api/orders-${i} in ecs-a's log only`);
          assert.ok(b.includes(`/page-${i}`) && !a.includes(`/page-${i}`), `/page-${i} in ecs-b's log only`);
        }
        // HTTPS: the public IP's port 8443, the certificate checked by curl, X-Forwarded-Proto https at the member.
        const cert = (await t.client.certificates.get('lab-cert')).certificatePem;
        const ca = join(t.dataDir, 'lab-cert.pem');
        writeFileSync(ca, cert);
        const host = new URL(base).hostname;
        const curl = () =>
          spawnSync('curl', ['-sS', '--max-time', '5', '--cacert', ca, '--resolve', `lab.test:8443:${host}`, 'https://lab.test:8443/tls-linux'], {
            encoding: 'utf8',
          });
        await waitFor('the HTTPS listener', async () => curl().status === 0);
        assert.match(curl().stdout, /Hello from ecs-b/);
        const seen = (await t.client.serverLogs('ecs-b')).requests.filter((r) => r.path === '/tls-linux');
        assert.ok(seen.length > 0 && seen.every((r) => r.forwardedProto === 'https' && r.client === lb.vip));
        // Back to the lab as it was, for the tests after this one.
        await t.client.listeners.delete('https');
        await t.client.l7Policies.delete('api');
        await t.client.listeners.update('http80', { defaultPool: 'web' });
        await waitFor('the lab to serve from both again', async () => {
          const names = new Set<string>();
          for (let i = 0; i < 4; i++) names.add(/Hello from (ecs-[ab])/.exec(await (await fetch(`${base}/back-${i}`)).text())?.[1] ?? '');
          return names.has('ecs-a') && names.has('ecs-b');
        });
      },
    );

    test('a member behind a missing route fails its health check and gets no traffic; it returns with the route', { skip: skipLinux }, async () => {
      await t.client.routeTables.removeRoute('vpc-a-main', '192.168.5.0/24');
      await waitFor('m-a to fail its health check', async () => (await t.client.members.get('m-a')).operatingStatus === 'ERROR');
      for (let i = 0; i < 4; i++) assert.match(await (await fetch(`${base}/`)).text(), /ecs-b/);
      await t.client.routeTables.addRoute('vpc-a-main', { destination: '192.168.5.0/24', target: 'pcx-ab' });
      await waitFor('m-a to come back', async () => (await t.client.members.get('m-a')).operatingStatus === 'ONLINE');
    });

    test(
      "the public IP reaches the engine on the socket opened on the host and handed over, the client's own address kept; the engine's death under load refuses none",
      { skip: skipLinux },
      async () => {
        const lb = await t.client.loadBalancers.get('elb');
        const ip = new URL(base).hostname;
        // No kernel path for a layer-7 listener: the host's table does not send the public port to the namespace.
        const table = spawnSync('nft', ['list', 'table', 'ip', `nimbus_l4_${t.prefix}`], { encoding: 'utf8' }).stdout;
        assert.doesNotMatch(table, new RegExp(`${ip.replace(/\./g, '\\.')} \\. ${LISTEN_PORT} :`), 'a layer-7 public port is a socket, not a rule');
        // The socket is the host's, held by the socket holder and listened on by the engine itself (HAProxy as a
        // descriptor handed to it at start; Nimbus's worker as a copy taken from the holder).
        const owners = () =>
          spawnSync('ss', ['-Hltnp', `( sport = :${LISTEN_PORT} )`], { encoding: 'utf8' })
            .stdout.split('\n')
            .filter((l) => l.includes(`${ip}:${LISTEN_PORT}`))
            .join('\n');
        const listener = engine === 'haproxy' ? /"haproxy"/ : /"node"/;
        await waitFor("the engine and the holder to listen on the public IP's host socket", async () => listener.test(owners()) && /"python3"/.test(owners()));
        // A client on another loopback address: the member sees that address in X-Forwarded-For.
        const load = steadyLoad(`${base}/kept-${engine}`, { localAddress: '127.0.0.9' });
        let killedAt = 0;
        await load.enough(20);
        if (engine === 'haproxy') {
          killedAt = load.sent;
          process.kill(haproxyWorker(t.dataDir, lb.id), 'SIGKILL');
          await load.enough(60);
        }
        await load.stop();
        assert.deepEqual(
          load.failures.filter((f) => f.includes('ECONNREFUSED')),
          [],
          'no connection refused',
        );
        // Only a request at the moment the process died may be cut: the one in flight, and the
        // next, whose connection the worker may take before the signal lands (the requests go
        // one after another). No other, before or after.
        const cut = load.failedAt.map((n) => n - killedAt);
        assert.ok(
          engine === 'haproxy' ? cut.every((d) => d === 0 || d === 1) : cut.length === 0,
          `${load.failures.join('; ')} (requests ${cut.join(', ')} from the kill)`,
        );
        const seen = (await t.client.serverLogs('ecs-a')).requests.concat((await t.client.serverLogs('ecs-b')).requests);
        const kept = seen.filter((r) => r.path === `/kept-${engine}`);
        assert.ok(kept.length > 0 && kept.every((r) => r.forwardedFor === '127.0.0.9' && r.client === lb.vip), JSON.stringify(kept.slice(0, 2)));
      },
    );

    test(
      "inside the VPC, the engine's process dying refuses no connection to the VIP: the socket holder keeps the listening socket and the next process takes the backlog",
      { skip: skipLinux },
      async () => {
        const lb = await t.client.loadBalancers.get('elb');
        const ecsB = await t.client.servers.get('ecs-b');
        const lbNs = serverNs(t.prefix, lb.id);
        const owners = () => spawnSync('ip', ['netns', 'exec', lbNs, 'ss', '-Hltnp', `( sport = :${LISTEN_PORT} )`], { encoding: 'utf8' }).stdout;
        await waitFor('the holder to keep the VIP socket beside the engine', async () => /python3/.test(owners()));
        // HAProxy's worker (its master ends with it, and the holder starts the next), or Nimbus's worker (the supervisor starts the next).
        const engineProcess = () => (engine === 'haproxy' ? haproxyWorker(t.dataDir, lb.id) : findWorkerPid(lb.id));
        // Four clients in ecs-b, one request after another each, 1,500 in all: a line per request, "ok", "refused" or another error.
        const py = [
          'import socket, sys, threading',
          `host, port, left = '${lb.vip}', ${LISTEN_PORT}, [1500]`,
          'lock = threading.Lock()',
          'def one():',
          '    while True:',
          '        with lock:',
          '            if left[0] == 0: return',
          '            left[0] -= 1',
          '        try:',
          '            s = socket.create_connection((host, port), timeout=5)',
          "            s.sendall(b'GET /vpc HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')",
          '            r = s.recv(12); s.close()',
          "            line = 'ok' if r.startswith(b'HTTP/1.1 200') else 'answer ' + repr(r)",
          '        except ConnectionRefusedError: line = "refused"',
          '        except OSError as e: line = "error " + str(e)',
          '        with lock: sys.stdout.write(line + "\\n"); sys.stdout.flush()',
          'ts = [threading.Thread(target=one) for _ in range(4)]',
          '[t.start() for t in ts]; [t.join() for t in ts]',
        ].join('\n');
        const client = spawn('ip', ['netns', 'exec', serverNs(t.prefix, ecsB.id), 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        client.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const ended = new Promise((resolve) => client.once('exit', resolve));
        try {
          await waitFor('requests from inside the VPC to be served', async () => out.split('\n').filter((l) => l === 'ok').length >= 50);
          const worker = engineProcess();
          const killedAt = out.split('\n').length - 1;
          process.kill(worker, 'SIGKILL');
          await ended;
          const after = out.trim().split('\n').slice(killedAt);
          assert.deepEqual(
            after.filter((l) => l === 'refused'),
            [],
            'no connection refused',
          );
          // Those in flight at the kill (one per client) may be cut, as through the public IP; every other is answered.
          const failed = after.filter((l) => l !== 'ok');
          assert.ok(failed.length <= 4, `failed after the kill: ${failed.join(', ')}`);
          assert.ok(after.length > 100, `requests after the kill: ${after.length}`);
          assert.notEqual(engineProcess(), worker, 'a new process serves');
        } finally {
          client.kill('SIGKILL');
        }
      },
    );

    test('a worker that dies is restarted and serves again', { skip: skipLinux }, async () => {
      const lb = await t.client.loadBalancers.get('elb');
      // The engine's process: Nimbus's worker, or HAProxy's worker (a child of its master, in the agent's folder).
      const child = engine === 'haproxy' ? haproxyWorker(t.dataDir, lb.id) : findWorkerPid(lb.id);
      assert.ok(child > 0, 'the worker runs');
      process.kill(child, 'SIGKILL');
      await waitFor('the worker to serve again', async () => {
        try {
          return (await fetch(`${base}/`, { signal: AbortSignal.timeout(1000) })).status === 200;
        } catch {
          return false;
        }
      });
      assert.notEqual(engine === 'haproxy' ? haproxyWorker(t.dataDir, lb.id) : findWorkerPid(lb.id), child, 'a new worker process');
    });

    test('with two workers the load balancer serves from the VIP (a shared socket in its namespace) and the public IP', { skip: skipLinux }, async () => {
      const lb = await t.client.loadBalancers.update('elb', { workers: 2 });
      const before = findWorkerPid(lb.id);
      await waitFor('the primary and its workers', async () => {
        try {
          return findWorkerPid(lb.id) !== before && (await fetch(`${base}/`, { signal: AbortSignal.timeout(1000) })).status === 200;
        } catch {
          return false;
        }
      });
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) seen.add(/ecs-[ab]/.exec(await (await fetch(`${base}/two-${i}`, { headers: { connection: 'close' } })).text())?.[0] ?? '');
      assert.deepEqual([...seen].sort(), ['ecs-a', 'ecs-b'], 'both members answer through the public IP');
      const probe = await t.client.trace({ server: 'ecs-a', destination: lb.vip, protocol: 'tcp', port: LISTEN_PORT, probe: true });
      assert.equal(probe.probe?.agrees, true, 'servers reach the VIP, which the workers share');
      assert.equal(probe.reachable, true);
      await t.client.loadBalancers.update('elb', { workers: 1 });
    });

    /** The pid of the load balancer's worker, from the supervisor's pid files. */
    function findWorkerPid(lbId: string): number {
      // The pid file records the process's identity (pid and start time: see process-identity.ts).
      return (JSON.parse(readFileSync(join(t.dataDir, 'run', lbId), 'utf8')) as { pid: number }).pid;
    }
  });
