/**
 * The reconcile contract (controller-runtime's, level-based). A reconciler reads the desired
 * state from the store, observes the machine, plans the difference as data (pure), and applies
 * the plan. Every pass is idempotent: a pass right after a successful one plans nothing. The
 * loop (loop.ts) decides when passes run; a reconciler only says what one pass does.
 */

/** A problem with one object (a namespace, a workload, a load balancer), kept until it is fixed. */
export interface ObjectError {
  resourceId: string;
  message: string;
}

export interface PassOptions {
  /** Observe everything (repairs drift), not only what changed since the last pass. */
  full: boolean;
  /** false: plan only (a dry run); observe must then change nothing either. */
  apply: boolean;
}

export interface ApplyResult {
  errors: ObjectError[];
  /** Objects this pass brought to their desired state: their earlier errors are cleared. */
  succeeded: string[];
  /** Something waits for another object made in this pass: run again at once. */
  requeue: boolean;
}

export interface Reconciler<Desired, Observed, Plan, Step> {
  /** For logs and status. */
  readonly name: string;
  /** The desired state, read from the store. */
  desired(): Desired;
  /** Every object the desired state names (errors of objects it no longer names are dropped). */
  objects(desired: Desired): Iterable<string>;
  /** What the machine holds of it now (as much as `opts` asks for). */
  observe(desired: Desired, opts: PassOptions): Promise<Observed>;
  /** Pure: what would make `observed` become `desired`. */
  plan(desired: Desired, observed: Observed, opts: PassOptions): Plan;
  /** The plan's steps as people read them ("veth x has been created"). */
  steps(plan: Plan): Step[];
  apply(plan: Plan): Promise<ApplyResult>;
}
