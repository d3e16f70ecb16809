/**
 * The reference lab's part 2 on the virtual data plane, against a real daemon: web apps on
 * loopback addresses, a load balancer worker behind a public IP, persistence, round robin,
 * source IP, a member stopped under load, admission by the analyzer, metrics. One contract
 * for both layer-7 engines: Nimbus's own, and HAProxy (`--l7-engine haproxy`).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { cli, type TestDaemon } from '../helpers/daemon.js';
import { checkPart2, freshGet, waitActive } from '../helpers/lab.js';
import { L7_ENGINES, haproxyMaster, haproxyWorker, labOn, steadyLoad } from '../helpers/engines.js';

for (const { engine, skip } of L7_ENGINES)
  describe(`the ${engine} engine`, { skip }, () => {
    let t: TestDaemon;
    let base: string;
    before(async () => {
      ({ t, base } = await labOn(engine));
    });
    after(async () => {
      await t?.close();
    });

    test('reference lab part 2: the page is served; a session stays on one server; round robin without the cookie', async () => {
      await checkPart2(t.client, base, 'virtual');
      const show = await cli(t.daemon.url, ['lb', 'show', 'elb']);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /m-a\s+192\.168\.6\.76:8080\s+1\s+up\s+ONLINE/);
      assert.match(show.stdout, /m-b\s+192\.168\.5\.130:8080\s+1\s+up\s+ONLINE/);
      const logs = await cli(t.daemon.url, ['server', 'logs', 'ecs-a']);
      assert.match(logs.stdout, /GET\s+\/session-virtual|GET\s+\/rr-virtual/);
    });

    test('through the public IP (a socket the daemon hands to the worker), a client that half-closes still gets its answer', async () => {
      const { hostname, port } = new URL(base);
      const answer = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: hostname, port: Number(port || 80), allowHalfOpen: true }, () => s.end(`GET /half HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`));
        let out = '';
        s.on('data', (d) => (out += d));
        s.on('end', () => resolve(out));
        s.on('error', reject);
        setTimeout(() => s.destroy(new Error(`no end after 5 s; got ${JSON.stringify(out)}`)), 5000);
      });
      assert.match(answer, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n[\s\S]*ecs-/);
    });

    test('lb logs prints the access log: the last requests, which member answered each', async () => {
      for (let i = 0; i < 4; i++) await (await fetch(`${base}/logged-${i}?q=1`)).text();
      let json: { method: string; path: string; status: number; memberName: string; listener: string }[] = [];
      for (let i = 0; i < 100; i++) {
        const r = await cli(t.daemon.url, ['lb', 'logs', 'elb', '--tail', '3', '-o', 'json']);
        assert.equal(r.code, 0, r.stderr);
        json = JSON.parse(r.stdout);
        if (json.at(-1)?.path === '/logged-3') break;
        await new Promise((res) => setTimeout(res, 20));
      }
      assert.deepEqual(
        json.map((l) => [l.method, l.path, l.status]),
        [
          ['GET', '/logged-1', 200],
          ['GET', '/logged-2', 200],
          ['GET', '/logged-3', 200],
        ],
      );
      for (const l of json) assert.ok(['m-a', 'm-b'].includes(l.memberName), l.memberName);
      const text = await cli(t.daemon.url, ['lb', 'logs', 'elb', '--tail', '2']);
      assert.match(text.stdout, /^TIME\s+CLIENT\s+REQUEST\s+STATUS\s+MEMBER/);
      assert.match(text.stdout, /GET \/logged-3\s+200\s+m-[ab]/);
      assert.equal(text.stdout.trim().split('\n').length, 3, 'a header and two lines');
      const bad = await fetch(`${t.daemon.url}/v1/load-balancers/elb/logs?tail=0`, { headers: t.auth });
      assert.equal(bad.status, 400);
      assert.deepEqual(await bad.json(), { code: 'InvalidParameterValue', message: "tail '0' must be a whole number from 1 to 10000" });
      const missing = await cli(t.daemon.url, ['lb', 'logs', 'nope']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /NotFound|InvalidLoadBalancer/);
    });

    test('provisioning status: a change goes PENDING_UPDATE until the worker applies it, then ACTIVE', async () => {
      const seen: string[] = [];
      await t.client.listeners.create({ name: 'extra', loadBalancer: 'elb', protocol: 'http', port: 8181, defaultPool: 'web' });
      for (let i = 0; i < 200; i++) {
        const s = (await t.client.loadBalancers.get('elb')).provisioningStatus;
        if (seen.at(-1) !== s) seen.push(s);
        if (s === 'ACTIVE') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(seen.at(-1), 'ACTIVE', seen.join(' -> '));
      assert.ok(
        seen.every((s) => s === 'PENDING_UPDATE' || s === 'ACTIVE'),
        seen.join(' -> '),
      );
      // ACTIVE means the worker runs it: the new listener answers at once.
      const r = await fetch(`http://${new URL(base).hostname}:8181/`);
      assert.equal(r.status, 200);
      await r.text();
      assert.equal((await t.client.loadBalancers.status('elb')).provisioningStatus, 'ACTIVE');
      await t.client.listeners.delete('extra');
    });

    test('source-IP balancing pins this client to one server', async () => {
      await t.client.pools.update('web', { algorithm: 'source_ip', persistence: null });
      await waitActive(t.client, 'elb');
      const seen = new Set<string>();
      // New connections: a kept-alive one may still be served by the process from before the change (HAProxy's hitless reload).
      for (let i = 0; i < 6; i++) seen.add((await freshGet(`${base}/`)).split(' ')[2]);
      assert.equal(seen.size, 1, [...seen].join());
      await t.client.pools.update('web', { algorithm: 'round_robin', persistence: 'http_cookie' });
    });

    test('a member whose server stops under load takes no more requests, and no request fails', async () => {
      const results: string[] = [];
      let stopped = false;
      // Once the stop has landed (however long that takes on a loaded machine), only ecs-a answers: 100 in a row,
      // within at most 3,000 requests; and no request fails on the way.
      let streak = 0;
      const load = (async () => {
        for (let i = 0; i < 3_000 && streak < 100; i++) {
          const r = await fetch(`${base}/load`);
          const body = await r.text();
          const who = r.status === 200 ? body.split(' ')[2] : `ERROR ${r.status}`;
          results.push(who);
          if (stopped) streak = who === 'ecs-a' ? streak + 1 : 0;
          if (i === 100) {
            stopped = true;
            await t.client.servers.stop('ecs-b');
          }
        }
      })();
      try {
        await load;
        assert.ok(stopped);
        assert.deepEqual(
          results.filter((r) => r.startsWith('ERROR')),
          [],
          'no request failed',
        );
        assert.equal(streak, 100, `after the stop only ecs-a answers (the last answers: ${results.slice(-5).join(', ')})`);
        const m = await t.client.members.get('m-b');
        assert.equal(m.operatingStatus, 'OFFLINE');
      } finally {
        // Whatever this test finds, ecs-b starts again: the tests after it begin from the lab as it was.
        if (stopped) await t.client.servers.start('ecs-b');
      }
    });

    test('a member the analyzer says the load balancer cannot reach is not admitted', async () => {
      await t.client.securityGroups.create({ name: 'closed' });
      await t.client.servers.update('ecs-b', { securityGroups: ['closed'] });
      try {
        // Once a pass has taken the change in (on a loaded machine that may take a while).
        let m = await t.client.members.get('m-b');
        for (const deadline = Date.now() + 60_000; m.operatingStatus !== 'ERROR' && Date.now() < deadline; m = await t.client.members.get('m-b'))
          await new Promise((r) => setTimeout(r, 100));
        assert.equal(m.operatingStatus, 'ERROR');
        assert.match(m.statusReason ?? '', /unreachable from the load balancer: security-group-ingress closed/);
        for (let i = 0; i < 4; i++) assert.match(await (await fetch(`${base}/`)).text(), /ecs-a/);
      } finally {
        await t.client.servers.update('ecs-b', { securityGroups: ['default'] });
      }
    });

    test('under load, a change of configuration fails no request; the death of HAProxy refuses none', async () => {
      // New connections through the public IP, one after another, until stopped (at most 60 s).
      const load = steadyLoad(`${base}/steady`);
      await load.enough(30);
      // A change that is not a member's weight or state: HAProxy reloads (its hitless reload).
      await t.client.listeners.update('http80', { timeoutClientData: 40_000 });
      await waitActive(t.client, 'elb');
      await load.enough(30);
      const changed = load.failures.splice(0);
      // HAProxy's worker dies (its master then ends too, and the agent starts HAProxy again): the public IP's
      // connections wait for it. (The built-in engine's one worker: see lb-workers.test.ts, where the daemon
      // listens again once it hears of the death, and two workers, where the primary holds the sockets.)
      if (engine === 'haproxy') {
        process.kill(haproxyWorker(t.dataDir, (await t.client.loadBalancers.get('elb')).id), 'SIGKILL');
        await load.enough(60);
      }
      await load.stop();
      const { failures, sent } = load;
      assert.deepEqual(changed, [], `across the change, of ${sent} requests`);
      assert.deepEqual(
        failures.filter((f) => f.includes('ECONNREFUSED')),
        [],
        'no connection refused across the death',
      );
      // The request in flight when the process died may be cut; no other.
      assert.ok(failures.length <= 1, failures.join('; '));
      assert.ok(sent >= 60, `${sent} requests`);
      if (engine === 'haproxy') {
        // The access log goes on after the death: the next HAProxy appends, it does not write over the log from its start.
        const records = (await t.client.loadBalancers.logs('elb', 2000)).requests.filter((r) => /^\d{4}-/.test(r.time));
        const steady = records.filter((r) => r.path === '/steady');
        assert.ok(steady.length >= Math.min(sent, 2000) - 2, `${steady.length} of ${sent} requests in the log`);
        const backwards = records.findIndex((r, i) => i > 0 && r.time < records[i - 1].time);
        assert.equal(backwards, -1, `the log in order of time, yet ${records[backwards]?.time} follows ${records[backwards - 1]?.time}`);
      }
      await t.client.listeners.update('http80', { timeoutClientData: 50_000 });
    });

    test('metrics count requests per listener and member', async () => {
      await new Promise((r) => setTimeout(r, 1200));
      const text = await t.client.metrics();
      const total = [...text.matchAll(/^nimbus_lb_listener_requests_total\{[^}]*code="2xx"\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
      assert.ok(total >= 300, `2xx total ${total}`);
      assert.match(text, /^nimbus_lb_member_up\{lb="lb-[0-9a-f]+",member="mbr-[0-9a-f]+"\} 1$/m);
    });

    test('an admin-down member is not up in the metrics; a TCP connection is logged by how it ended, not with an HTTP status', async () => {
      const m = await t.client.members.get('m-b');
      await t.client.members.update('m-b', { adminStateUp: false });
      for (let i = 0; i < 40; i++) {
        if (new RegExp(`^nimbus_lb_member_up\\{lb="[^"]+",member="${m.id}"\\} 0$`, 'm').test(await t.client.metrics())) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(await t.client.metrics(), new RegExp(`^nimbus_lb_member_up\\{lb="[^"]+",member="${m.id}"\\} 0$`, 'm'));
      await t.client.members.update('m-b', { adminStateUp: true });
      await t.client.pools.create({ name: 'tcp', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'round_robin' });
      await t.client.members.create({ name: 't-a', pool: 'tcp', server: 'ecs-a', port: 8080 });
      await t.client.listeners.create({ name: 'tcp1', loadBalancer: 'elb', protocol: 'tcp', port: 18095, defaultPool: 'tcp' });
      const host = new URL(base).hostname;
      for (let i = 0; i < 50; i++) {
        const ok = await new Promise<boolean>((resolve) => {
          const s = connect(18095, host, () => s.end('GET / HTTP/1.0\r\n\r\n'));
          let got = '';
          s.on('data', (d) => (got += d));
          s.on('close', () => resolve(got.includes('Hello')));
          s.on('error', () => resolve(false));
        });
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const tcp1 = (await t.client.listeners.get('tcp1')).id;
      let line: { status: number | null; result?: string } | undefined;
      for (let i = 0; i < 30 && !line; i++) {
        line = (await t.client.loadBalancers.logs('elb', 50)).requests.find((r) => r.listener === tcp1 && r.result === 'closed');
        if (!line) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(line, 'a TCP line was logged');
      assert.equal(line.status, null);
    });

    test(
      "HAProxy's agent killed: the next agent adopts the same HAProxy, which serves throughout and takes the next change",
      { skip: engine !== 'haproxy' ? 'the HAProxy engine only' : false },
      async () => {
        const lbId = (await t.client.loadBalancers.get('elb')).id;
        const master = haproxyMaster(t.dataDir, lbId);
        const agent = t.daemon.loadBalancers['supervisor'].pid(lbId) as number;
        // The requests this load balancer answered so far, as /metrics says (read every second from HAProxy).
        const answered = async () =>
          [...(await t.client.metrics()).matchAll(new RegExp(`^nimbus_lb_listener_requests_total\\{[^}]*lb="${lbId}"[^}]*\\} (\\d+)$`, 'gm'))].reduce(
            (a, m) => a + Number(m[1]),
            0,
          );
        let before = await answered();
        for (let i = 0; i < 50; i++) {
          await new Promise((r) => setTimeout(r, 1200));
          const now = await answered();
          if (now === before && now > 0) break;
          before = now;
        }
        assert.ok(before > 0, 'requests counted before the agent dies');
        process.kill(agent, 'SIGKILL');
        for (let i = 0; i < 200 && [0, agent].includes((t.daemon.loadBalancers['supervisor'].pid(lbId) as number) ?? 0); i++)
          await new Promise((r) => setTimeout(r, 50));
        assert.notEqual(t.daemon.loadBalancers['supervisor'].pid(lbId), agent, 'a new agent');
        assert.equal(haproxyMaster(t.dataDir, lbId), master, 'the same HAProxy');
        assert.match(await freshGet(`${base}/after-agent`), /Hello from ecs-/);
        // A change reaches the adopted HAProxy (a reload, not a new master).
        await t.client.listeners.update('http80', { timeoutClientData: 45_000 });
        await waitActive(t.client, 'elb');
        assert.equal(haproxyMaster(t.dataDir, lbId), master);
        assert.match(await freshGet(`${base}/after-change`), /Hello from ecs-/);
        // What the adopted HAProxy had counted stays in the totals across the next agent's reloads: a counter never goes
        // back. (A request the old worker serves after the reading, while it drains, is not counted: HAProxy's own limit.)
        let after = await answered();
        for (let i = 0; i < 50 && after < before; i++) {
          await new Promise((r) => setTimeout(r, 200));
          after = await answered();
        }
        assert.ok(after >= before, `requests counted: ${before} before the agent died, ${after} after it and two more`);
        await t.client.listeners.update('http80', { timeoutClientData: 50_000 });
      },
    );
  });
