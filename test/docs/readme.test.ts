/**
 * The README runs as written: every `console` block, in order, against a fresh daemon, each
 * command through a shell as a user pastes it, its output compared with the README's once
 * ids, times and durations are masked. Blocks tagged `linux` run on the Linux data plane, those
 * tagged `ovn` on the ovn plane with three chassis (privileged; skipped with the reason
 * otherwise), the others on the virtual one.
 *
 * After a deliberate change of output, NIMBUS_README_WRITE=1 writes each step's real output
 * into the README instead of failing (review the diff before committing it).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { BIN, testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { linuxDaemon, skipLinux } from '../helpers/linux.js';
import { ovnDaemon, skipOvn } from '../helpers/ovn.js';
import { consoleBlocks, mask, matches, writeOutputs, type Step } from '../helpers/console-blocks.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
/** The README's public IPs (a load balancer's or an elastic IP, and a second elastic IP), replaced by two of this run so that nothing else on the host meets them. */
const README_IP = '127.0.1.20';
const README_IP2 = '127.0.1.21';
const blocks = consoleBlocks(README, 'README.md');
const WRITE = process.env.NIMBUS_README_WRITE === '1';
const notRoot = process.getuid?.() !== 0 ? 'the walkthrough binds port 80 on a public IP: run as root' : false;

function runner(t: () => TestDaemon, publicIp: string) {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-readme-'));
  const bin = join(dir, 'bin');
  spawnSync('mkdir', ['-p', bin]);
  // Commands run from a checkout's root, as the README's reader does: its examples are there.
  symlinkSync(fileURLToPath(new URL('../../examples', import.meta.url)), join(dir, 'examples'));
  writeFileSync(join(bin, 'nimbus'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'nimbus'), 0o755);
  return {
    dir,
    /** Runs a step as a user would paste it (asynchronously: the daemon answers from this process). */
    run(step: Step): Promise<string> {
      const second = `127.0.1.${Number(publicIp.split('.')[3]) + 1}`;
      const command = step.command.replaceAll(README_IP, publicIp).replaceAll(README_IP2, second);
      return new Promise((resolve, reject) => {
        const child = spawn('bash', ['-c', `${command} 2>&1`], {
          cwd: dir,
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NIMBUS_URL: t().daemon.url, NIMBUS_PROJECT: '' },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.stdout.on('data', (d) => (out += d));
        child.on('error', reject);
        child.on('close', () => {
          clearTimeout(timer);
          resolve(out.replaceAll(publicIp, README_IP).replaceAll(second, README_IP2));
        });
      });
    },
  };
}

for (const plane of ['virtual', 'linux', 'ovn'] as const) {
  const planeOf = (tags: string[]) => (tags.includes('linux') ? 'linux' : tags.includes('ovn') ? 'ovn' : 'virtual');
  const mine = blocks.map((b, index) => ({ ...b, index })).filter((b) => planeOf(b.tags) === plane);
  const outputs = new Map<string, string>();
  const skip = notRoot || (plane === 'linux' ? skipLinux : plane === 'ovn' ? skipOvn : false) || (mine.length === 0 ? 'no such block' : false);
  describe(`README walkthrough on the ${plane} data plane`, { skip }, () => {
    let t: TestDaemon;
    let r: ReturnType<typeof runner>;
    // Virtual and Linux runs use separate ranges, so files running side by side never meet.
    const publicIp = `127.0.1.${plane === 'virtual' ? randomInt(60, 79) : plane === 'linux' ? randomInt(80, 99) : randomInt(100, 119)}`;
    before(async () => {
      t = plane === 'linux' ? await linuxDaemon() : plane === 'ovn' ? await ovnDaemon(3) : await testDaemon({ dataplane: 'virtual' });
      r = runner(() => t, publicIp);
    });
    after(async () => {
      if (WRITE && outputs.size > 0) writeOutputs(README, outputs);
      await t?.close();
      if (r) rmSync(r.dir, { recursive: true, force: true });
    });
    for (const block of mine) {
      for (const [i, step] of block.steps.entries()) {
        test(`${step.at}: $ ${step.command}`, async () => {
          const out = await r.run(step);
          if (WRITE) return void outputs.set(`${block.index}:${i}`, out);
          if (!matches(step.expected, out)) {
            assert.equal(mask(out), mask(step.expected), `${step.at}: the output differs from the README's (masked)`);
          }
        });
      }
    }
  });
}
