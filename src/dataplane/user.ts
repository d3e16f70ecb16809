/**
 * The host identities Nimbus gives away. Nothing a tenant sends runs as the daemon's root: a
 * server on the linux plane is a machine of its own (linux/machine.ts, ids from ids.ts); a load
 * balancer's worker runs as an id of its own (ids.ts); a workload on the virtual plane as an id
 * derived from its loopback address (below). A daemon that is not root runs them as itself
 * (it has nothing more to give away). None of these ids has a passwd entry.
 */
import { ipToInt } from '../core/cidr.js';

export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/** Whether this daemon runs as root, and so must give every tenant process an identity of its own. */
export function dropsPrivilege(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The argv prefix that runs a command as `user` with no privilege left: no supplementary
 * groups, no new privileges through setuid programs, and of the capabilities only, where
 * asked, binding ports below 1024 (in a server's own namespace: a web app on port 80).
 */
export function unprivileged(user: RunAs, opts: { bindLowPorts: boolean }): string[] {
  const caps = opts.bindLowPorts
    ? ['--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service', '--bounding-set=-all,+net_bind_service']
    : ['--bounding-set=-all'];
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--no-new-privs', ...caps, '--'];
}

/**
 * On the virtual data plane as root, each workload runs as a user id of its own, derived from
 * its loopback address (127.64.0.0/10 maps onto 2^22 ids from 1,600,000,000), so nftables can
 * tell workloads apart by the socket's owner (`meta skuid`) and mirror the security groups
 * between them. No account is made: the ids have no passwd entry and own no files.
 */
export const WORKLOAD_UID_BASE = 1_600_000_000;
export const WORKLOAD_UID_COUNT = 1 << 22;
const LOOPBACK_WORKLOADS = 0x7f400000; // 127.64.0.0

export function workloadUid(loopbackIp: string): number | null {
  if (!loopbackIp) return null;
  const offset = ipToInt(loopbackIp) - LOOPBACK_WORKLOADS;
  return offset >= 0 && offset < WORKLOAD_UID_COUNT ? WORKLOAD_UID_BASE + offset : null;
}

/** The PATH a tenant's process gets (and nothing else of the daemon's environment). */
export const CLEAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
