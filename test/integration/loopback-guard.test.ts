/**
 * The virtual data plane, as root, keeps workloads apart the way the analyzer says: real
 * workloads on the host loopback try a real web app, and get through exactly when trace()
 * says reachable; a peering with its routes opens the way, another project's workload stays
 * out, and the host itself still reaches everything.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { cleanInstallation, cli, spawnServe, testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NimbusClient } from '../../src/client/client.js';

const nft = spawnSync('nft', ['--version']).status === 0;
const skip =
  process.getuid?.() !== 0 ? 'needs root: without it the virtual data plane cannot tell workloads apart' : !nft ? 'needs nft (Debian package nftables)' : false;

let t: TestDaemon;
let teamB: NimbusClient;
before(async () => {
  if (skip) return;
  t = await testDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'va', cidr: '10.50.0.0/16' });
  await c.subnets.create({ name: 'sa', vpc: 'va', cidr: '10.50.1.0/24' });
  await c.vpcs.create({ name: 'vb', cidr: '10.60.0.0/16' });
  await c.subnets.create({ name: 'sb', vpc: 'vb', cidr: '10.60.1.0/24' });
  await c.projects.create({ name: 'team-b' });
  // An admin acting in team-b: only an admin may run a command as a workload.
  teamB = c.as('team-b');
  await teamB.vpcs.create({ name: 'vc', cidr: '10.50.0.0/16' });
  await teamB.subnets.create({ name: 'sc', vpc: 'vc', cidr: '10.50.1.0/24' });
});
after(async () => {
  await t?.close();
});

/** A workload that tries `ip:port` five times a second and prints OPEN or BLOCKED. */
function probe(ip: string, port: number): string {
  const js = `const n=require('net');setInterval(()=>{const s=n.connect(${port},'${ip}');s.setTimeout(500);s.on('connect',()=>{console.log('OPEN');s.destroy()});s.on('error',(e)=>console.log('BLOCKED',e.code));s.on('timeout',()=>{console.log('BLOCKED timeout');s.destroy()})},200)`;
  return `exec ${process.execPath} -e "${js}"`;
}

/** The probe's latest verdict once it has printed `want` (or its last line after a minute). */
async function verdict(c: NimbusClient, server: string, want: 'OPEN' | 'BLOCKED'): Promise<string> {
  let last = '';
  // Bounded by a minute (a loaded machine starts a workload slowly); a verdict comes much sooner.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const lines = (await c.serverLogs(server)).output.trim().split('\n');
    last = lines[lines.length - 1] ?? '';
    if (last.startsWith(want)) {
      // Two lines in a row, so a verdict from before the change does not count.
      await new Promise((r) => setTimeout(r, 450));
      const again = (await c.serverLogs(server)).output.trim().split('\n');
      if (again[again.length - 1].startsWith(want)) return want;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

function get(ip: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: ip, port, path: '/', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

/** The app's answer once it has started. */
async function up(ip: string, port: number): Promise<number> {
  for (const deadline = Date.now() + 60_000; ;) {
    try {
      return await get(ip, port);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('a workload reaches another exactly where the analyzer says it can', { skip }, async () => {
  const c = t.client;
  const privilege = (await c.status()).notes.join('\n');
  assert.match(privilege, /enforced on the host loopback/, 'the status says the virtual plane enforces');
  const web = await c.servers.create({ name: 'web', subnet: 'sa', app: 'web', ip: '10.50.1.10' });
  assert.equal(await up(web.loopbackIp, 8080), 200, 'the host reaches the app');

  await c.servers.create({ name: 'near', subnet: 'sa', app: probe(web.loopbackIp, 8080) });
  await c.servers.create({ name: 'far', subnet: 'sb', app: probe(web.loopbackIp, 8080) });
  await teamB.servers.create({ name: 'stranger', subnet: 'sc', app: probe(web.loopbackIp, 8080) });
  const traced = async (from: string) => (await c.trace({ server: from, destination: '10.50.1.10', protocol: 'tcp', port: 8080 })).reachable;

  assert.equal(await traced('near'), true);
  assert.equal(await verdict(c, 'near', 'OPEN'), 'OPEN', 'same subnet, same default group: open');
  assert.equal(await traced('far'), false);
  assert.equal(await verdict(c, 'far', 'BLOCKED'), 'BLOCKED', 'another VPC, no peering: blocked, as the analyzer says');
  assert.equal(await verdict(teamB, 'stranger', 'BLOCKED'), 'BLOCKED', "another project's workload: blocked");

  // A peering with routes both ways opens the path; the rules follow at once.
  await c.peerings.create({ name: 'pcx', vpc: 'va', peerVpc: 'vb' });
  await c.routeTables.addRoute('va-main', { destination: '10.60.0.0/16', target: 'pcx' });
  await c.routeTables.addRoute('vb-main', { destination: '10.50.0.0/16', target: 'pcx' });
  assert.equal(await traced('far'), true);
  assert.equal(await verdict(c, 'far', 'OPEN'), 'OPEN', 'peered and routed: open');

  // Closing the port in the web server's groups closes it for the workloads too.
  await c.securityGroups.create({ name: 'closed' });
  await c.servers.update('web', { securityGroups: ['closed'] });
  assert.equal(await traced('near'), false);
  assert.equal(await verdict(c, 'near', 'BLOCKED'), 'BLOCKED', 'no ingress rule: blocked');
  assert.equal(await verdict(teamB, 'stranger', 'BLOCKED'), 'BLOCKED');
  assert.equal(await get(web.loopbackIp, 8080), 200, 'the host still reaches it');
});

test('the table goes with the daemon', { skip }, async () => {
  const table = `nimbus_lo_127_${(await t.client.servers.get('web')).loopbackIp.split('.')[1]}`;
  assert.equal(spawnSync('nft', ['list', 'table', 'inet', table]).status, 0, 'the daemon keeps its table');
  await t.close();
  assert.notEqual(spawnSync('nft', ['list', 'table', 'inet', table]).status, 0, 'and removes it when it stops');
});

test('a daemon killed with SIGKILL leaves its table; nimbus dataplane clean removes it', { skip }, async () => {
  const data = mkdtempSync(join(tmpdir(), 'nimbus-guard-'));
  const { child } = await spawnServe(['--data', data, '--dataplane', 'virtual']);
  try {
    const range = readFileSync(join(data, 'workload-range'), 'utf8').trim();
    const table = `nimbus_lo_127_${range.split('.')[1]}`;
    for (let i = 0; i < 50 && spawnSync('nft', ['list', 'table', 'inet', table]).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(spawnSync('nft', ['list', 'table', 'inet', table]).status, 0, 'left behind by the kill');
    const r = await cli('http://127.0.0.1:1', ['dataplane', 'clean', '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`removed nft table inet ${table}`));
    assert.notEqual(spawnSync('nft', ['list', 'table', 'inet', table]).status, 0, 'and gone after clean');
    const again = await cli('http://127.0.0.1:1', ['dataplane', 'clean', '--data', data]);
    assert.equal(again.code, 0, `a second clean of a virtual-plane directory succeeds: ${again.stderr}`);
    assert.match(again.stdout, /nothing else to remove/);
  } finally {
    child.kill('SIGKILL');
    await cleanInstallation(data);
  }
});
