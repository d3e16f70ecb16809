/**
 * Load balancers as a reconciler: desired, one worker process per load balancer that has a
 * listener, with the engine configuration its resources make (engine-config.ts); observed,
 * the workers the supervisor runs; the plan starts, restarts and stops workers and hands each
 * its configuration. The topology is compiled at most once a pass, and only when a member's
 * admission needs the analyzer (virtual plane): at 10,000 resources it is most of a pass.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadBalancer, PlanStep, SecurityGroup } from '../core/model/index.js';
import type { Store } from '../store/db.js';
import type { Dataplane } from '../dataplane/driver.js';
import type { ApplyResult, Reconciler } from '../reconcile/reconciler.js';
import type { EngineConfig, ListenerConfig, PoolConfig } from '../lb/config.js';
import { chooseEngine, type EngineChoice, type L7EngineName } from '../resources/load-balancer/engine-choice.js';
import { engineConfig, type MemberAdmission } from '../resources/load-balancer/engine-config.js';
import { lbEndpoint, readSnapshot } from '../resources/snapshot.js';
import { compile, type Topology } from '../net/topology.js';
import type { ProcessSpec, Supervisor } from './supervisor.js';
import { observeProcesses, planProcesses, type ProcessPlan } from './process-plan.js';
import { runtimeEntry } from './runtime.js';
import { controlSecret, prepareWorkerDir, workerDir } from './lb-dirs.js';
import { CONTROL_SECRET_ENV } from '../lb/control-socket.js';
import { dropsPrivilege, type RunAs } from '../dataplane/user.js';
import { stopHoldersOf } from './haproxy.js';

/** The worker's control socket (a next daemon adopts the worker over it), where the path fits a Unix socket's 107 bytes. */
export function controlArg(dir: string): string[] {
  const path = join(dir, 'control.sock');
  return Buffer.byteLength(path) <= 100 ? [path] : [];
}

/** The worker's arguments after its access log: its control socket ('-': none), and the number of workers when more than one. */
function workerArgs(dir: string, workers: number): string[] {
  const control = controlArg(dir);
  if (workers <= 1) return control;
  return [control[0] ?? '-', String(workers)];
}

export interface LbDesired {
  /** Every load balancer's member admissions (those without listeners too). */
  admissions: Map<string, Map<string, MemberAdmission>>;
  /** Per load balancer with listeners: its worker and its configuration. */
  workers: Map<string, { spec: ProcessSpec; config: EngineConfig; user: RunAs | null }>;
  /** The count of load-balancer changes this desired state includes. */
  changes: number;
  /** Per load balancer, which engine serves each listener and why. */
  engines: Map<string, Record<string, EngineChoice>>;
  /** Per load balancer with kernel listeners: those listeners and their pools (the worker only checks their members' health). */
  kernel: Map<string, { lb: LoadBalancer; listeners: { listener: ListenerConfig; pool: PoolConfig | null }[] }>;
}

export interface LbPlan extends ProcessPlan {
  desired: LbDesired;
}

/** What the reconciler does to the runtime it serves (LoadBalancers). */
export interface LbWorkerHost {
  /** Load-balancer changes seen so far. */
  changesSeen(): number;
  /** A pass applied: admissions, configurations, which load balancers have workers, changes done. */
  applied(desired: LbDesired, stopped: string[]): void;
}

export class LbReconciler implements Reconciler<LbDesired, Map<string, ProcessSpec>, LbPlan, PlanStep> {
  readonly name = 'load-balancers';

  constructor(
    private readonly store: Store,
    private readonly dataplane: Dataplane,
    private readonly supervisor: Supervisor,
    private readonly dataDir: string,
    private readonly host: LbWorkerHost,
    private readonly workloadFailure: (serverId: string) => string | null = () => null,
    /** 'available' where TCP listeners can be kernel rules (the linux plane), or why not. */
    private readonly kernelPath: string = 'the virtual data plane has no kernel path',
    private readonly l7: L7EngineName = 'builtin',
  ) {}

  desired(): LbDesired {
    const changes = this.host.changesSeen();
    const all = this.store.list<LoadBalancer>('loadBalancer');
    let compiled: Topology | null = null;
    const topology = () => (compiled ??= compile(readSnapshot(this.store)));
    const groups = all.length > 0 ? this.store.list<SecurityGroup>('securityGroup') : [];
    const desired: LbDesired = { admissions: new Map(), workers: new Map(), changes, engines: new Map(), kernel: new Map() };
    for (const lb of all) {
      const { config: full, admission } = engineConfig(this.store, lb, this.dataplane.kind, topology, this.workloadFailure);
      desired.admissions.set(lb.id, admission);
      if (full.listeners.length === 0) continue;
      const config = this.split(lb, full, desired);
      const dir = join(this.dataDir, 'lb', lb.id);
      const own = workerDir(this.dataDir, lb.id);
      const place = this.dataplane.placement(lbEndpoint(lb, groups));
      desired.workers.set(lb.id, {
        // The worker parses tenants' traffic: it runs as its load balancer's own id (the data plane's placement).
        spec: {
          argv: place.wrap(
            this.l7 === 'haproxy'
              ? [...runtimeEntry('lb-haproxy'), join(own, 'access.log'), controlArg(own)[0] ?? '-', String(lb.workers ?? 1)]
              : [...runtimeEntry('lb-worker'), join(own, 'access.log'), ...workerArgs(own, lb.workers ?? 1)],
          ),
          outputFile: join(dir, 'worker.log'),
          ipc: true,
          owner: place.user,
          env: { [CONTROL_SECRET_ENV]: controlSecret(this.dataDir, lb.id) },
        },
        config,
        user: place.user,
      });
    }
    return desired;
  }

  /** Notes each listener's engine; the worker's configuration keeps the user-space listeners (and every pool, whose health it checks). */
  private split(lb: LoadBalancer, config: EngineConfig, desired: LbDesired): EngineConfig {
    const engines: Record<string, EngineChoice> = {};
    const kernel: { listener: ListenerConfig; pool: PoolConfig | null }[] = [];
    for (const l of config.listeners) {
      const pool = config.pools.find((p) => p.id === l.poolId) ?? null;
      engines[l.id] = chooseEngine(l, pool, this.kernelPath, this.l7);
      if (engines[l.id].engine === 'kernel') kernel.push({ listener: l, pool });
    }
    desired.engines.set(lb.id, engines);
    if (kernel.length === 0) return config;
    desired.kernel.set(lb.id, { lb, listeners: kernel });
    return { ...config, listeners: config.listeners.filter((l) => engines[l.id].engine !== 'kernel') };
  }

  objects(desired: LbDesired): Iterable<string> {
    return desired.admissions.keys();
  }

  async observe(desired: LbDesired): Promise<Map<string, ProcessSpec>> {
    const sv = this.supervisor;
    const running = observeProcesses(sv.keys(), (k) => sv.specOf(k), 'lb-');
    // Workers go where the data plane puts them: wait for its namespaces first.
    if (desired.workers.size > 0 || running.size > 0) await this.dataplane.settled();
    return running;
  }

  plan(desired: LbDesired, observed: Map<string, ProcessSpec>): LbPlan {
    const specs = new Map([...desired.workers].map(([id, w]) => [id, w.spec]));
    return { ...planProcesses(specs, observed, 'load balancer worker'), desired };
  }

  steps(plan: LbPlan): PlanStep[] {
    return plan.steps;
  }

  async apply(plan: LbPlan): Promise<ApplyResult> {
    const errors: ApplyResult['errors'] = [];
    for (const [key, spec] of plan.ensure) {
      mkdirSync(join(this.dataDir, 'lb', key), { recursive: true });
      try {
        prepareWorkerDir(workerDir(this.dataDir, key), plan.desired.workers.get(key)?.user ?? null);
      } catch (err) {
        errors.push({ resourceId: key, message: (err as Error).message });
        continue;
      }
      this.supervisor.ensure(key, spec);
    }
    // A deleted load balancer's worker is gone, and its public sockets with it, when the pass ends.
    await Promise.all(plan.stop.map((key) => this.supervisor.stop(key)));
    for (const key of plan.stop) {
      // An HAProxy master a killed agent left (adopted by the next one) is not in the group the supervisor ended.
      stopHoldersOf(workerDir(this.dataDir, key));
      // The worker's own folder goes with it (its record, worker.log, stays in the data directory).
      if (dropsPrivilege()) rmSync(workerDir(this.dataDir, key), { recursive: true, force: true });
    }
    this.host.applied(plan.desired, plan.stop);
    return { errors, succeeded: [...plan.desired.admissions.keys()].filter((k) => !errors.some((e) => e.resourceId === k)), requeue: false };
  }
}
