/**
 * What the daemon needs to know of HAProxy as a load balancer's engine: where it is, and
 * how to end a master that outlived its agent (a killed agent's master is adopted by the next
 * agent, in another process group than the one the supervisor ends).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLEAN_PATH } from '../dataplane/user.js';
import { holderPidFile } from '../lb/haproxy/holder.js';

/** The haproxy program on the clean PATH the daemon's processes get, or null. */
export function haproxyPath(): string | null {
  for (const d of CLEAN_PATH.split(':')) if (existsSync(join(d, 'haproxy'))) return join(d, 'haproxy');
  return null;
}

/** Ends the socket holder (which would start HAProxy again) and the HAProxy master with its workers running from a load balancer's folder, if they do. */
export function stopHaproxyOf(ownDir: string): void {
  try {
    const pid = Number(readFileSync(holderPidFile(ownDir), 'utf8').trim());
    if (pid > 1 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(ownDir)) process.kill(pid, 'SIGKILL');
  } catch {
    // none
  }
  try {
    const pid = Number(readFileSync(join(ownDir, 'haproxy.pid'), 'utf8').trim());
    if (!(pid > 1) || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(ownDir, 'haproxy.cfg'))) return;
    process.kill(pid, 'SIGKILL');
    // Its workers end when their master does (they watch it), or now.
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) process.kill(Number(child), 'SIGKILL');
  } catch {
    // not running
  }
}
