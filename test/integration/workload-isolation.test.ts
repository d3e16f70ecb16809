/**
 * What keeps one installation's and one tenant's workloads apart on the virtual data plane:
 * each runs as an identity of its own (never root), each installation draws its
 * loopback addresses from a range of its own, and a workload that cannot stay up is shown as
 * such, by its server and by a load balancer that would send it traffic.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { workloadUid } from '../../src/dataplane/user.js';

const asRoot = process.getuid?.() === 0;
let t: TestDaemon;
let u: TestDaemon;
before(async () => {
  t = await testDaemon();
  u = await testDaemon();
  for (const d of [t, u]) {
    await d.client.vpcs.create({ name: 'v', cidr: '10.40.0.0/16' });
    await d.client.subnets.create({ name: 's', vpc: 'v', cidr: '10.40.1.0/24' });
  }
});
after(async () => {
  await t?.close();
  await u?.close();
});

function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** The workload's pid, once the wrappers (setpriv) have exec'd the program itself (`marker` in its command line). */
async function pidOf(d: TestDaemon, serverId: string, marker: string): Promise<number> {
  // Bounded by a minute: a loaded machine may take that long to start a process.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const pid = d.daemon.workloads.supervisor.pid(serverId);
    if (pid) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmdline.includes(marker) && !cmdline.startsWith('setpriv')) return pid;
      } catch {
        // exited: a new one comes
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no workload process');
}

test('two installations on one host give their servers addresses from different ranges', async () => {
  const a = await t.client.servers.create({ name: 'first', subnet: 's' });
  const b = await u.client.servers.create({ name: 'first', subnet: 's' });
  const range = (ip: string) => ip.split('.').slice(0, 2).join('.');
  assert.match(a.loopbackIp, /^127\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./);
  assert.notEqual(range(a.loopbackIp), range(b.loopbackIp));
  assert.equal(readFileSync(`${t.dataDir}/workload-range`, 'utf8').trim(), `${range(a.loopbackIp)}.0.0/16`);
});

test('each workload runs as an identity of its own, never as root', { skip: asRoot ? false : 'needs root to have a privilege to drop' }, async () => {
  const web = await t.client.servers.create({ name: 'web', subnet: 's', app: 'web' });
  const other = await t.client.servers.create({ name: 'sleeper', subnet: 's', app: 'sleep 60' });
  const webUid = uidOf(await pidOf(t, web.id, 'web'));
  const otherUid = uidOf(await pidOf(t, other.id, 'sleep'));
  assert.equal(webUid, workloadUid(web.loopbackIp));
  assert.equal(otherUid, workloadUid(other.loopbackIp));
  assert.notEqual(webUid, otherUid);
  assert.notEqual(webUid, 0);
  const env = readFileSync(`/proc/${await pidOf(t, other.id, 'sleep')}/environ`, 'utf8')
    .split('\0')
    .filter(Boolean);
  assert.deepEqual(env.map((e) => e.split('=')[0]).sort(), ['LANG', 'PATH'], "nothing of the daemon's environment");
  const note = (await t.client.status()).notes.join('\n');
  assert.match(note, /virtual data plane: .* enforced on the host loopback/);
});

test("a workload that cannot stay up makes its server 'error' with the reason, and its member ERROR", async () => {
  const bad = await t.client.servers.create({ name: 'crashy', subnet: 's', app: "sh -c 'echo cannot bind >&2; exit 3'" });
  await t.client.loadBalancers.create({ name: 'lb', subnet: 's' });
  await t.client.pools.create({ name: 'p', loadBalancer: 'lb', protocol: 'http', algorithm: 'round_robin' });
  await t.client.members.create({ name: 'm', pool: 'p', server: 'crashy', port: 8080 });
  await t.client.listeners.create({ name: 'l', loadBalancer: 'lb', protocol: 'http', port: 18091, defaultPool: 'p' });
  let shown = await t.client.servers.get(bad.id);
  for (let i = 0; i < 100 && shown.status !== 'error'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    shown = await t.client.servers.get(bad.id);
  }
  assert.equal(shown.status, 'error');
  assert.match(shown.statusReason ?? '', /exits at once \(code 3\): cannot bind/);
  assert.ok(
    (await t.client.servers.list()).some((s) => s.name === 'crashy' && s.status === 'error'),
    'the list shows it too',
  );
  let member = await t.client.members.get('m');
  for (let i = 0; i < 50 && member.operatingStatus !== 'ERROR'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    member = await t.client.members.get('m');
  }
  assert.equal(member.operatingStatus, 'ERROR');
  assert.match(member.statusReason ?? '', /crashy: its workload exits at once/);
});
