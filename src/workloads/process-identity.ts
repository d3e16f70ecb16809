/**
 * Which process a pid names: its start time (field 22 of /proc/<pid>/stat, in clock ticks since
 * boot), with its command line for people. A pid file records both, so that a daemon starting after a
 * SIGKILL signals its own orphans and never a stranger that has since been given the same pid.
 */
import { readFileSync } from 'node:fs';

export interface Identity {
  pid: number;
  startTime: string;
  cmdline: string;
}

/** The identity of a running process, or null when there is none with that pid (or it has exited). */
export function identityOf(pid: number): Identity | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited: it only waits for its parent (or init, for an orphan) to reap it.
    if (fields[0] === 'Z') return null;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { pid, startTime: fields[19], cmdline };
  } catch {
    return null;
  }
}

/**
 * Whether `recorded` still names the same process: same pid and start time. (A pid given to
 * another process has a later start time. The command line is recorded for people but not
 * compared: our processes exec on through wrappers, `ip netns exec` to `setpriv` to `node`.)
 */
export function sameProcess(recorded: Identity): boolean {
  const now = identityOf(recorded.pid);
  return now !== null && recorded.startTime !== '' && now.startTime === recorded.startTime;
}
