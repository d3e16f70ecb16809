/**
 * The data plane outlives its control plane: a daemon killed with SIGKILL under load leaves
 * the load balancer serving and the servers' workloads running; the next daemon adopts them
 * (the same processes, not new ones), reports them ACTIVE / ONLINE, and changes them again.
 * A daemon that stops cleanly ends them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { cli, spawnServe, cleanInstallation } from '../helpers/daemon.js';
import { holderPidFile } from '../../src/lb/holder.js';
import { workerDir } from '../../src/workloads/lb-dirs.js';
import { haproxyPath } from '../../src/workloads/haproxy.js';
import { part1, part2, randomPublicIp, waitMembersOnline, waitUp, LISTEN_PORT } from '../helpers/lab.js';
import { NimbusClient } from '../../src/client/client.js';
import { identityOf } from '../../src/workloads/process-identity.js';
import { NO_HAPROXY, haproxyMaster } from '../helpers/engines.js';

function pidIn(dir: string, key: string): number {
  return (JSON.parse(readFileSync(join(dir, 'run', key), 'utf8')) as { pid: number }).pid;
}

/** Requests, one connection each, until stopped (at most 5,000 or 60 s): how many were sent and how many failed, with the first failure. */
function load(url: string): { stop: () => Promise<{ sent: number; failed: number; first: string }> } {
  let running = true;
  const until = Date.now() + 60_000;
  const r = { sent: 0, failed: 0, first: '' };
  const done = (async () => {
    while (running && r.sent < 5000 && Date.now() < until) {
      r.sent++;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000), headers: { connection: 'close' } });
        await res.text();
        if (res.status !== 200) throw new Error(`status ${res.status}`);
      } catch (err) {
        r.failed++;
        r.first ||= String((err as Error).cause ?? err);
      }
      await new Promise((res) => setTimeout(res, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return r;
    },
  };
}

for (const engine of ['builtin', 'haproxy'] as const)
  test(
    `SIGKILL of the daemon under load: no request fails, and the next daemon adopts the same worker and workloads (${engine} engine)`,
    { skip: engine === 'haproxy' ? NO_HAPROXY : false },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nimbus-adopt-'));
      const serve = () => spawnServe(['--data', dir, '--dataplane', 'virtual', '--l7-engine', engine]);
      let child: ChildProcess | null = null;
      const pids: number[] = [];
      try {
        let url: string;
        ({ child, url } = await serve());
        let c = new NimbusClient({ url });
        await part1(c, 'web');
        const publicIp = randomPublicIp('virtual');
        const base = await part2(c, publicIp);
        await waitUp(`${base}/`);
        await waitMembersOnline(c);
        const lb = await c.loadBalancers.get('elb');
        const servers = await c.servers.list();
        const worker = pidIn(dir, lb.id);
        const workloads = servers.map((s) => pidIn(dir, s.id));
        pids.push(worker, ...workloads);
        // HAProxy's master, the agent's child (the engine that serves).
        const engineOf = () => (engine === 'haproxy' ? haproxyMaster(dir, lb.id) : 0);
        const master = engineOf();

        const traffic = load(`${base}/during`);
        await new Promise((r) => setTimeout(r, 300));
        child.kill('SIGKILL');
        await new Promise((r) => child!.once('exit', r));
        await new Promise((r) => setTimeout(r, 500)); // no daemon at all for a while
        ({ child, url } = await serve());
        c = new NimbusClient({ url });
        let shown = await c.loadBalancers.get('elb');
        for (let i = 0; i < 100 && shown.provisioningStatus !== 'ACTIVE'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          shown = await c.loadBalancers.get('elb');
        }
        await new Promise((r) => setTimeout(r, 300));
        const result = await traffic.stop();
        assert.ok(result.sent > 20, `requests were sent across the kill and the restart (${result.sent})`);
        assert.equal(result.failed, 0, `no request failed (first: ${result.first})`);

        assert.equal(shown.provisioningStatus, 'ACTIVE');
        assert.equal(pidIn(dir, lb.id), worker, 'the same worker, adopted');
        assert.equal(engineOf(), master, 'the same HAProxy');
        assert.notEqual(identityOf(worker), null);
        assert.deepEqual(
          servers.map((s) => pidIn(dir, s.id)),
          workloads,
          'the same workloads: the servers did not reboot',
        );
        await waitMembersOnline(c);

        // The adopted worker takes changes over its control socket: member m-a drained, only ecs-b answers.
        await c.members.update('m-a', { adminStateUp: false });
        let seen = new Set<string>();
        for (let i = 0; i < 50; i++) {
          seen = new Set();
          for (let j = 0; j < 6; j++) seen.add(/ecs-[ab]/.exec(await (await fetch(`${base}/after`, { headers: { connection: 'close' } })).text())?.[0] ?? '');
          if (seen.size === 1 && seen.has('ecs-b')) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual([...seen], ['ecs-b'], 'the configuration reached the adopted worker');
        assert.equal(pidIn(dir, lb.id), worker, 'without restarting it');
        assert.equal(engineOf(), master, 'HAProxy reloaded, not restarted');

        // A new public listener needs a socket handed over. The daemon hands it into the socket holder (nothing but
        // words passes over the control socket): Nimbus's worker takes a copy from there, HAProxy's agent has the
        // holder start HAProxy with it. Either way the same worker serves both.
        await c.listeners.create({ name: 'http2', loadBalancer: 'elb', protocol: 'http', port: LISTEN_PORT + 1, defaultPool: 'web' });
        await waitUp(`http://${publicIp}:${LISTEN_PORT + 1}/`);
        await waitUp(`${base}/`);
        const next = pidIn(dir, lb.id);
        assert.equal(next, worker, 'the adopted worker took the new socket from its holder, without restarting');
        const nextMaster = engineOf();
        if (engine === 'haproxy') assert.notEqual(identityOf(nextMaster), null, 'HAProxy runs');

        // A clean stop ends them all.
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await exited;
        child = null;
        await new Promise((r) => setTimeout(r, 200));
        for (const pid of [next, ...workloads]) assert.equal(identityOf(pid), null, `process ${pid} ended with the daemon`);
        if (engine === 'haproxy') assert.equal(identityOf(nextMaster), null, 'HAProxy ended with the daemon');
      } finally {
        child?.kill('SIGKILL');
        for (const pid of pids) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        await cleanInstallation(dir);
      }
    },
  );

test(
  'a daemon killed with SIGKILL leaves its HAProxy load balancer serving; nimbus dataplane clean ends the agent, HAProxy and its socket holder (which would start HAProxy again)',
  { skip: NO_HAPROXY },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-adopt-clean-'));
    let child: ChildProcess | null = null;
    const pids: number[] = [];
    try {
      let url: string;
      ({ child, url } = await spawnServe(['--data', dir, '--dataplane', 'virtual', '--l7-engine', 'haproxy']));
      const c = new NimbusClient({ url });
      await part1(c, 'web');
      const base = await part2(c, randomPublicIp('virtual'));
      await waitUp(`${base}/`);
      const lb = await c.loadBalancers.get('elb');
      const master = haproxyMaster(dir, lb.id);
      const holder = Number(readFileSync(holderPidFile(workerDir(dir, lb.id)), 'utf8'));
      pids.push(pidIn(dir, lb.id), master, holder);
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      child = null;
      assert.notEqual(identityOf(master), null, 'HAProxy outlives the daemon');
      assert.notEqual(identityOf(holder), null, 'and so does its socket holder');
      const r = await cli('http://127.0.0.1:1', ['dataplane', 'clean', '--data', dir]);
      assert.equal(r.code, 0, r.stderr);
      for (let i = 0; i < 50 && (identityOf(master) || identityOf(holder) || identityOf(pids[0])); i++) await new Promise((res) => setTimeout(res, 100));
      assert.equal(identityOf(holder), null, 'the holder ended');
      assert.equal(identityOf(master), null, 'HAProxy ended');
      assert.equal(identityOf(pids[0]), null, "the load balancer's agent ended");
      assert.match(r.stdout, /ended \d+ processes the daemon had left running/);
      // Nothing started HAProxy again from the removed folder.
      const again = spawnSync('pgrep', ['-f', workerDir(dir, lb.id)], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .filter(Boolean)
        .map(Number);
      const haproxies = again.filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith(haproxyPath() ?? 'haproxy'));
      assert.deepEqual(haproxies, [], 'no HAProxy runs from the cleaned folder');
    } finally {
      child?.kill('SIGKILL');
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await cleanInstallation(dir);
    }
  },
);
