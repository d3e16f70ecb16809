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

/** /etc/netns/<ns>/hostname and hosts: what the server sees as /etc/hostname and /etc/hosts. */
export function writeServerEtc(ns: string, hostname: string, ip: string): void {
  const dir = join(ETC_NETNS, ns);
  const hosts = `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${hostname}\n`;
  try {
    if (readFileSync(join(dir, 'hosts'), 'utf8') === hosts) return;
  } catch {
    // not there yet
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // Read inside the server, by its root (to the host, another user): readable by all.
  writeFileSync(join(dir, 'hostname'), `${hostname}\n`, { mode: 0o644 });
  writeFileSync(join(dir, 'hosts'), hosts, { mode: 0o644 });
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
