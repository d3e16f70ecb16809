/**
 * The one reconcile loop every reconciler runs on (the Linux data plane, server workloads,
 * load balancers). It owns the timing, so reconcilers own only what a pass does:
 * - passes never overlap; a request during a pass makes exactly one more pass after it;
 * - `trigger()` (a change in the store) asks for a pass after a short delay, so a burst of
 *   changes costs one pass; the delay is at least `gapFactor` times the last pass, so a long
 *   pass cannot take all of the daemon's time during an endless burst;
 * - a full pass (everything observed, drift repaired) every `resyncMs` once changes have been
 *   quiet that long, and at least every `resyncMaxMs` during endless changes;
 * - errors are kept per object, with their count of failures, and a pass that leaves errors
 *   schedules the next one with exponential backoff;
 * - a pass whose apply asks to requeue is followed at once by up to two more, reported as one.
 */
import type { ApplyResult, ObjectError, PassOptions, Reconciler } from './reconciler.js';

export interface LoopOptions {
  debounceMs?: number;
  /** The delay after a trigger is at least this many times the last pass's duration. */
  gapFactor?: number;
  /** Periodic full passes (none when absent). */
  resyncMs?: number;
  resyncMaxMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface PassReport<Step> {
  steps: Step[];
  errors: ObjectError[];
  ms: number;
}

const MAX_REQUEUES = 2;
const TRACE = !!process.env.NIMBUS_TRACE_PASSES;

export class ReconcileLoop<D, O, P, Step> {
  private running: Promise<PassReport<Step>> | null = null;
  private again = false;
  private wantFull = false;
  private timer: NodeJS.Timeout | null = null;
  private resync: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastMs = 0;
  private lastChange = 0;
  private lastFull = 0;
  private readonly failures = new Map<string, ObjectError & { failures: number }>();
  /** Passes asked for so far (each trigger and run), and how many of them a finished pass had taken in. */
  private asked = 0;
  private through = 0;
  /** The last pass's report (null before the first). */
  last: PassReport<Step> | null = null;
  private readonly o: Required<Omit<LoopOptions, 'resyncMs' | 'resyncMaxMs'>> & Pick<LoopOptions, 'resyncMs' | 'resyncMaxMs'>;

  constructor(
    readonly reconciler: Reconciler<D, O, P, Step>,
    opts: LoopOptions = {},
  ) {
    this.o = { debounceMs: 20, gapFactor: 0, backoffBaseMs: 200, backoffMaxMs: 10_000, ...opts };
  }

  /** Starts the periodic full passes (if configured); passes on demand work without it. */
  start(): void {
    const every = this.o.resyncMs;
    if (!every || this.resync) return;
    this.resync = setInterval(() => {
      const now = performance.now();
      if (now - this.lastChange < every && now - this.lastFull < (this.o.resyncMaxMs ?? Infinity)) return;
      this.wantFull = true;
      this.schedule(0);
    }, every);
    this.resync.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resync) clearInterval(this.resync);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** Something changed: a pass soon, coalescing with others asked for meanwhile. */
  trigger(): void {
    this.asked++;
    this.lastChange = performance.now();
    this.schedule(Math.max(this.o.debounceMs, this.o.gapFactor * this.lastMs));
  }

  /** A pass now (full: everything observed), or right after the one running; resolves with a pass that began after this call. */
  async run(opts: { full?: boolean } = {}): Promise<PassReport<Step>> {
    this.asked++;
    if (opts.full) this.wantFull = true;
    if (this.running) {
      this.again = true;
      await this.running.catch(() => undefined);
      if (this.running) return this.running;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.again = false;
    const t0 = performance.now();
    this.running = this.passes();
    try {
      const report = await this.running;
      this.last = report;
      return report;
    } finally {
      this.lastMs = performance.now() - t0;
      this.running = null;
      if (!this.stopped) {
        if (this.again) this.schedule(0);
        else if (this.failures.size > 0) {
          const worst = Math.max(...[...this.failures.values()].map((e) => e.failures));
          this.schedule(Math.min(this.o.backoffBaseMs * 2 ** (worst - 1), this.o.backoffMaxMs));
        }
      }
    }
  }

  /** What a pass would change now, changing nothing (every object observed). */
  async dryRun(): Promise<Step[]> {
    const r = this.reconciler;
    const opts: PassOptions = { full: true, apply: false };
    const desired = r.desired();
    return r.steps(r.plan(desired, await r.observe(desired, opts), opts));
  }

  /** Resolves once the changes asked for so far have been through a pass. */
  async settled(): Promise<void> {
    for (let i = 0; i < 5 && (this.timer || this.running || this.again); i++) await this.run();
  }

  /** Objects in error now, with their messages. */
  errors(): ObjectError[] {
    return [...this.failures.values()].map(({ resourceId, message }) => ({ resourceId, message }));
  }

  /** No error, a pass done, none running or asked for. */
  converged(): boolean {
    return this.failures.size === 0 && this.last !== null && !this.running && !this.timer && !this.again;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run().catch(() => undefined);
    }, delayMs);
  }

  private async passes(): Promise<PassReport<Step>> {
    // Everything asked for until now is read by this pass's desired state.
    const from = this.asked;
    const full = this.wantFull;
    this.wantFull = false;
    if (full) this.lastFull = performance.now();
    let report = await this.pass(full);
    for (let i = 0; i < MAX_REQUEUES && report.requeue; i++) {
      const next = await this.pass(false);
      report = { steps: [...report.steps, ...next.steps], errors: next.errors, ms: report.ms + next.ms, requeue: next.requeue };
    }
    this.through = Math.max(this.through, from);
    return { steps: report.steps, errors: report.errors, ms: report.ms };
  }

  /**
   * Changes seen (passes asked for) and how many of them a finished pass has taken in: a change
   * made when `seen` was N is in effect once `done` reaches N, however busy the loop is since.
   */
  progress(): { seen: number; done: number } {
    return { seen: this.asked, done: this.through };
  }

  private async pass(full: boolean): Promise<PassReport<Step> & { requeue: boolean }> {
    const t0 = performance.now();
    const r = this.reconciler;
    const opts: PassOptions = { full, apply: true };
    let result: ApplyResult;
    let steps: Step[] = [];
    let objects: Iterable<string> | null = null;
    const times: number[] = [];
    try {
      const desired = r.desired();
      objects = r.objects(desired);
      times.push(performance.now() - t0);
      const observed = await r.observe(desired, opts);
      times.push(performance.now() - t0);
      const plan = r.plan(desired, observed, opts);
      steps = r.steps(plan);
      times.push(performance.now() - t0);
      result = await r.apply(plan);
      times.push(performance.now() - t0);
    } catch (err) {
      // A pass that failed as a whole (the store or the machine could not be read).
      result = { errors: [{ resourceId: r.name, message: (err as Error).message }], succeeded: [], requeue: false };
    }
    this.record(result, objects);
    // NIMBUS_TRACE_PASSES=1: one line per pass on stderr, with where its time went (docs/performance.md).
    if (TRACE) {
      const [d = 0, o = d, p = o, a = p] = times;
      process.stderr.write(
        `pass ${r.name}${full ? ' (full)' : ''}: desired ${d.toFixed(0)} ms, observe ${(o - d).toFixed(0)}, plan ${(p - o).toFixed(0)}, apply ${(a - p).toFixed(0)}; ${steps.length} steps, ${result.errors.length} errors\n`,
      );
    }
    return { steps, errors: result.errors, ms: performance.now() - t0, requeue: result.requeue };
  }

  private record(result: ApplyResult, objects: Iterable<string> | null): void {
    for (const id of result.succeeded) this.failures.delete(id);
    if (!result.errors.some((e) => e.resourceId === this.reconciler.name)) this.failures.delete(this.reconciler.name);
    for (const e of result.errors) this.failures.set(e.resourceId, { ...e, failures: (this.failures.get(e.resourceId)?.failures ?? 0) + 1 });
    if (objects) {
      const live = new Set(objects);
      live.add(this.reconciler.name);
      for (const id of this.failures.keys()) if (!live.has(id)) this.failures.delete(id);
    }
  }
}
