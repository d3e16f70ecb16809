/**
 * The Linux data plane's reconciler: one pass makes the machine's namespaces match the desired
 * state, level-based (reconcile/reconciler.ts). It reads the desired state, lists our
 * namespaces, observes the ones it must (all of them in a full pass; in a pass for a change,
 * only those whose spec differs from what was last applied) in one process (observe-many.ts),
 * plans each namespace (pure,
 * plan.ts), then applies: one `ip -batch` on the host to create and delete namespaces, then
 * each router's script, then each server's (routers make the veths that servers configure),
 * one process per namespace, and group-membership changes as batched ruleset replacements.
 *
 * Every command goes through the Runner it is given, so a unit test drives a pass with a fake.
 */
import type { ApplyResult, ObjectError, PassOptions, Reconciler } from '../../reconcile/reconciler.js';
import type { Store } from '../../store/db.js';
import { readSnapshot } from '../../resources/snapshot.js';
import { desiredState, type DesiredState, type NsSpec } from './desired.js';
import { listNamespaces, observe, type Observed } from './observe.js';
import { observeMany } from './observe-many.js';
import { neighborLimits, readNeighborLimits, writeNeighborLimits } from './neighbors.js';
import { planNamespace, type NsPlan, type Step } from './plan.js';
import { isMachine, owned } from './names.js';
import { hostMachines, type Machines } from './machine.js';
import { inNamespace, pool, type Runner } from './run.js';
import { nftScript } from './nft.js';
import { removeServerEtc } from './attach.js';
import { machineScript, type EdgeSlot } from './edge.js';
import { chooseSlot } from './edge-slot.js';
import { uplinkHostEnd } from './names.js';

/** Processes replacing rulesets at once (their time is mostly the kernel's grace period). */
const RULESET_PROCESSES = 8;
const CONCURRENCY = 12;
/**
 * Up to this many namespaces to read, or machines to make, one small process each side by side
 * is sooner than one Python start (about 30 ms); beyond it, one process for all (a full pass
 * reads every namespace: 16 ms of CPU each the other way).
 */
const FEW = 4;

type Seen =
  | { kind: 'skip' }
  | { kind: 'nft-only' }
  | { kind: 'fresh' }
  | { kind: 'absent' }
  | { kind: 'observed'; observed: Observed }
  | { kind: 'failed'; message: string };

export interface LinuxObserved {
  /** A full pass: everything is applied again, the machine's edge table too. */
  full: boolean;
  existing: Set<string>;
  /** Servers' namespaces that are not machines (made before servers were): made again. */
  legacy: Set<string>;
  seen: Map<string, Seen>;
  /** The host's neighbor table limits (null where /proc cannot be read). */
  neighbors: { thresh2: number; thresh3: number } | null;
}

export interface LinuxPlan {
  hostBatch: string[];
  /** The machine's side of the edge (edge.ts machineScript), when it must be applied. */
  machineEdge: string | null;
  /** The host's neighbor table limits to raise first (neighbors.ts), or null. */
  neighbors: { thresh2: number; thresh3: number } | null;
  /** Servers' machines to make, after the host batch (which deletes the legacy ones first). */
  machines: { ns: string; resourceId: string }[];
  /** Machines whose user and uts namespaces go (their network namespace goes in the host batch). */
  unmachines: string[];
  steps: Step[];
  /** Routers first: they make the veths that servers then configure. */
  namespaces: { spec: NsSpec; text: string; plan: NsPlan }[];
  nftOnly: { spec: NsSpec; text: string }[];
  errors: ObjectError[];
}

/** What a namespace made in this pass holds: loopback (down) and, for a server whose router makes it now, eth0. */
function freshNamespace(withEth0: boolean): Observed {
  const links: Observed['links'] = new Map([['lo', { kind: null, up: false, master: null }]]);
  if (withEth0) links.set('eth0', { kind: 'veth', up: false, master: null });
  return { links, addrs: new Set(), routes: new Map(), rules: [], sysctl: '', nftHash: null };
}

/** Whether two specs of a namespace differ in their nftables ruleset and nothing else. */
function onlyNftDiffers(appliedText: string, spec: NsSpec): boolean {
  const before = JSON.parse(appliedText) as NsSpec;
  if (before.nftHash === spec.nftHash) return false;
  return JSON.stringify({ ...before, nft: '', nftHash: '' }) === JSON.stringify({ ...spec, nft: '', nftHash: '' });
}

export class LinuxReconciler implements Reconciler<DesiredState, LinuxObserved, LinuxPlan, Step> {
  readonly name: string = 'linux-dataplane';
  /** Spec text last applied with success, per namespace: a pass for a change skips the unchanged. */
  private readonly applied = new Map<string, string>();
  /** The machine's edge script last applied with success. */
  private machineApplied: string | null = null;
  private edgeSlot: EdgeSlot | null = null;

  constructor(
    protected readonly store: Store,
    readonly prefix: string,
    protected readonly runner: Runner,
    private readonly machines: Machines = hostMachines(runner),
  ) {}

  desired(): DesiredState {
    return desiredState(readSnapshot(this.store), this.prefix, this.slot());
  }

  /** The installation's link-local block on the machine: the first of its slots no other device routes. */
  protected slot(): EdgeSlot {
    if (!this.edgeSlot) this.edgeSlot = chooseSlot(this.prefix, uplinkHostEnd(this.prefix));
    return this.edgeSlot;
  }

  /** The namespaces this reconciler makes and deletes: all of the installation's. */
  protected manages(ns: string): boolean {
    return owned(this.prefix, ns);
  }

  objects(desired: DesiredState): string[] {
    return [...desired.namespaces.values()].map((s) => s.resourceId);
  }

  async observe(desired: DesiredState, opts: PassOptions): Promise<LinuxObserved> {
    const existing = new Set((await listNamespaces(this.runner)).filter((n) => this.manages(n)));
    const legacy = new Set([...existing].filter((n) => isMachine(this.prefix, n) && !this.machines.exists(n)));
    for (const n of legacy) existing.delete(n);
    const seen = new Map<string, Seen>();
    const toObserve: string[] = [];
    for (const spec of desired.namespaces.values()) {
      const before = this.applied.get(spec.name);
      const text = JSON.stringify(spec);
      const exists = existing.has(spec.name);
      if (!opts.full && exists && before === text) seen.set(spec.name, { kind: 'skip' });
      else if (opts.apply && !opts.full && exists && before !== undefined && onlyNftDiffers(before, spec)) seen.set(spec.name, { kind: 'nft-only' });
      // A namespace this pass makes holds only what this pass puts there: no need to look.
      else if (!exists) seen.set(spec.name, { kind: opts.apply ? 'fresh' : 'absent' });
      else toObserve.push(spec.name);
    }
    if (toObserve.length > FEW) {
      // Many (a full pass): all in one process (observe-many.ts).
      for (const [name, o] of await observeMany(toObserve, this.runner)) {
        seen.set(name, o instanceof Error ? { kind: 'failed', message: o.message } : { kind: 'observed', observed: o });
      }
    } else {
      // A few (a pass for a change): one small process each, side by side, sooner than one Python start.
      await pool(toObserve, CONCURRENCY, async (name) => {
        try {
          seen.set(name, { kind: 'observed', observed: await observe(name, this.runner) });
        } catch (err) {
          seen.set(name, { kind: 'failed', message: (err as Error).message });
        }
      });
    }
    let neighbors: LinuxObserved['neighbors'] = null;
    try {
      neighbors = readNeighborLimits();
    } catch {
      neighbors = null;
    }
    return { full: !!opts.full, existing, legacy, seen, neighbors };
  }

  plan(desired: DesiredState, o: LinuxObserved): LinuxPlan {
    const plan: LinuxPlan = {
      hostBatch: [],
      neighbors: null,
      machineEdge: null,
      machines: [],
      unmachines: [],
      steps: [],
      namespaces: [],
      nftOnly: [],
      errors: [],
    };
    const edgeScript = machineScript(this.prefix, uplinkHostEnd(this.prefix), this.slot(), desired.machine.mapped);
    if (o.full || edgeScript !== this.machineApplied) {
      plan.machineEdge = edgeScript;
      if (edgeScript !== this.machineApplied) plan.steps.push({ ns: 'host', object: 'elastic IP table', action: this.machineApplied ? 'updated' : 'created' });
    }
    const endpoints = [...desired.namespaces.values()].filter((s) => s.role === 'server').length;
    plan.neighbors = o.neighbors ? neighborLimits(endpoints, o.neighbors) : null;
    if (plan.neighbors) plan.steps.push({ ns: 'host', object: `neighbor table limit ${plan.neighbors.thresh3}`, action: 'updated' });
    for (const name of o.legacy) plan.hostBatch.push(`netns del ${name}`);
    for (const name of desired.namespaces.keys()) {
      if (o.existing.has(name)) continue;
      if (isMachine(this.prefix, name)) plan.machines.push({ ns: name, resourceId: desired.namespaces.get(name)!.resourceId });
      else plan.hostBatch.push(`netns add ${name}`);
      plan.steps.push({ ns: name, object: isMachine(this.prefix, name) ? 'machine' : 'namespace', action: o.legacy.has(name) ? 'updated' : 'created' });
    }
    for (const name of [...o.existing, ...o.legacy]) {
      if (desired.namespaces.has(name)) continue;
      if (o.existing.has(name)) plan.hostBatch.push(`netns del ${name}`);
      if (isMachine(this.prefix, name)) plan.unmachines.push(name);
      plan.steps.push({ ns: name, object: isMachine(this.prefix, name) ? 'machine' : 'namespace', action: 'deleted' });
    }
    /** Server namespaces whose eth0 their router creates in this pass. */
    const eth0Made = new Set<string>();
    for (const role of ['router', 'internet', 'server'] as const) {
      for (const spec of desired.namespaces.values()) {
        if (spec.role !== role) continue;
        const seen = o.seen.get(spec.name)!;
        const text = JSON.stringify(spec);
        if (seen.kind === 'skip') continue;
        if (seen.kind === 'nft-only') {
          // A group's membership changed: the ruleset alone is replaced, in one batch.
          plan.nftOnly.push({ spec, text });
          plan.steps.push({ ns: spec.name, object: 'nftables ruleset', action: 'updated' });
          continue;
        }
        if (seen.kind === 'failed') {
          plan.errors.push({ resourceId: spec.resourceId, message: seen.message });
          continue;
        }
        const observed = seen.kind === 'observed' ? seen.observed : seen.kind === 'fresh' ? freshNamespace(eth0Made.has(spec.name)) : undefined;
        const nsPlan = planNamespace(spec, observed);
        plan.steps.push(...nsPlan.steps);
        plan.namespaces.push({ spec, text, plan: nsPlan });
        for (const l of spec.create) {
          if (l.peer?.name === 'eth0' && nsPlan.steps.some((st) => st.object === `veth ${l.name}` && st.action === 'created')) eth0Made.add(l.peer.ns);
        }
      }
    }
    return plan;
  }

  steps(plan: LinuxPlan): Step[] {
    return plan.steps;
  }

  async apply(plan: LinuxPlan): Promise<ApplyResult> {
    const errors: ObjectError[] = [...plan.errors];
    const succeeded: string[] = [];
    let requeue = false;
    for (const e of plan.errors) this.forget(e.resourceId);
    if (plan.neighbors) {
      try {
        writeNeighborLimits(plan.neighbors);
      } catch (err) {
        errors.push({ resourceId: 'host', message: `raising the neighbor table limits: ${(err as Error).message}` });
      }
    }
    if (plan.hostBatch.length > 0) {
      const r = await this.runner('ip', ['-force', '-batch', '-'], { input: plan.hostBatch.join('\n') + '\n' });
      if (r.code !== 0) errors.push({ resourceId: 'host', message: `ip netns: ${r.stderr.trim()}` });
      for (const line of plan.hostBatch) {
        if (!line.startsWith('netns del ')) continue;
        const ns = line.slice('netns del '.length);
        this.applied.delete(ns);
        removeServerEtc(ns);
      }
    }
    for (const ns of plan.unmachines) await this.machines.remove(ns);
    if (this.machines.createMany && plan.machines.length > FEW) {
      // All in one process (machine.ts MACHINES_PROGRAM).
      const failed = await this.machines.createMany(plan.machines.map((m) => m.ns));
      for (const { ns, resourceId } of plan.machines) if (failed.has(ns)) errors.push({ resourceId, message: failed.get(ns)!.message });
    } else {
      await pool(plan.machines, CONCURRENCY, async ({ ns, resourceId }) => {
        try {
          await this.machines.create(ns);
        } catch (err) {
          errors.push({ resourceId, message: (err as Error).message });
        }
      });
    }
    for (const role of ['router', 'internet', 'server'] as const) {
      await pool(
        plan.namespaces.filter((n) => n.spec.role === role),
        CONCURRENCY,
        async ({ spec, text, plan: p }) => {
          try {
            if (p.script) {
              const r = await inNamespace(spec.name, p.script, undefined, this.runner);
              if (r.code !== 0) throw new Error(`applying ${spec.name}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join('; ')}`);
            }
            succeeded.push(spec.resourceId);
            if (p.waiting) {
              this.applied.delete(spec.name);
              requeue = true;
            } else this.applied.set(spec.name, text);
          } catch (err) {
            this.applied.delete(spec.name);
            errors.push({ resourceId: spec.resourceId, message: (err as Error).message });
          }
        },
      );
    }
    if (plan.nftOnly.length > 0 && !(await this.applyRulesets(plan.nftOnly, errors))) requeue = true;
    if (plan.machineEdge !== null) {
      const r = await this.runner('sh', ['-es'], { input: plan.machineEdge, timeoutMs: 30_000 });
      if (r.code === 0) this.machineApplied = plan.machineEdge;
      else {
        this.machineApplied = null;
        errors.push({ resourceId: 'internet', message: `the machine's elastic IP table: ${r.stderr.trim().split('\n').slice(-2).join('; ')}` });
      }
    }
    return { errors, succeeded, requeue };
  }

  /** Forgets what was applied to a resource's namespace: the next pass observes it again. */
  forget(resourceId: string): void {
    for (const [name, text] of this.applied) if ((JSON.parse(text) as NsSpec).resourceId === resourceId) this.applied.delete(name);
  }

  /**
   * Replaces the rulesets of many namespaces, several namespaces per process and several
   * processes at once: when a group's membership changes, every member's ruleset changes and
   * nothing else does. Replacing a table waits for the kernel's grace period (about 12 ms,
   * little of it CPU), so the processes run side by side. A failure sends those namespaces
   * through the full observe-and-plan path in the next pass. False when any chunk failed.
   */
  private async applyRulesets(items: { spec: NsSpec; text: string }[], errors: ObjectError[]): Promise<boolean> {
    const per = Math.max(4, Math.ceil(items.length / RULESET_PROCESSES));
    const chunks: (typeof items)[] = [];
    for (let i = 0; i < items.length; i += per) chunks.push(items.slice(i, i + per));
    let ok = true;
    await pool(chunks, RULESET_PROCESSES, async (chunk) => {
      const script = chunk
        .map(({ spec }) => `ip netns exec ${spec.name} nft -f - <<'NIMBUS_EOF'\n${nftScript(spec.nft, spec.nftHash, spec.ports)}NIMBUS_EOF`)
        .join('\n');
      const r = await this.runner('sh', ['-es'], { input: script + '\n', timeoutMs: 60_000 });
      for (const { spec, text } of chunk) {
        if (r.code === 0) this.applied.set(spec.name, text);
        else this.applied.delete(spec.name);
      }
      if (r.code !== 0) {
        ok = false;
        errors.push({ resourceId: chunk[0].spec.resourceId, message: `replacing rulesets: ${r.stderr.trim().split('\n').slice(-2).join('; ')}` });
      }
    });
    return ok;
  }
}
