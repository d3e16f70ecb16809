/**
 * Test support for the ovn data plane: its packages, installed as root when missing (or the
 * reason to skip), and an ovn daemon with a per-run prefix and simulated chassis, whose
 * namespaces, processes and run folder are removed afterwards, also when the test failed
 * (withCleanup: `dataplane clean`'s own function).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { linuxUnavailable } from '../../src/dataplane/choose.js';
import { ovnUnavailable } from '../../src/dataplane/ovn/fabric.js';
import { runPrefix, withCleanup, type LinuxTestDaemon } from './linux.js';
import { testDaemon } from './daemon.js';
import type { DaemonOptions } from '../../src/daemon.js';

/** A reason to skip, or false when the ovn plane can run (its packages installed here first, as root). */
export const skipOvn: string | false = (() => {
  const linux = linuxUnavailable();
  if (linux) return `ovn data plane unavailable: ${linux}`;
  if (ovnUnavailable()) {
    const r = spawnSync('bash', [fileURLToPath(new URL('../../scripts/install-ovn.sh', import.meta.url))], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (r.status !== 0) return `ovn data plane unavailable: its packages could not be installed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  }
  const why = ovnUnavailable();
  return why ? `ovn data plane unavailable: ${why}` : false;
})();

/** A daemon on the ovn plane with `chassis` simulated chassis (ch1…chN). */
export async function ovnDaemon(
  chassis = 3,
  prefix = runPrefix(),
  opts: Omit<DaemonOptions, 'dataplane' | 'prefix' | 'chassis'> = {},
): Promise<LinuxTestDaemon> {
  return withCleanup(await testDaemon({ ...opts, dataplane: 'ovn', prefix, chassis }), prefix);
}
