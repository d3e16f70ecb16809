/** Ends a benchmark's daemon (SIGTERM, if it still runs) and removes all its installation left on the machine. */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cleanNamespaces } from '../../src/dataplane/linux/clean.js';
import { installationFolders } from '../../src/workloads/lb-dirs.js';

export async function removeInstallation(child: ChildProcess, prefix: string, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await cleanNamespaces(prefix);
  for (const f of installationFolders(dir)) rmSync(f, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
