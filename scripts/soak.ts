/**
 * `npm run soak`: the random-crash run (test/helpers/crash.ts) with many kills, by hand, as
 * root. Prints what each kill interrupted and the counts; exits 1 when anything did not hold.
 *
 *   npm run soak -- [KILLS] [SEED]        (default 20 kills, a random seed)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { crashRun } from '../test/helpers/crash.js';
import { cleanInstallation } from '../test/helpers/daemon.js';
import { LISTEN_PORT, randomPublicIp } from '../test/helpers/lab.js';
import { runPrefix, skipLinux } from '../test/helpers/linux.js';
import { cleanNamespaces } from '../src/dataplane/linux/clean.js';

if (skipLinux) {
  process.stderr.write(`soak needs the linux data plane: ${skipLinux}\n`);
  process.exit(2);
}
const kills = Number(process.argv[2] ?? 20);
const seed = Number(process.argv[3] ?? randomInt(1, 1_000_000));
const dir = mkdtempSync(join(tmpdir(), 'nimbus-soak-'));
const prefix = runPrefix();
process.stdout.write(`soak: ${kills} kills, seed ${seed} (run again with: npm run soak -- ${kills} ${seed})\n`);
try {
  const r = await crashRun({ kills, seed, prefix, dir, publicIp: randomPublicIp('linux'), port: LISTEN_PORT, log: (l) => process.stdout.write(`  ${l}\n`) });
  const rows: [string, string][] = [
    ['operations', String(r.operations)],
    ['kills', String(r.kills)],
    ['restarts not converged', String(r.unconverged.length)],
    ['pings compared / agreed', `${r.pairs} / ${r.agreed}`],
    ['load balancer checks / served', `${r.lbChecks} / ${r.lbServed}`],
    ['left behind', String(r.leftovers.length)],
    ['seconds', (r.ms / 1000).toFixed(1)],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(32)}${v}\n`);
  for (const l of [...r.unconverged, ...r.disagreements, ...r.leftovers]) process.stdout.write(`! ${l}\n`);
  const ok = r.unconverged.length === 0 && r.disagreements.length === 0 && r.lbServed === r.lbChecks && r.leftovers.length === 0;
  process.exitCode = ok ? 0 : 1;
} finally {
  await cleanNamespaces(prefix);
  await cleanInstallation(dir);
}
