/**
 * The plan shared by the reconcilers of supervised processes (server workloads, load-balancer
 * workers): which keys to start or restart with a new spec, and which to stop. Pure.
 */
import type { PlanStep } from '../core/model/index.js';
import type { ProcessSpec } from './supervisor.js';

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
