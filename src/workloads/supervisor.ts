/**
 * Keeps processes running: each has a key and a spec; one that exits is started again
 * (after 200 ms, then up to a second), until it is stopped or its spec changes.
 *
 * Processes outlive a daemon that is killed: each runs in a session of its own, its output
 * goes to files, and its pid file records its identity (pid and start time) and its spec. The
 * next daemon adopts a process whose spec it asks for again, unchanged, instead of starting
 * another: a server does not reboot because its cloud's control plane restarted. It watches an
 * adopted process by polling (it is not its parent), and ends, after its first passes, the
 * ones nobody asked for (reapUnclaimed). A stopping daemon ends its processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { identityOf, sameProcess, type Identity } from './process-identity.js';
import { CLEAN_PATH } from '../dataplane/user.js';

const CHILD_ENV = { PATH: CLEAN_PATH, LANG: 'C.UTF-8' };

export interface ProcessSpec {
  argv: string[];
  /** Appends stdout and stderr here. */
  outputFile: string;
  /** Open an IPC channel (load balancer workers). */
  ipc?: boolean;
  /** The user the process runs as, when not the daemon's (for the record; the argv drops privileges). */
  owner?: { uid: number; gid: number } | null;
  /** Variables added to the process's otherwise clean environment (a load balancer worker's control secret). */
  env?: { [name: string]: string };
  /** Files opened for appending by the supervisor and given to the process as fds 3, 4, ... (it may not reach their folder itself). */
  appendFiles?: string[];
}

interface Entry {
  spec: ProcessSpec;
  key: string;
  child: ChildProcess | null;
  /** A process a previous daemon started, adopted: watched by polling. */
  adopted: Identity | null;
  timer: NodeJS.Timeout | null;
  restarts: number;
  stopped: boolean;
}

/** What a pid file holds. */
interface Record extends Identity {
  key: string;
  spec: ProcessSpec;
}

const POLL_MS = 250;

const sameSpec = (a: ProcessSpec, b: ProcessSpec) => JSON.stringify(a) === JSON.stringify(b);

/** Ends a process and its session's group (its wrappers' children with it). */
function kill(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export class Supervisor extends EventEmitter {
  private readonly entries = new Map<string, Entry>();
  /** Processes a previous daemon left running, by key, until they are adopted or reaped. */
  private readonly orphans = new Map<string, Record>();
  private readonly poll = setInterval(() => this.watchAdopted(), POLL_MS).unref();

  constructor(private readonly pidDir: string) {
    super();
    mkdirSync(pidDir, { recursive: true });
    for (const f of readdirSync(pidDir)) {
      let r: Partial<Record> | null = null;
      try {
        r = JSON.parse(readFileSync(join(pidDir, f), 'utf8')) as Partial<Record>;
      } catch {
        r = null; // a torn write: not enough to tell who it is
      }
      const pid = r?.pid ?? 0;
      // Only a process whose pid and start time are still what was recorded: never a stranger given the pid since.
      if (r && typeof r.key === 'string' && r.spec && Number.isInteger(pid) && pid > 1 && sameProcess(r as Identity)) this.orphans.set(r.key, r as Record);
      else rmSync(join(pidDir, f), { force: true });
    }
  }

  /** Keys of processes left by a previous daemon and not (yet) adopted. */
  orphanKeys(): string[] {
    return [...this.orphans.keys()];
  }

  /** Ends the processes a previous daemon left that nobody asked for again; returns how many. */
  reapUnclaimed(): number {
    let n = 0;
    for (const [key, r] of this.orphans) {
      if (sameProcess(r)) {
        kill(r.pid);
        n++;
      }
      rmSync(this.pidFile(key), { force: true });
    }
    this.orphans.clear();
    return n;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The spec a key runs under, or null. */
  specOf(key: string): ProcessSpec | null {
    return this.entries.get(key)?.spec ?? null;
  }

  child(key: string): ChildProcess | null {
    return this.entries.get(key)?.child ?? null;
  }

  /** The pid of the process running under `key` (started or adopted), or null. */
  pid(key: string): number | null {
    const e = this.entries.get(key);
    return e?.child?.pid ?? e?.adopted?.pid ?? null;
  }

  /** Runs `spec` under `key`, restarting it if the spec changed; no-op when it already runs so. */
  ensure(key: string, spec: ProcessSpec): void {
    const e = this.entries.get(key);
    if (e && sameSpec(e.spec, spec)) return;
    if (e) this.stop(key);
    const entry: Entry = { spec, key, child: null, adopted: null, timer: null, restarts: 0, stopped: false };
    this.entries.set(key, entry);
    const orphan = this.orphans.get(key);
    if (orphan) {
      this.orphans.delete(key);
      if (sameSpec(orphan.spec, spec) && sameProcess(orphan)) {
        entry.adopted = orphan;
        this.emit('adopt', key, orphan.pid);
        return;
      }
      kill(orphan.pid); // asked for again, but otherwise: start it anew
      rmSync(this.pidFile(key), { force: true });
    }
    this.start(entry);
  }

  /** An adopted process that is gone is started again, as one of ours would be. */
  private watchAdopted(): void {
    for (const e of this.entries.values()) {
      if (!e.adopted || sameProcess(e.adopted)) continue;
      e.adopted = null;
      rmSync(this.pidFile(e.key), { force: true });
      this.exited(e, null, null);
    }
  }

  private exited(e: Entry, code: number | null, signal: NodeJS.Signals | null): void {
    if (e.stopped) return;
    this.emit('exit', e.key, code, signal);
    const delay = Math.min(200 * 2 ** Math.min(e.restarts, 3), 1000);
    e.restarts++;
    e.timer = setTimeout(() => this.start(e), delay);
  }

  private pidFile(key: string): string {
    return join(this.pidDir, key.replace(/[^a-zA-Z0-9_.-]/g, '_'));
  }

  private start(e: Entry): void {
    if (e.stopped) return;
    const out = openSync(e.spec.outputFile, 'a');
    const extra = (e.spec.appendFiles ?? []).map((f) => openSync(f, 'a'));
    const child = spawn(e.spec.argv[0], e.spec.argv.slice(1), {
      stdio: ['ignore', out, out, ...extra, ...(e.spec.ipc ? (['ipc'] as const) : [])],
      detached: true,
      // Nothing of the daemon's environment: a process runs as another identity, often a tenant's.
      env: { ...CHILD_ENV, ...e.spec.env },
      cwd: '/',
    });
    closeSync(out);
    for (const fd of extra) closeSync(fd);
    e.child = child;
    if (child.pid) {
      const record: Record = { ...(identityOf(child.pid) ?? { pid: child.pid, startTime: '', cmdline: '' }), key: e.key, spec: e.spec };
      writeFileSync(this.pidFile(e.key), JSON.stringify(record));
    }
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      if (e.child !== child) return;
      e.child = null;
      rmSync(this.pidFile(e.key), { force: true });
      this.exited(e, code, signal);
    });
    this.emit('start', e.key, child);
  }

  /**
   * Stops a process (SIGKILL to its group); resolves once it has exited, so that what it held
   * (a listening socket) is gone, or after 5 s.
   */
  stop(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return Promise.resolve();
    e.stopped = true;
    if (e.timer) clearTimeout(e.timer);
    const child = e.child;
    e.child = null;
    const adopted = e.adopted && sameProcess(e.adopted) ? e.adopted : null;
    if (child?.pid) kill(child.pid);
    if (adopted) kill(adopted.pid);
    e.adopted = null;
    rmSync(this.pidFile(key), { force: true });
    this.entries.delete(key);
    const until = Date.now() + 5_000;
    const childGone =
      child && child.exitCode === null && child.signalCode === null
        ? new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5_000);
            child.once('exit', () => (clearTimeout(timer), resolve()));
          })
        : Promise.resolve();
    const adoptedGone = async () => {
      while (adopted && sameProcess(adopted) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    };
    return Promise.all([childGone, adoptedGone()]).then(() => undefined);
  }

  /** Ends the process under `key` and starts it again with the same spec. */
  restart(key: string): void {
    const spec = this.specOf(key);
    if (!spec) return;
    this.stop(key);
    this.ensure(key, spec);
  }

  /** Ends every process, and stops watching. */
  stopAll(): void {
    for (const key of [...this.entries.keys()]) this.stop(key);
    clearInterval(this.poll);
  }
}
