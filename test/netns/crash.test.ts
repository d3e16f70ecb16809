/**
 * The random-crash test (privileged): a daemon on the linux data plane, then on the ovn plane
 * (three simulated chassis), is SIGKILLed at random
 * moments while it builds a topology and while it tears it down (test/helpers/crash.ts). After
 * each restart it converges, the analyzer agrees with real pings, the load balancer serves;
 * at the end nothing is left. CI runs a few kills with a fixed seed; `npm run soak` runs many.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipLinux, runPrefix } from '../helpers/linux.js';
import { skipOvn } from '../helpers/ovn.js';
import { crashRun, leftovers } from '../helpers/crash.js';
import { randomPublicIp, LISTEN_PORT } from '../helpers/lab.js';
import { cleanNamespaces } from '../../src/dataplane/linux/clean.js';
import { cleanInstallation } from '../helpers/daemon.js';

const KILLS = Number(process.env.NIMBUS_CRASH_KILLS ?? 4);
const SEED = Number(process.env.NIMBUS_CRASH_SEED ?? 12);
/** Fewer on ovn, whose daemon also starts the central and three chassis' worth of checks. */
const OVN_KILLS = Number(process.env.NIMBUS_CRASH_KILLS ?? 3);

for (const plane of ['linux', 'ovn'] as const)
  test(
    `${plane} plane: SIGKILL at ${plane === 'ovn' ? OVN_KILLS : KILLS} random moments of a build and a tear-down: converged after each, analyzer = ping, nothing left`,
    { skip: plane === 'linux' ? skipLinux : skipOvn, timeout: 600_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nimbus-crash-'));
      const prefix = runPrefix();
      try {
        const kills = plane === 'ovn' ? OVN_KILLS : KILLS;
        const r = await crashRun({ kills, seed: SEED, prefix, dir, publicIp: randomPublicIp('linux'), port: LISTEN_PORT, dataplane: plane });
        assert.equal(r.kills, kills);
        assert.deepEqual(r.unconverged, [], 'every restart converged');
        assert.ok(r.pairs > 0, 'pings were compared');
        assert.deepEqual(r.disagreements, [], 'the analyzer agreed with every ping');
        assert.ok(r.lbChecks > 0, 'the load balancer was checked');
        assert.deepEqual(r.lbUnserved, [], 'the load balancer served after every restart once built');
        assert.equal(r.lbServed, r.lbChecks);
        // On ovn the central and the chassis stay until \`dataplane clean\` (below), as they outlive a daemon by design.
        const left = plane === 'ovn' ? r.leftovers.filter((l) => !/^namespace \S+-(ovn-|ch-)/.test(l)) : r.leftovers;
        assert.deepEqual(left, [], 'nothing left behind');
      } finally {
        await cleanNamespaces(prefix);
        const left = await leftovers(prefix, dir, []);
        await cleanInstallation(dir);
        if (left.some((l) => l.startsWith('namespace'))) throw new Error(`could not clean: ${left.join(', ')}`);
      }
    },
  );
