/**
 * Which supervised processes cannot stay up: a process that exits within QUICK_MS of its start,
 * twice in a row, is failing (a workload that cannot bind its address, a command that does not
 * exist), with the last line it printed as the reason. It stops failing once it has run longer
 * than that. The server shows `error` with the reason, and a load balancer takes no traffic to
 * it (its member is ERROR).
 */
import { readFileSync } from 'node:fs';
import type { Supervisor } from './supervisor.js';

const QUICK_MS = 3_000;

interface Watch {
  startedAt: number;
  quickExits: number;
  lastCode: number | null;
}

export class CrashWatch {
  private readonly watches = new Map<string, Watch>();
  private readonly listeners: (() => void)[] = [];
  private readonly onStart = (key: string) => {
    if (!key.startsWith(this.prefix)) return;
    const w = this.watches.get(key) ?? { startedAt: 0, quickExits: 0, lastCode: null };
    w.startedAt = Date.now();
    this.watches.set(key, w);
    // Running past QUICK_MS means it came up: say so then.
    setTimeout(() => this.failure(key) === null && w.quickExits >= 2 && this.changed(), QUICK_MS + 50).unref();
  };
  private readonly onExit = (key: string, code: number | null) => {
    const w = this.watches.get(key);
    if (!w) return;
    const wasFailing = this.failing(w);
    w.quickExits = Date.now() - w.startedAt < QUICK_MS ? w.quickExits + 1 : 0;
    w.lastCode = code;
    if (this.failing(w) !== wasFailing) this.changed();
  };

  constructor(
    private readonly supervisor: Supervisor,
    private readonly prefix: string,
    private readonly outputOf: (key: string) => string,
  ) {
    supervisor.on('start', this.onStart);
    supervisor.on('exit', this.onExit);
  }

  close(): void {
    this.supervisor.off('start', this.onStart);
    this.supervisor.off('exit', this.onExit);
  }

  /** Calls `fn` whenever a process starts or stops failing. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  private failing(w: Watch): boolean {
    return w.quickExits >= 2 && Date.now() - w.startedAt < QUICK_MS + 1_000;
  }

  /** Why the process under `key` cannot stay up, or null while it does (or does not run). */
  failure(key: string): string | null {
    const w = this.watches.get(key);
    if (!w || w.quickExits < 2) return null;
    // A restart that has lived past QUICK_MS is up again.
    if (this.supervisor.pid(key) !== null && Date.now() - w.startedAt >= QUICK_MS) return null;
    return `its workload exits at once (code ${w.lastCode ?? '?'}): ${lastLine(this.outputOf(key))}`;
  }

  /** The keys failing now. */
  failingKeys(): string[] {
    return [...this.watches.keys()].filter((k) => this.failure(k) !== null);
  }

  /** The process is no longer wanted: its record goes. */
  forget(key: string): void {
    this.watches.delete(key);
  }
}

/** The last line a process wrote to its output file, or 'no output'. */
export function lastLine(file: string): string {
  try {
    const text = readFileSync(file, 'utf8').slice(-4096).trimEnd();
    return text.slice(text.lastIndexOf('\n') + 1).trim() || 'no output';
  } catch {
    return 'no output';
  }
}
