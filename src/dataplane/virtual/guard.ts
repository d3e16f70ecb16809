/**
 * The loopback guard: keeps the installation's nftables table (rules.ts) equal to what the
 * store says, as a reconciler. The desired table is text; what the machine holds is the text
 * this guard last wrote, while the table is there (a full pass looks, so a table someone
 * deleted is written again). A change is one `nft -f` batch: the old table and the new one
 * swap atomically, with no moment without rules.
 */
import type { Store } from '../../store/db.js';
import type { ChangeFeed } from '../../resources/context.js';
import type { PlanStep } from '../../core/model/index.js';
import { compile } from '../../net/topology.js';
import { readSnapshot } from '../../resources/snapshot.js';
import { ReconcileLoop } from '../../reconcile/loop.js';
import type { ApplyResult, PassOptions, Reconciler } from '../../reconcile/reconciler.js';
import { run, type Runner } from '../linux/run.js';
import { guardRules, guardTable } from './rules.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Observed {
  present: boolean;
  text: string | null;
}

interface GuardPlan {
  text: string | null;
  steps: PlanStep[];
}

class GuardReconciler implements Reconciler<string, Observed, GuardPlan, PlanStep> {
  readonly name = 'loopback-guard';
  readonly table: string;
  written: string | null = null;

  constructor(
    private readonly store: Store,
    private readonly rangeBase: number,
    private readonly runner: Runner,
  ) {
    this.table = guardTable(rangeBase);
  }

  desired(): string {
    return guardRules(compile(readSnapshot(this.store)), this.rangeBase);
  }

  objects(): Iterable<string> {
    return [this.table];
  }

  async observe(_d: string, opts: PassOptions): Promise<Observed> {
    if (!opts.full && this.written !== null) return { present: true, text: this.written };
    const r = await this.runner('nft', ['list', 'table', 'inet', this.table]);
    return { present: r.code === 0, text: r.code === 0 ? this.written : null };
  }

  plan(desired: string, observed: Observed): GuardPlan {
    if (observed.present && observed.text === desired) return { text: null, steps: [] };
    return { text: desired, steps: [{ ns: 'host', object: `nft table inet ${this.table}`, action: observed.present ? 'updated' : 'created' }] };
  }

  steps(plan: GuardPlan): PlanStep[] {
    return plan.steps;
  }

  async apply(plan: GuardPlan): Promise<ApplyResult> {
    if (plan.text === null) return { errors: [], succeeded: [this.table], requeue: false };
    const r = await this.runner('nft', ['-f', '-'], { input: plan.text });
    if (r.code !== 0) {
      this.written = null;
      return { errors: [{ resourceId: this.table, message: `nft -f: ${r.stderr.trim().split('\n').slice(0, 3).join(' ')}` }], succeeded: [], requeue: false };
    }
    this.written = plan.text;
    return { errors: [], succeeded: [this.table], requeue: false };
  }

  async remove(): Promise<void> {
    await this.runner('nft', ['delete', 'table', 'inet', this.table]);
    this.written = null;
  }
}

/** Follows the store and keeps the loopback firewall equal to it. */
export class LoopbackGuard {
  private loop: ReconcileLoop<string, Observed, GuardPlan, PlanStep> | null = null;
  private markStarted!: () => void;
  private readonly started = new Promise<void>((r) => (this.markStarted = r));
  private reconciler: GuardReconciler | null = null;
  private readonly onChange = () => this.loop?.trigger();

  constructor(
    private readonly rangeBase: number,
    private readonly runner: Runner = run,
  ) {}

  get table(): string {
    return guardTable(this.rangeBase);
  }

  async start(store: Store, feed: ChangeFeed): Promise<void> {
    this.reconciler = new GuardReconciler(store, this.rangeBase, this.runner);
    this.loop = new ReconcileLoop(this.reconciler, { debounceMs: 10, gapFactor: 2, resyncMs: 10_000, resyncMaxMs: 60_000 });
    this.markStarted();
    feed.on('change', this.onChange);
    this.feed = feed;
    await this.loop.run({ full: true });
    this.loop.start();
  }

  private feed: ChangeFeed | null = null;

  /** Stops following, and removes the table: the workloads it guarded stop with the daemon. */
  async stop(): Promise<void> {
    this.feed?.off('change', this.onChange);
    await this.loop?.stop();
    await this.reconciler?.remove();
  }

  async settled(): Promise<void> {
    await this.started;
    return this.loop!.settled();
  }

  async sync() {
    await this.started;
    return this.loop!.run({ full: true });
  }

  async plan() {
    await this.started;
    return this.loop!.dryRun();
  }

  errors() {
    return this.loop?.errors() ?? [];
  }

  converged(): boolean {
    return this.loop?.converged() ?? false;
  }

  progress(): { seen: number; done: number } | undefined {
    return this.loop?.progress();
  }
}

/** Removes the guard table of the installation in `dataDir` (after a daemon was killed); its name, or null when there was none. */
export async function cleanGuard(dataDir: string, runner: Runner = run): Promise<string | null> {
  let second: string | undefined;
  try {
    second = /^127\.(\d+)\.0\.0\/16$/.exec(readFileSync(join(dataDir, 'workload-range'), 'utf8').trim())?.[1];
  } catch {
    return null;
  }
  if (!second) return null;
  const table = `nimbus_lo_127_${second}`;
  const r = await runner('nft', ['delete', 'table', 'inet', table]);
  return r.code === 0 ? table : null;
}
