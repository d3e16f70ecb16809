/**
 * Privileged test support: whether this process may create namespaces (with the reason
 * when not), and a linux daemon with a per-run prefix whose namespaces are removed
 * afterwards, also when the test failed.
 */
import { randomBytes } from 'node:crypto';
import { linuxUnavailable } from '../../src/dataplane/choose.js';
import { cleanNamespaces } from '../../src/dataplane/linux/clean.js';
import { listNamespaces } from '../../src/dataplane/linux/observe.js';
import { testDaemon, type TestDaemon } from './daemon.js';
import type { DaemonOptions } from '../../src/daemon.js';

/** A reason to skip, or false when privileged tests can run. */
export const skipLinux: string | false = (() => {
  const why = linuxUnavailable();
  return why ? `linux data plane unavailable: ${why}` : false;
})();

export function runPrefix(): string {
  return `t${randomBytes(3).toString('hex')}`;
}

export interface LinuxTestDaemon extends TestDaemon {
  prefix: string;
  namespaces(): Promise<string[]>;
}

export async function linuxDaemon(prefix = runPrefix(), opts: Omit<DaemonOptions, 'dataplane' | 'prefix'> = {}): Promise<LinuxTestDaemon> {
  return withCleanup(await testDaemon({ ...opts, dataplane: 'linux', prefix }), prefix);
}

/** A test daemon of a real plane whose installation (`prefix`) is removed when it closes, also after a failure. */
export function withCleanup(t: TestDaemon, prefix: string): LinuxTestDaemon {
  const close = t.close.bind(t);
  return Object.assign(t, {
    prefix,
    // Every namespace named with the run's prefix, not only the kinds `owned` knows: a kind it forgot stays visible.
    namespaces: async () => (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`)).sort(),
    async close() {
      try {
        await close();
      } finally {
        await cleanNamespaces(prefix);
      }
    },
  });
}
