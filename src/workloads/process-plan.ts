/**
 * The plan shared by the reconcilers of supervised processes (server workloads, load-balancer
 * workers): which keys to start or restart with a new spec, and which to stop. Pure.
 */
import { mkdirSync } from 'node:fs';
import type { PlanStep } from '../core/model/index.js';
import type { ApplyResult, Reconciler } from '../reconcile/reconciler.js';
import type { ProcessSpec, Supervisor } from './supervisor.js';

export interface ProcessPlan {
  ensure: [key: string, spec: ProcessSpec][];
  stop: string[];
  steps: PlanStep[];
}

/** What makes the processes running now (`observed`, by key) become `desired`. */
export function planProcesses(desired: Map<string, ProcessSpec>, observed: Map<string, ProcessSpec>, what: string): ProcessPlan {
  const plan: ProcessPlan = { ensure: [], stop: [], steps: [] };
  for (const [key, spec] of desired) {
    const now = observed.get(key);
    plan.ensure.push([key, spec]);
    if (!now) plan.steps.push({ ns: key, object: what, action: 'created' });
    else if (JSON.stringify(now) !== JSON.stringify(spec)) plan.steps.push({ ns: key, object: what, action: 'updated' });
  }
  for (const key of observed.keys()) {
    if (desired.has(key)) continue;
    plan.stop.push(key);
    plan.steps.push({ ns: key, object: what, action: 'deleted' });
  }
  return plan;
}

/** The processes of one kind running now (keys that start with `prefix`), with their specs. */
export function observeProcesses(keys: string[], specOf: (key: string) => ProcessSpec | null, prefix: string): Map<string, ProcessSpec> {
  const out = new Map<string, ProcessSpec>();
  for (const k of keys) {
    const spec = k.startsWith(prefix) ? specOf(k) : null;
    if (spec) out.set(k, spec);
  }
  return out;
}

/**
 * A reconciler of supervised processes of some kinds (keys with given prefixes): desired is
 * its own; observed is the supervisor's; a process to keep gets its folder, then is ensured;
 * one to end is stopped, then `stopped` is told.
 */
export abstract class SupervisedReconciler implements Reconciler<Map<string, ProcessSpec>, Map<string, ProcessSpec>, ProcessPlan, PlanStep> {
  abstract readonly name: string;

  constructor(
    /** Read when a pass runs (an owner's fields may not be set yet when it makes its reconciler). */
    private readonly owner: { readonly supervisor: Supervisor; readonly dataplane: { settled(): Promise<void> } },
    private readonly prefixes: string[],
    /** What a step calls one process: `workload`, `dns resolver`. */
    private readonly what: string,
  ) {}

  private get supervisor(): Supervisor {
    return this.owner.supervisor;
  }

  abstract desired(): Map<string, ProcessSpec>;
  /** The folder a process's files live in. */
  protected abstract dirOf(key: string): string;
  protected stopped(_key: string): void {}

  objects(desired: Map<string, ProcessSpec>): Iterable<string> {
    return desired.keys();
  }

  async observe(): Promise<Map<string, ProcessSpec>> {
    // The data plane makes what the processes run in first.
    await this.owner.dataplane.settled();
    const sv = this.supervisor;
    return new Map(this.prefixes.flatMap((p) => [...observeProcesses(sv.keys(), (k) => sv.specOf(k), p)]));
  }

  plan(desired: Map<string, ProcessSpec>, observed: Map<string, ProcessSpec>): ProcessPlan {
    return planProcesses(desired, observed, this.what);
  }

  steps(plan: ProcessPlan): PlanStep[] {
    return plan.steps;
  }

  async apply(plan: ProcessPlan): Promise<ApplyResult> {
    for (const [key, spec] of plan.ensure) {
      mkdirSync(this.dirOf(key), { recursive: true });
      this.supervisor.ensure(key, spec);
    }
    for (const key of plan.stop) {
      this.supervisor.stop(key);
      this.stopped(key);
    }
    return { errors: [], succeeded: plan.ensure.map(([k]) => k), requeue: false };
  }
}
