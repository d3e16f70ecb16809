/**
 * Keeps processes running: each has a key and a spec; one that exits is started again
 * (after 200 ms, then up to a second), until it is stopped or its spec changes. Pids are
 * written to a folder, so a daemon killed with SIGKILL ends its orphans on the next start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { identityOf, sameProcess, type Identity } from './process-identity.js';

export interface ProcessSpec {
  argv: string[];
  /** Appends stdout and stderr here. */
  outputFile: string;
  /** Open an IPC channel (load balancer workers). */
  ipc?: boolean;
  /** The user the process runs as, when not the daemon's (for the record; the argv drops privileges). */
  owner?: { uid: number; gid: number } | null;
  /** Files opened for appending by the supervisor and given to the process as fds 3, 4, ... (it may not reach their folder itself). */
  appendFiles?: string[];
}

interface Entry {
  spec: ProcessSpec;
  key: string;
  child: ChildProcess | null;
  timer: NodeJS.Timeout | null;
  restarts: number;
  stopped: boolean;
}

export class Supervisor extends EventEmitter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly pidDir: string) {
    super();
    mkdirSync(pidDir, { recursive: true });
  }

  /**
   * Ends processes a previous daemon left behind (it was killed before it could): only those
   * whose pid, start time and command line are still what its pid file recorded.
   */
  reapOrphans(): number {
    let n = 0;
    for (const f of readdirSync(this.pidDir)) {
      let recorded: Identity | null = null;
      try {
        recorded = JSON.parse(readFileSync(join(this.pidDir, f), 'utf8')) as Identity;
      } catch {
        recorded = null; // an old plain pid, or a torn write: not enough to tell who it is
      }
      const pid = recorded?.pid ?? 0;
      if (!recorded || !Number.isInteger(pid) || pid <= 1 || !sameProcess(recorded)) {
        rmSync(join(this.pidDir, f), { force: true });
        continue;
      }
      try {
        process.kill(-pid, 'SIGKILL');
        n++;
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
          n++;
        } catch {
          // already gone
        }
      }
      rmSync(join(this.pidDir, f), { force: true });
    }
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

  /** Runs `spec` under `key`, restarting it if the spec changed; no-op when it already runs so. */
  ensure(key: string, spec: ProcessSpec): void {
    const e = this.entries.get(key);
    if (e && JSON.stringify(e.spec) === JSON.stringify(spec)) return;
    if (e) this.stop(key);
    const entry: Entry = { spec, key, child: null, timer: null, restarts: 0, stopped: false };
    this.entries.set(key, entry);
    this.start(entry);
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
    });
    closeSync(out);
    for (const fd of extra) closeSync(fd);
    e.child = child;
    if (child.pid) writeFileSync(this.pidFile(e.key), JSON.stringify(identityOf(child.pid) ?? { pid: child.pid, startTime: '', cmdline: '' }));
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      if (e.child !== child) return;
      e.child = null;
      rmSync(this.pidFile(e.key), { force: true });
      if (e.stopped) return;
      this.emit('exit', e.key, code, signal);
      const delay = Math.min(200 * 2 ** Math.min(e.restarts, 3), 1000);
      e.restarts++;
      e.timer = setTimeout(() => this.start(e), delay);
    });
    this.emit('start', e.key, child);
  }

  stop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.stopped = true;
    if (e.timer) clearTimeout(e.timer);
    const child = e.child;
    e.child = null;
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
    rmSync(this.pidFile(key), { force: true });
    this.entries.delete(key);
  }

  stopAll(): void {
    for (const key of [...this.entries.keys()]) this.stop(key);
  }
}
