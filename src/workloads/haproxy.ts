/**
 * What the daemon needs to know of HAProxy as a load balancer's engine: where it is, and
 * how to end a master that outlived its agent (a killed agent's master is adopted by the next
 * agent, in another process group than the one the supervisor ends).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLEAN_PATH } from '../dataplane/user.js';
import { endAll, holderTree, runningFrom, treeOf } from '../lb/holder.js';

/** The haproxy program on the clean PATH the daemon's processes get, or null. */
export function haproxyPath(): string | null {
  for (const d of CLEAN_PATH.split(':')) if (existsSync(join(d, 'haproxy'))) return join(d, 'haproxy');
  return null;
}

/**
 * Ends what outlives a load balancer's worker in its folder: the socket holder (either
 * engine's; HAProxy's would start HAProxy again), then an HAProxy master with its workers.
 */
export function stopHoldersOf(ownDir: string): void {
  // Both trees are read before anything is ended: a master whose holder went first is then still known with its workers.
  const master = runningFrom(join(ownDir, 'haproxy.pid'), join(ownDir, 'haproxy.cfg'));
  endAll([...holderTree(ownDir), ...(master ? treeOf(master) : [])]);
}
