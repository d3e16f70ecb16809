// Builds N servers with web apps and reports, every 2 s, how many answer; the daemon's pass trace goes to /tmp/passes.log
import { mkdtempSync, readFileSync, createWriteStream } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { NimbusClient } from '../src/client/client.ts';
import { BIN } from '../test/helpers/daemon.ts';
import { serverNs } from '../src/dataplane/linux/names.ts';
import { cleanNamespaces } from '../src/dataplane/linux/clean.ts';
const N = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const prefix = 'pf' + Math.random().toString(16).slice(2, 6);
const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dir, '--dataplane', 'linux', '--prefix', prefix], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, NIMBUS_TRACE_PASSES: '1' },
});
const log = createWriteStream('/tmp/passes.log');
const T0 = performance.now();
child.stderr.on('data', (d) => log.write(`${((performance.now() - T0) / 1000).toFixed(1)} ${d}`));
const url = await new Promise<string>((res) => {
  let o = '';
  child.stdout.on('data', (d) => {
    o += d;
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(o);
    if (m) res(m[1]);
  });
});
const c = new NimbusClient({ url, token: readFileSync(join(dir, 'admin-token'), 'utf8').trim() });
try {
  for (let v = 0; v < 10; v++) {
    await c.vpcs.create({ name: `v${v}`, cidr: `10.${v}.0.0/16` });
    await c.subnets.create({ name: `s${v}`, vpc: `v${v}`, cidr: `10.${v}.0.0/20` });
  }
  await c.securityGroups.create({ name: 'web' });
  await c.securityGroups.addRule('web', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '10.0.0.0/8' });
  const t0 = performance.now();
  log.write(`${((t0 - T0) / 1000).toFixed(1)} creates begin\n`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < N; i = next++) await c.servers.create({ name: `e${i}`, subnet: `s${i % 10}`, app: 'web', securityGroups: ['web'] });
    }),
  );
  log.write(`${((performance.now() - T0) / 1000).toFixed(1)} creates end\n`);
  const list = await c.servers.list();
  const ips = list.map((s) => s.privateIp);
  const from = serverNs(prefix, list.find((s) => s.name === 'e0')!.id);
  for (;;) {
    // from e0 (VPC 0): its own VPC's servers only (no peering here)
    const targets = list.filter((s) => s.subnetId === list.find((x) => x.name === 'e0')!.subnetId).map((s) => `http://${s.privateIp}:8080/`);
    const r = spawnSync(
      'ip',
      ['netns', 'exec', from, 'curl', '-s', '-Z', '--parallel-max', '50', '-m', '3', '-w', '%{http_code}\n', '-o', '/dev/null', ...targets],
      { encoding: 'utf8' },
    );
    const ok = (r.stdout ?? '').split('\n').filter((l) => l === '200').length;
    const msg = `${((performance.now() - T0) / 1000).toFixed(1)} answered ${ok}/${targets.length} in vpc 0\n`;
    log.write(msg);
    process.stdout.write(msg);
    if (ok === targets.length || performance.now() - t0 > 300_000) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  log.write('--- SIGKILL and restart\n');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const child2 = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dir, '--dataplane', 'linux', '--prefix', prefix], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NIMBUS_TRACE_PASSES: '1' },
  });
  const R0 = performance.now();
  child2.stderr.on('data', (d) => log.write(`R+${((performance.now() - R0) / 1000).toFixed(1)} ${d}`));
  child2.stdout.on('data', (d) => log.write(`R+${((performance.now() - R0) / 1000).toFixed(1)} OUT ${d}`));
  for (;;) {
    const targets = list.filter((s) => s.subnetId === list.find((x) => x.name === 'e0')!.subnetId).map((s) => `http://${s.privateIp}:8080/`);
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        from,
        'curl',
        '-s',
        '-Z',
        '--parallel-max',
        '100',
        '--connect-timeout',
        '1',
        '-m',
        '2',
        '-w',
        '%{http_code}\n',
        '-o',
        '/dev/null',
        ...targets,
      ],
      { encoding: 'utf8' },
    );
    const ok = (r.stdout ?? '').split('\n').filter((l) => l === '200').length;
    log.write(`R+${((performance.now() - R0) / 1000).toFixed(1)} answered ${ok}/${targets.length}\n`);
    if ((ok === targets.length && performance.now() - R0 > 15000) || performance.now() - R0 > 120_000) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  child2.kill('SIGTERM');
  await new Promise((r) => child2.once('exit', r));
  void ips;
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await cleanNamespaces(prefix);
  spawnSync('node', [BIN, 'dataplane', 'clean', '--data', dir]);
}
