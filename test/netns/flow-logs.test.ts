/**
 * Flow logs on the linux data plane (privileged), as a user reads them: a ping that a
 * security group blocks is a REJECT naming the group, an allowed curl an ACCEPT whose byte
 * count is what the packets carried, both on the sender's and the receiver's interface; an ACL
 * rule that drops is named by its number; `tail --follow` prints what happens next; a restart
 * records nothing twice; a flow log that only wants REJECTs gets none of the rest.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cli } from '../helpers/daemon.js';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import type { FlowRecord } from '../../src/core/model/index.js';

let t: LinuxTestDaemon;
let webGroup = '';
const A = '10.81.1.10';
const B = '10.81.2.10';

before(async () => {
  if (skipLinux) return;
  t = await linuxDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'v', cidr: '10.81.0.0/16' });
  await c.subnets.create({ name: 'front', vpc: 'v', cidr: '10.81.1.0/24' });
  await c.subnets.create({ name: 'back', vpc: 'v', cidr: '10.81.2.0/24' });
  webGroup = (await c.securityGroups.create({ name: 'web' })).id;
  await c.securityGroups.addRule('web', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '10.81.0.0/16' });
  await c.servers.create({ name: 'a', subnet: 'front', ip: A, securityGroups: ['web'] });
  await c.servers.create({ name: 'b', subnet: 'back', ip: B, securityGroups: ['web'], app: 'web:8080' });
});
after(async () => {
  await t?.close();
});

const nimbus = (...args: string[]) => cli(t.daemon.url, args, { NIMBUS_TOKEN: t.daemon.adminToken });

async function sh(server: string, script: string) {
  await t.daemon.dataplane.settled();
  return nimbus('exec', server, '--', 'sh', '-c', script);
}

async function records(log: string, ...args: string[]): Promise<FlowRecord[]> {
  const r = await nimbus('flowlog', 'tail', log, '-n', '1000', '-o', 'json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { records: FlowRecord[] }).records;
}

const sum = (rs: FlowRecord[], k: 'packets' | 'bytes') => rs.reduce((n, r) => n + r[k], 0);

test('a ping the group blocks is a REJECT naming it; an allowed curl is an ACCEPT with the bytes its packets carried', { skip: skipLinux }, async () => {
  const made = await nimbus('flowlog', 'create', '--name', 'all', '--vpc', 'v', '--window', '60');
  assert.equal(made.code, 0, made.stderr);
  await t.daemon.dataplane.settled();
  const ping = await sh('a', `ping -n -c 3 -i 0.2 -W 1 ${B}`);
  assert.notEqual(ping.code, 0, 'the group admits no ICMP: the ping fails');
  const curl = await sh('a', `curl -s -o /dev/null -w '%{local_port} %{size_request} %{size_header} %{size_download}' http://${B}:8080/`);
  assert.equal(curl.code, 0, curl.stderr);
  const [port, request, header, download] = curl.stdout.trim().split(' ').map(Number);
  const rs = await records('all');
  const eniA = `eni-${(await t.client.servers.get('a')).id.slice(4)}`;
  const eniB = `eni-${(await t.client.servers.get('b')).id.slice(4)}`;

  // The ping: accepted out of a (its group lets everything out), rejected at b by its group.
  const pingAt = (eni: string) => rs.filter((r) => r.protocol === 1 && r.interfaceId === eni && r.srcaddr === A && r.dstaddr === B);
  const rejected = pingAt(eniB);
  assert.ok(rejected.length > 0, `a REJECT of the ping at b:\n${rs.map((r) => r.line).join('\n')}`);
  assert.ok(rejected.every((r) => r.action === 'REJECT' && r.rejectedBy === `sg:${webGroup}`));
  assert.equal(sum(rejected, 'packets'), 3);
  assert.equal(sum(rejected, 'bytes'), 3 * 84, 'an echo request of 56 bytes is 84 on the wire (IP and ICMP headers)');
  assert.ok(pingAt(eniA).every((r) => r.action === 'ACCEPT'));
  assert.equal(sum(pingAt(eniA), 'packets'), 3);
  assert.equal(rejected[0].server, 'b');

  // The curl: each direction on both interfaces, every byte of it: payload plus 40 to 60 bytes of IP and TCP header per packet.
  const flow = (eni: string, up: boolean) =>
    rs.filter((r) => r.protocol === 6 && r.interfaceId === eni && (up ? r.srcport === port && r.dstport === 8080 : r.srcport === 8080 && r.dstport === port));
  for (const eni of [eniA, eniB]) {
    for (const up of [true, false]) {
      const f = flow(eni, up);
      assert.ok(f.length > 0 && f.every((r) => r.action === 'ACCEPT'), `${eni} ${up ? 'request' : 'response'}:\n${rs.map((r) => r.line).join('\n')}`);
      const payload = up ? request : header + download;
      const packets = sum(f, 'packets');
      const bytes = sum(f, 'bytes');
      assert.ok(bytes >= payload + 40 * packets && bytes <= payload + 60 * packets, `${bytes} bytes in ${packets} packets carry ${payload} bytes of HTTP`);
    }
    assert.equal(sum(flow(eniA, true), 'bytes'), sum(flow(eniB, true), 'bytes'), 'what left a is what reached b');
  }
  // Every line is AWS's default format, version 2, with the field naming what rejected.
  for (const r of rs) assert.match(r.line, /^2 \d{12} eni-[0-9a-f]{16} [\d.]+ [\d.]+ \d+ \d+ \d+ \d+ \d+ \d+ \d+ (ACCEPT|REJECT) OK (-|sg:\S+|acl:\S+)$/);
});

test('an ACL rule that drops is named by its number, in the log and the table; removing it lets the curl through', { skip: skipLinux }, async () => {
  const acl = (await t.client.networkAcls.list({ vpc: 'v' })).find((a) => a.isDefault)!;
  const add = await nimbus(
    'acl',
    'rule',
    'add',
    acl.name,
    '--number',
    '50',
    '--direction',
    'inbound',
    '--deny',
    '--protocol',
    'tcp',
    '--port',
    '8080',
    '--cidr',
    '10.81.1.0/24',
  );
  assert.equal(add.code, 0, add.stderr);
  const curl = await sh('a', `curl -s -m 2 -o /dev/null http://${B}:8080/`);
  assert.notEqual(curl.code, 0, 'the ACL drops the curl');
  const rs = (await records('all', '--action', 'reject', '--server', 'b')).filter((r) => r.dstport === 8080);
  const port = rs[0]?.srcport;
  assert.ok(rs.length > 0);
  assert.ok(rs.every((r) => r.rejectedBy === `acl:${acl.id}:inbound:50` && r.dstport === 8080 && r.server === 'b'));
  const table = await nimbus('flowlog', 'tail', 'all', '--action', 'reject', '--server', 'b');
  assert.equal(table.code, 0, table.stderr);
  assert.match(
    table.stdout,
    new RegExp(`${A.replaceAll('.', '\\.')}:${port}\\s+${B.replaceAll('.', '\\.')}:8080\\s+tcp\\s+\\d+\\s+\\d+\\s+REJECT\\s+acl ${acl.name} inbound rule 50`),
  );
  const trace = await nimbus('trace', 'a', `${B}:8080`);
  assert.match(trace.stdout, /rule 50/);
  assert.equal((await nimbus('acl', 'rule', 'delete', acl.name, '--number', '50', '--direction', 'inbound')).code, 0);
  const again = await sh('a', `curl -s -m 5 -o /dev/null -w '%{http_code}' http://${B}:8080/`);
  assert.equal(again.stdout, '200');
});

test('tail --follow prints what happens next; a restart records nothing twice', { skip: skipLinux }, async () => {
  const before = await records('all');
  assert.ok(
    before.some((r) => r.action === 'REJECT'),
    'the tests before left a reject',
  );
  // -n 1: the follower prints the last reject at once, so the test knows it has read (its cursor is set) before the
  // ping: a ping counted before its first read would be behind its cursor, and never printed.
  const child = spawn(process.execPath, [BIN, 'flowlog', 'tail', 'all', '--follow', '--action', 'reject', '-n', '1'], {
    env: { ...process.env, NIMBUS_URL: t.daemon.url, NIMBUS_TOKEN: t.daemon.adminToken },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const line = /10\.81\.1\.10\s+10\.81\.2\.10\s+icmp\s+2\s+168\s+REJECT\s+group web/g;
  const until = (what: string, done: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      child.on('close', () => reject(new Error(`tail ended before ${what}: ${out}`)));
      const check = () => (done() ? resolve() : setTimeout(check, 100));
      check();
    });
  try {
    await until('its first read', () => /REJECT/.test(out));
    const seen = (out.match(line) ?? []).length;
    await sh('a', `ping -n -c 2 -i 0.2 -W 1 ${B} || true`);
    // The follower reads every 2 s: wait for the new line, however long a loaded machine takes.
    await until('the ping', () => (out.match(line) ?? []).length > seen);
  } finally {
    child.kill();
  }
  const counted = await records('all');
  await t.restart();
  await t.daemon.dataplane.settled();
  const after = await records('all');
  assert.deepEqual(
    after.map((r) => r.line),
    counted.map((r) => r.line),
    'the kernel kept its counters over the restart; the new daemon went on from them',
  );
  assert.ok(counted.length > before.length);
});

test('a REJECT-only log on a server gets only its rejects; it goes with its server, and so do its records', { skip: skipLinux }, async () => {
  assert.equal((await nimbus('flowlog', 'create', '--name', 'b-rejects', '--server', 'b', '--traffic', 'reject')).code, 0);
  const twin = await nimbus('flowlog', 'create', '--name', 'twin', '--server', 'b', '--traffic', 'REJECT');
  assert.equal(twin.code, 1);
  assert.match(twin.stderr, /^FlowLogAlreadyExists: .*b-rejects/);
  await t.daemon.dataplane.settled();
  await sh('a', `ping -n -c 1 -W 1 ${B} || true; curl -s -m 5 -o /dev/null http://${B}:8080/`);
  const rs = await records('b-rejects');
  assert.ok(rs.length > 0 && rs.every((r) => r.action === 'REJECT' && r.server === 'b'), rs.map((r) => r.line).join('\n'));
  const id = (await t.client.flowLogs.get('b-rejects')).id;
  const file = join(t.dataDir, 'flowlogs', `${id}.log`);
  assert.ok(existsSync(file));
  await t.client.servers.delete('b');
  const left = await t.client.flowLogs.list();
  assert.deepEqual(
    left.map((f) => f.name),
    ['all'],
  );
  assert.ok(!existsSync(file), "the deleted log's records are gone");
});
