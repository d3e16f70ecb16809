/**
 * Who a server's workload (and `nimbus exec`) runs as: an unprivileged user, never the
 * daemon's root. `npm install`, as root, makes a `nimbus` system user for it
 * (scripts/install-deps.sh); `nobody` stands in where it does not exist. A daemon that is not
 * root runs workloads as itself (it has nothing more to give away). Root inside a server is an
 * explicit, admin-only option of the server (`runAsRoot`).
 */
import { readFileSync } from 'node:fs';
import { ipToInt } from '../core/cidr.js';

export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

let cached: RunAs | null | undefined;

/** The unprivileged user workloads run as, or null when the daemon is not root. */
export function workloadUser(): RunAs | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.getuid?.() !== 0) return cached;
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return cached;
  }
  for (const name of ['nimbus', 'nobody']) {
    const line = passwd.split('\n').find((l) => l.startsWith(`${name}:`));
    if (!line) continue;
    const [, , uid, gid] = line.split(':');
    cached = { name, uid: Number(uid), gid: Number(gid) };
    break;
  }
  return cached;
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
