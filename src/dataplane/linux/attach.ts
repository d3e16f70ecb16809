/**
 * Commands inside a server: its workload, `nimbus exec` and `nimbus ssh`. Each runs in the
 * server's network namespace, in a UTS namespace of its own with the server's name as its
 * hostname (and, through `ip netns exec`, /etc/hosts and /etc/hostname from
 * /etc/netns/<namespace>/): a server's as root of its machine (machine.ts), a load balancer's
 * worker as its own id (inServerAs). A terminal is
 * made with script(1) from util-linux (in every Debian), so no native module is needed: it runs
 * the command on a pseudo-terminal of the size asked for and relays it on its own stdio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttachOptions } from '../driver.js';
import { CLEAN_PATH, unprivileged, type RunAs } from '../user.js';

/** The argv that runs `argv` inside namespace `ns` as `user` (root when null), named `hostname`. */
export function inServerAs(ns: string, hostname: string, user: RunAs, argv: string[]): string[] {
  return [
    'ip',
    'netns',
    'exec',
    ns,
    'unshare',
    '--uts',
    '--',
    'sh',
    '-c',
    'hostname "$0" && exec "$@"',
    hostname,
    ...unprivileged(user, { bindLowPorts: true }),
    ...argv,
  ];
}

const ETC_NETNS = '/etc/netns';

/** /etc/netns/<ns>/hostname, hosts and resolv.conf: what the server sees as its /etc/hostname, /etc/hosts and /etc/resolv.conf. */
export function writeServerEtc(ns: string, hostname: string, ip: string, resolv?: string): void {
  const dir = join(ETC_NETNS, ns);
  const files: [string, string][] = [
    ['hostname', `${hostname}\n`],
    ['hosts', `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${hostname}\n`],
    ...(resolv !== undefined ? [['resolv.conf', resolv] as [string, string]] : []),
  ];
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const [name, text] of files) {
    const file = join(dir, name);
    try {
      if (readFileSync(file, 'utf8') === text) continue;
    } catch {
      // not there yet
    }
    // Read inside the server, by its root (to the host, another user): readable by all. Written
    // in place (not renamed), so a process that has it bound over /etc sees the change.
    writeFileSync(file, text, { mode: 0o644 });
  }
}

export function removeServerEtc(ns: string): void {
  rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
}

/** A word for sh, quoted so that it stays one word whatever it holds. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** Starts `argv` after `prefix` (inServerAs's) with its streams piped, on a terminal with `tty`. */
export function attachIn(prefix: string[], argv: string[], opts: AttachOptions): ChildProcess {
  // The machine's own environment is set inside (machine.ts); nothing of the daemon's goes in.
  const env = { PATH: CLEAN_PATH };
  if (!opts.tty) return spawn(prefix[0], [...prefix.slice(1), ...argv], { stdio: 'pipe', env });
  const size = opts.rows && opts.cols ? `stty rows ${Math.trunc(opts.rows)} cols ${Math.trunc(opts.cols)} 2>/dev/null; ` : '';
  const line = `${size}exec ${argv.map(shellQuote).join(' ')}`;
  return spawn(prefix[0], [...prefix.slice(1), 'script', '-qfec', line, '/dev/null'], { stdio: 'pipe', env });
}
