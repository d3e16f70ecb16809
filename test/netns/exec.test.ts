/**
 * `nimbus exec` and `nimbus ssh` like `docker exec`, on the Linux data plane (privileged):
 * piped stdin passes through, output streams as it is written, the exit code is the
 * command's, --timeout kills, -t gives a terminal. On the virtual plane it is refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN, cli, testDaemon } from '../helpers/daemon.js';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';

let t: LinuxTestDaemon;
before(async () => {
  if (skipLinux) return;
  t = await linuxDaemon();
  await t.client.vpcs.create({ name: 'v', cidr: '10.77.0.0/16' });
  await t.client.subnets.create({ name: 's', vpc: 'v', cidr: '10.77.1.0/24' });
  await t.client.servers.create({ name: 'e', subnet: 's' });
});
after(async () => {
  await t?.close();
});

/** Runs nimbus with `input` on stdin; resolves with what it printed and when each stdout chunk came. */
function run(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string; chunks: number[] }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NIMBUS_URL: t.daemon.url }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const chunks: number[] = [];
    child.stdout.on('data', (d) => {
      stdout += d;
      chunks.push(performance.now() - t0);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, chunks }));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

test('piped stdin passes through to the command', { skip: skipLinux }, async () => {
  const r = await run(['exec', 'e', '--', 'cat'], 'hi\nthere\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\nthere\n');
});

test("stdout and stderr come apart, and the exit code is the command's", { skip: skipLinux }, async () => {
  const r = await run(['exec', 'e', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('output streams as the command writes it, not at its end', { skip: skipLinux }, async () => {
  const r = await run(['exec', 'e', '--', 'sh', '-c', 'echo one; sleep 1; echo two']);
  assert.equal(r.stdout, 'one\ntwo\n');
  assert.equal(r.chunks.length, 2, 'two separate writes arrived separately');
});

test('--timeout kills the command (exit 137); without it there is no limit', { skip: skipLinux }, async () => {
  const r = await run(['exec', '--timeout', '1', 'e', '--', 'sleep', '30']);
  assert.equal(r.code, 137);
});

test('-t runs the command on a terminal', { skip: skipLinux }, async () => {
  // The CLI gives a terminal only when its own stdin is one: script(1) provides it here.
  const r = await new Promise<string>((resolve) => {
    const child = spawn('script', ['-qfec', `"${process.execPath}" "${BIN}" exec -t e -- tty`, '/dev/null'], {
      env: { ...process.env, NIMBUS_URL: t.daemon.url },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', () => resolve(out));
    child.stdin.end();
  });
  assert.match(r, /\/dev\/pts\/\d+/);
});

test('an unknown server is refused with its code', { skip: skipLinux }, async () => {
  const r = await run(['exec', 'ghost', '--', 'true']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^InvalidServerID\.NotFound: server 'ghost' does not exist/);
});

test('on the virtual data plane exec is refused, naming why', async () => {
  const v = await testDaemon({ dataplane: 'virtual' });
  try {
    await v.client.vpcs.create({ name: 'v', cidr: '10.78.0.0/16' });
    await v.client.subnets.create({ name: 's', vpc: 'v', cidr: '10.78.1.0/24' });
    await v.client.servers.create({ name: 'e', subnet: 's' });
    const r = await cli(v.daemon.url, ['exec', 'e', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Dataplane\.Unavailable: /);
  } finally {
    await v.close();
  }
});
