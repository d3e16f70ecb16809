/**
 * The `nimbus` command end to end, as a user runs it: the reference lab's part 1 from the
 * README, exit codes, `CODE: message` on stderr, `-o json`, names or ids, `--help` at
 * every level, and `nimbus serve` itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_SETUP, cli, spawnServe, testDaemon, type TestDaemon } from '../helpers/daemon.js';

let t: TestDaemon;
before(async () => {
  t = await testDaemon();
});
after(async () => {
  await t?.close();
});
const nimbus = (...args: string[]) => cli(t.daemon.url, args);

test('reference lab part 1 from the CLI', async () => {
  for (const s of LAB_SETUP) {
    const r = await nimbus(...s);
    assert.equal(r.code, 0, `${s.join(' ')}: ${r.stderr}`);
  }
  const fails = await nimbus('ping', 'ecs-a', '192.168.5.130', '-c', '2');
  assert.equal(fails.code, 1);
  assert.match(fails.stdout, /2 packets transmitted, 0 received, 100% packet loss/);

  assert.equal((await nimbus('peering', 'create', '--name', 'pcx-ab', '--vpc', 'vpc-a', '--peer-vpc', 'vpc-b')).code, 0);
  assert.equal((await nimbus('route', 'add', '--vpc', 'vpc-a', '--destination', '192.168.5.0/24', '--target', 'pcx-ab')).code, 0);
  assert.equal((await nimbus('route', 'add', '--vpc', 'vpc-b', '--destination', '192.168.6.0/25', '--target', 'pcx-ab')).code, 0);
  const routes = await nimbus('route', 'list', '--vpc', 'vpc-a');
  assert.match(routes.stdout, /^DESTINATION\s+TARGET\s+STATE\n192\.168\.6\.0\/24\s+local\s+active\n192\.168\.5\.0\/24\s+pcx-\w+\s+active\n$/);

  const ok = await nimbus('ping', 'ecs-a', '192.168.5.130');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /64 bytes from 192\.168\.5\.130: icmp_seq=3 ttl=62/);
  assert.match(ok.stdout, /3 packets transmitted, 3 received, 0% packet loss/);

  const tr = await nimbus('trace', 'ecs-a', '192.168.5.130', '--protocol', 'tcp', '--port', '8080');
  assert.equal(tr.code, 0);
  assert.match(tr.stdout, /peering\s+pcx-ab\s+vpc-a -> vpc-b/);
  assert.match(tr.stdout, /verdict: reachable \(ecs-b\)/);
});

test('failures print CODE: message on stderr and exit non-zero', async () => {
  const r = await nimbus('vpc', 'create', '--name', 'x', '--cidr', '8.8.8.0/24');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^InvalidVpc\.Range: cidr '8\.8\.8\.0\/24'/);
  const missing = await nimbus('server', 'show', 'ghost');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^InvalidServerID\.NotFound: server 'ghost' does not exist/);
  const unreachable = await cli('http://127.0.0.1:1', ['vpc', 'list']);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /^DaemonUnreachable: /);
  const trace = await nimbus('trace', 'ecs-b', '192.168.6.99');
  assert.equal(trace.code, 1, 'an unreachable trace exits 1');
  assert.match(trace.stdout, /verdict: unreachable, blocked on the forward path at delivery sub-a/);
});

test('-o json prints the resource; names and ids are interchangeable', async () => {
  const r = await nimbus('vpc', 'show', 'vpc-a', '-o', 'json');
  assert.equal(r.code, 0);
  const vpc = JSON.parse(r.stdout);
  assert.equal(vpc.name, 'vpc-a');
  assert.match(vpc.id, /^vpc-[0-9a-f]{16}$/);
  assert.equal(vpc.status, 'available');
  const byId = JSON.parse((await nimbus('-o', 'json', 'vpc', 'show', vpc.id)).stdout);
  assert.deepEqual(byId, vpc);
  const list = JSON.parse((await nimbus('server', 'list', '--vpc', 'vpc-b', '-o', 'json')).stdout);
  assert.deepEqual(
    list.map((s: { name: string }) => s.name),
    ['ecs-b'],
  );
  const yaml = await nimbus('subnet', 'show', 'sub-a', '-o', 'yaml');
  assert.match(yaml.stdout, /^id: subnet-/m);
});

test('security group rules from the CLI change what trace says', async () => {
  assert.equal((await nimbus('sg', 'create', '--name', 'web')).code, 0);
  const add = await nimbus(
    'sg',
    'rule',
    'add',
    '--group',
    'web',
    '--direction',
    'ingress',
    '--protocol',
    'tcp',
    '--port',
    '8080',
    '--remote',
    '192.168.6.0/24',
  );
  assert.equal(add.code, 0, add.stderr);
  assert.equal((await nimbus('server', 'create', '--name', 'web-1', '--subnet', 'sub-b', '--security-group', 'web')).code, 0);
  assert.equal((await nimbus('trace', 'ecs-a', '192.168.5.2:8080')).code, 0);
  const closed = await nimbus('trace', 'ecs-a', '192.168.5.2:22');
  assert.equal(closed.code, 1);
  assert.match(closed.stdout, /DROP\s+sg ingress\s+web\s+no ingress rule allows tcp:22 from 192\.168\.6\.76/);
});

test('--help works at every level', async () => {
  for (const args of [
    ['--help'],
    ['vpc', '--help'],
    ['sg', 'rule', '--help'],
    ['sg', 'rule', 'add', '--help'],
    ['route', 'add', '--help'],
    ['trace', '--help'],
  ]) {
    const r = await nimbus(...args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /^Usage: nimbus/, args.join(' '));
  }
});

test('nimbus serve starts the daemon on the given port and data directory, and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-serve-'));
  const { child, url } = await spawnServe(['--data', dir, '--dataplane', 'virtual']);
  try {
    const st = await cli(url, ['status']);
    assert.equal(st.code, 0);
    assert.match(st.stdout, /dataplane\s+virtual/);
    const closed = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    assert.equal(await closed, 0);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
