/**
 * A host joined with `nimbus chassis join`, as root. This machine has no second host, so the
 * "host" is a network namespace linked to this machine's own namespace (as a host on its
 * network would be), entered with nsenter (its network only: it sees the machine's folders, as a
 * host with Nimbus installed would see its own). The daemon runs with `--join-hosts`: the
 * underlay is linked to this machine, which forwards only Geneve and the southbound into it.
 * The join script runs on the host as printed (its run-folder and userspace-datapath form: no
 * systemd and no kernel module here), with a route to the underlay through this machine, and
 * starts Open vSwitch, ovn-controller and the chassis agent; then a server placed on that
 * chassis is plugged by the agent, not the daemon, and reaches a server of this machine's
 * chassis over Geneve both ways; deleted, the agent removes it. Everything the test made is
 * removed afterwards, also when it failed. One installation per machine lets hosts join (they
 * share the underlay's address on the host), so a parallel run of this test waits for the other.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ovnDaemon, skipOvn } from '../helpers/ovn.js';
import { runPrefix, type LinuxTestDaemon } from '../helpers/linux.js';
import { BIN, cleanInstallation, cli } from '../helpers/daemon.js';
import { forwardingBefore, hostLink, OVN_RUN_DIR, underlayTable } from '../../src/dataplane/ovn/fabric.js';
import { leaveScript } from '../../src/dataplane/ovn/join.js';
import { serverNs } from '../../src/dataplane/linux/names.js';
import { listNamespaces } from '../../src/dataplane/linux/observe.js';
import { cleanNamespaces } from '../../src/dataplane/linux/clean.js';

const sh = (script: string) => spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 60_000 });

async function until(what: string, fn: () => Promise<boolean> | boolean, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: not within ${limitMs / 1000} s`);
}

describe('a host joined as a chassis (nimbus chassis join, the chassis agent)', { skip: skipOvn }, () => {
  let t: LinuxTestDaemon;
  /** The joined host's namespace, its run folder, and the prefix its agent names namespaces with. */
  let host = '';
  let runDir = '';
  const agentPrefix = runPrefix();
  let closed = false;
  before(async () => {
    // A parallel run holds the underlay's address on the host until it ends: its daemon is waited for (bounded).
    const prefix = runPrefix();
    for (let i = 0; ; i++) {
      try {
        t = await ovnDaemon(1, prefix, { joinHosts: true });
        break;
      } catch (err) {
        // What the refused start made (its central) goes before the next try.
        await cleanNamespaces(prefix);
        if (i >= 150 || !/one installation per machine lets hosts join/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
    host = `${t.prefix}-ovn-h2`;
    runDir = join(OVN_RUN_DIR, t.prefix, 'joined-h2');
    // The host: one interface towards this machine, 198.19.0.2/24 (this machine's end 198.19.0.1).
    const made = sh(
      [
        'set -e',
        `ip netns add ${host}`,
        `ip -n ${host} link set lo up`,
        `ip link add name ${t.prefix}-h2 type veth peer name eth0 netns ${host}`,
        `ip addr add 198.19.0.1/24 dev ${t.prefix}-h2`,
        `ip link set ${t.prefix}-h2 up`,
        `ethtool -K ${t.prefix}-h2 tx off sg off tso off gso off gro off >/dev/null 2>&1 || true`,
        `ip -n ${host} link set eth0 up`,
        `ip -n ${host} addr add 198.19.0.2/24 dev eth0`,
      ].join('\n'),
    );
    assert.equal(made.status, 0, made.stderr);
  });
  after(async () => {
    if (runDir) sh(leaveScript({ name: 'h2', runDir, prefix: agentPrefix }));
    for (const ns of (await listNamespaces()).filter((n) => n.startsWith(`${agentPrefix}-`) || n === host))
      sh(`ip netns pids ${ns} | xargs -r kill -KILL; ip netns del ${ns}; rm -rf /etc/netns/${ns}`);
    if (t) sh(`ip link del ${t.prefix}-h2 2>/dev/null`);
    if (runDir) rmSync(runDir, { recursive: true, force: true });
    if (!closed) await t?.close();
  });

  test('the printed script runs on the host; the chassis reports and is listed as another host', async () => {
    const args = ['chassis', 'join', 'h2', '--central', 'tcp:198.18.0.1:6642', '--encap-ip', '198.19.0.2/24', '--via', '198.19.0.1'];
    const more = ['--datapath', 'netdev', '--uplink', 'eth0', '--run-dir', runDir, '--prefix', agentPrefix];
    const printed = spawnSync(process.execPath, [BIN, ...args, ...more], { encoding: 'utf8' });
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /external_ids:system-id=h2 external_ids:ovn-remote=tcp:198\.18\.0\.1:6642 /);
    assert.match(printed.stdout, /chassis agent --name h2 --central tcp:198\.18\.0\.1:6642 --prefix /);
    assert.match(printed.stdout, /^ip route replace 198\.18\.0\.0\/16 via 198\.19\.0\.1$/m);
    const ran = spawnSync('nsenter', [`--net=/run/netns/${host}`, process.execPath, BIN, ...args, ...more, '--run'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(ran.status, 0, `${ran.stdout}\n${ran.stderr}`);
    await until('h2 up in nimbus chassis list', async () => (await t.client.chassis.list()).some((c) => c.name === 'h2' && c.state === 'up'));
    const h2 = (await t.client.chassis.list()).find((c) => c.name === 'h2')!;
    assert.equal(h2.local, false);
    assert.equal(h2.encapIp, '198.19.0.2');
    // This machine forwards only Geneve and the southbound into its underlay: the central's other ports and ICMP stay out.
    assert.notEqual(sh(`ip netns exec ${host} ping -c 1 -W 1 198.18.0.1`).status, 0, 'ping into the underlay is not forwarded');
    assert.match((await t.client.status()).dataplane.reason, /hosts may join \(southbound tcp:198\.18\.0\.1:6642, through this host; joined: h2\)/);
  });

  test('a second installation asking to let hosts join is refused at its start, saying why, and leaves nothing', async () => {
    const other = runPrefix();
    const data = mkdtempSync(join(tmpdir(), 'nimbus-join-'));
    try {
      const r = spawnSync(
        process.execPath,
        [BIN, 'serve', '--port', '0', '--data', data, '--dataplane', 'ovn', '--chassis', '1', '--prefix', other, '--join-hosts'],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(
        r.stderr,
        /the data plane could not start: .*another installation's link \(\S+\) already holds 198\.18\.255\.254: one installation per machine lets hosts join/,
      );
    } finally {
      await cleanNamespaces(other);
      await cleanInstallation(data);
    }
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(`${other}-`)),
      [],
    );
  });

  test("a server placed on the joined chassis is plugged by the host's agent and reaches this machine's chassis both ways", async () => {
    const c = t.client;
    await c.vpcs.create({ name: 'v', cidr: '10.80.0.0/16' });
    await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.80.1.0/24' });
    await c.servers.create({ name: 'here', subnet: 's', chassis: 'ch1' });
    const there = await c.servers.create({ name: 'there', subnet: 's', chassis: 'h2' });
    const here = await c.servers.get('here');
    assert.equal(there.chassis, 'h2');
    const ns = serverNs(agentPrefix, there.id);
    await until("the agent's namespace for the server", async () => (await listNamespaces()).includes(ns));
    // Not the daemon's: it made no namespace of its own for a server on another host.
    assert.ok(!(await t.namespaces()).includes(serverNs(t.prefix, there.id)));
    // The first packets to a new tunnel peer may be lost (OVN-NOTES pitfall 3): asked again until one answers.
    await until('here reaches there over Geneve', () => sh(`ip netns exec ${serverNs(t.prefix, here.id)} ping -c 1 -W 1 ${there.privateIp}`).status === 0);
    await until('there reaches here', () => sh(`ip netns exec ${ns} ping -c 1 -W 1 ${here.privateIp}`).status === 0);
    // Its name and resolver as on this machine's chassis: the VPC's resolver (on ch1) answers it over Geneve.
    assert.equal(readFileSync(`/etc/netns/${ns}/hostname`, 'utf8'), 'there\n');
    assert.match(readFileSync(`/etc/netns/${ns}/resolv.conf`, 'utf8'), /^nameserver 10\.80\.1\.253$/m);
    await until('there resolves here by name', () => sh(`ip netns exec ${ns} getent hosts here`).stdout.startsWith(`${here.privateIp} `));
    const addr = sh(`ip -n ${ns} -4 -o addr show dev eth0`).stdout;
    assert.match(addr, new RegExp(`inet ${there.privateIp.replaceAll('.', '\\.')}/24 `));
    const listed = await cli(t.daemon.url, ['chassis', 'list']);
    assert.match(listed.stdout, /^h2 +up +198\.19\.0\.2 +there /m);
  });

  test("the daemon restarted: the joined host's server stays plugged, its port never taken off its chassis", async () => {
    const there = await t.client.servers.get('there');
    const here = await t.client.servers.get('here');
    // A port whose row changes is made again (a new _uuid): one taken off its chassis for a pass would be.
    const portRow = () =>
      sh(
        `ovn-nbctl --db=unix:${join(OVN_RUN_DIR, t.prefix, 'central', 'nb.sock')} --bare --columns=_uuid,options find logical_switch_port name=${there.id}`,
      ).stdout.trim();
    const before = portRow();
    assert.match(before, /requested-chassis=h2/);
    await t.restart();
    await t.client.dataplane.sync();
    assert.equal(portRow(), before, 'the same row, still asked for on h2');
    await until(
      'here reaches there after the restart',
      () => sh(`ip netns exec ${serverNs(t.prefix, here.id)} ping -c 1 -W 1 ${there.privateIp}`).status === 0,
    );
  });

  test('a chassis that is neither here nor joined is refused, naming those that are; what the daemon cannot run on a joined host is refused', async () => {
    const r = await cli(t.daemon.url, ['server', 'create', '--name', 'nowhere', '--subnet', 's', '--chassis', 'h9']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /'h9' is not a chassis of this cloud \(nimbus chassis list: ch1, h2\)/);
    const app = await cli(t.daemon.url, ['server', 'create', '--name', 'webby', '--subnet', 's', '--chassis', 'h2', '--app', 'web']);
    assert.equal(app.code, 1);
    assert.match(app.stderr, /^UnsupportedOperation: chassis: 'h2' is a joined host's, where the daemon runs no app \('web'\)/m);
    assert.equal(
      (await t.client.servers.list()).some((x) => x.name === 'webby'),
      false,
      'nothing stored',
    );
    const exec = await cli(t.daemon.url, ['exec', 'there', '--', 'true']);
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /UnsupportedOperation: server 'there' runs on chassis h2, a joined host/);
  });

  test('a server deleted: its agent removes what it plugged', async () => {
    const there = await t.client.servers.get('there');
    await t.client.servers.delete('there');
    const ns = serverNs(agentPrefix, there.id);
    await until("the agent's namespace gone", async () => !(await listNamespaces()).includes(ns));
    await until('its /etc/netns files gone', () => !existsSync(`/etc/netns/${ns}`));
  });

  test('the host leaves (nimbus chassis leave), then the central forgets its chassis (nimbus chassis remove), not before', async () => {
    const early = await cli(t.daemon.url, ['chassis', 'remove', 'h2']);
    assert.equal(early.code, 1);
    assert.match(
      early.stderr,
      /^InvalidChassis\.Reporting: chassis 'h2' is a joined host's and still reports; on that host run nimbus chassis leave h2 first/m,
    );
    const left = spawnSync(
      'nsenter',
      [`--net=/run/netns/${host}`, process.execPath, BIN, 'chassis', 'leave', 'h2', '--run-dir', runDir, '--prefix', agentPrefix, '--run'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(left.status, 0, `${left.stdout}\n${left.stderr}`);
    for (const p of ['agent', 'ovn-controller', 'vswitchd', 'ovsdb']) assert.equal(existsSync(join(runDir, `${p}.pid`)), false, `${p} stopped`);
    await until('h2 down', async () => (await t.client.chassis.list()).some((c) => c.name === 'h2' && c.state === 'down'));
    const removed = await cli(t.daemon.url, ['chassis', 'remove', 'h2']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(
      (await t.client.chassis.list()).map((c) => c.name),
      ['ch1'],
    );
    // Forgotten whole: no report row left that would count it as a joined host again.
    const sb = `unix:${join(OVN_RUN_DIR, t.prefix, 'central', 'sb.sock')}`;
    assert.equal(sh(`ovn-sbctl --db=${sb} --bare --columns=name find Chassis_Private name=h2`).stdout.trim(), '');
  });

  test("the daemon closed and its installation cleaned: the host's link into the underlay and its forwarding table are gone", async () => {
    const prefix = t.prefix;
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1', 'forwarding on while hosts may join');
    // What it was before the daemon turned it on, as the daemon recorded it.
    const before = readFileSync(forwardingBefore(prefix), 'utf8').trim();
    assert.match(before, /^[01]$/);
    assert.equal(sh(`ip -o addr show dev ${hostLink(prefix)}`).stdout.includes('198.18.255.254/16'), true);
    closed = true;
    await t.close();
    assert.notEqual(sh(`ip link show ${hostLink(prefix)}`).status, 0, 'the link is gone');
    assert.notEqual(sh(`nft list table inet ${underlayTable(prefix)}`).status, 0, 'the table is gone');
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), before, 'forwarding as it was before');
  });
});
