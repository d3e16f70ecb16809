/**
 * Load balancers at run time: one supervised worker process per load balancer that has a
 * listener, placed by the data plane (inside the load balancer's namespace on linux, on the
 * host on virtual). The daemon sends it the engine configuration on every change, opens the
 * public IP's listening sockets on the host and hands them over, and keeps what the worker
 * reports: member health and counters (for status and /metrics).
 */
import { createServer, type Server } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { Store } from '../store/db.js';
import type { Change, ChangeFeed } from '../resources/context.js';
import type { Listener, LoadBalancer, ProvisioningStatus, SecurityGroup } from '../resources/model.js';
import type { Dataplane } from '../dataplane/driver.js';
import type { Supervisor } from './supervisor.js';
import { SerialLoop } from '../reconcile/serial-loop.js';
import type { EngineConfig } from '../lb/config.js';
import { readAccessLog, type AccessRecord, type ListenerCounters, type MemberCounters } from '../lb/observe.js';
import { engineConfig, type MemberAdmission } from '../resources/load-balancer/engine-config.js';
import { lbEndpoint, readSnapshot } from '../resources/snapshot.js';
import { compile, type Topology } from '../net/topology.js';
import { TSX } from './workloads.js';

const WORKER = fileURLToPath(new URL('../lb/worker.ts', import.meta.url));
const LB_KINDS = new Set(['loadBalancer', 'listener', 'pool', 'member', 'healthMonitor']);

interface WorkerState {
  child: ChildProcess;
  ready: boolean;
  config: EngineConfig | null;
  /** `${listenerId}:${port}` of public sockets handed to this worker. */
  adopted: Set<string>;
  /** Configurations sent, and acknowledged as applied, by this worker process. */
  sent: number;
  applied: number;
  /** Public IP sockets being opened (not yet listening). */
  opening: number;
}

/** What the provisioning status of a load balancer is made from. */
export interface ProvisioningFacts {
  /** A change to a load-balancer resource that no reconcile pass has taken up yet. */
  changePending: boolean;
  /** The load balancer has listeners, so a worker should run its configuration. */
  hasListeners: boolean;
  /** Its worker process, if one has started: ready, configurations sent and applied, public sockets still being opened. */
  worker: { ready: boolean; sent: number; applied: number; opening: number } | null;
  /** A configuration was applied by some worker of it before (since the daemon started). */
  everApplied: boolean;
  /** A reconcile pass has seen the load balancer. */
  known: boolean;
}

/**
 * Octavia's provisioning status: ACTIVE once the worker runs the latest configuration;
 * PENDING_CREATE before any worker has applied one, PENDING_UPDATE while a newer one is on
 * its way (a change not yet reconciled, a worker starting again, a configuration not yet
 * acknowledged).
 */
export function provisioningStatus(f: ProvisioningFacts): ProvisioningStatus {
  const pending = f.changePending || (f.hasListeners && (!f.worker || !f.worker.ready || f.worker.applied < f.worker.sent || f.worker.sent === 0 || f.worker.opening > 0));
  if (!pending) return 'ACTIVE';
  return !f.known || (f.hasListeners && !f.everApplied) ? 'PENDING_CREATE' : 'PENDING_UPDATE';
}

export interface LbRuntimeStatus {
  running: boolean;
  health: Record<string, 'UP' | 'DOWN'>;
  admission: Record<string, string | null>;
  counters: { listeners: Record<string, ListenerCounters>; members: Record<string, MemberCounters> } | null;
  errors: string[];
}

export class LoadBalancers {
  private readonly loop = new SerialLoop(() => this.pass());
  private readonly workers = new Map<string, WorkerState>();
  private readonly health = new Map<string, Record<string, 'UP' | 'DOWN'>>();
  private readonly admissions = new Map<string, Map<string, MemberAdmission>>();
  private readonly counters = new Map<string, LbRuntimeStatus['counters']>();
  private readonly errors = new Map<string, string[]>();
  /** Changes to load-balancer resources seen, and how many of them the last finished pass had read. */
  private lbChanges = 0;
  private lbChangesDone = 0;
  private readonly everApplied = new Set<string>();
  /** The load balancers with listeners, as of the last pass (each has a worker). */
  private withListeners = new Set<string>();
  private readonly onChange = (c: Change) => {
    if (LB_KINDS.has(c.kind)) this.lbChanges++;
    this.loop.schedule();
  };
  private readonly onStart = (key: string, child: ChildProcess) => {
    if (key.startsWith('lb-')) this.attach(key, child);
  };

  constructor(
    private readonly store: Store,
    private readonly feed: ChangeFeed,
    private readonly dataplane: Dataplane,
    private readonly supervisor: Supervisor,
    private readonly dataDir: string,
  ) {}

  async start(): Promise<void> {
    this.feed.on('change', this.onChange);
    this.supervisor.on('start', this.onStart);
    await this.sync();
  }

  stop(): void {
    this.feed.off('change', this.onChange);
    this.supervisor.off('start', this.onStart);
    this.loop.stop();
    for (const key of this.supervisor.keys()) if (key.startsWith('lb-')) this.supervisor.stop(key);
  }

  sync(): Promise<void> {
    return this.loop.run();
  }

  private async pass(): Promise<void> {
    const seen = this.lbChanges;
    try {
      await this.reconcile();
    } finally {
      this.lbChangesDone = Math.max(this.lbChangesDone, seen);
    }
  }

  private async reconcile(): Promise<void> {
    const all = this.store.list<LoadBalancer>('loadBalancer');
    if (all.length === 0 && this.workers.size === 0 && !this.supervisor.keys().some((k) => k.startsWith('lb-'))) return;
    await this.dataplane.settled();
    // Compiled at most once a pass, and only if a member's admission needs the analyzer (virtual
    // plane): at 10,000 resources it is most of a pass.
    let compiled: Topology | null = null;
    const topology = () => (compiled ??= compile(readSnapshot(this.store)));
    const groups = this.store.list<SecurityGroup>('securityGroup');
    const want = new Set<string>();
    for (const lb of all) {
      const { config, admission } = engineConfig(this.store, lb, this.dataplane.kind, topology);
      this.admissions.set(lb.id, admission);
      if (config.listeners.length === 0) continue;
      want.add(lb.id);
      const dir = join(this.dataDir, 'lb', lb.id);
      mkdirSync(dir, { recursive: true });
      const place = this.dataplane.placement(lbEndpoint(lb, groups));
      this.supervisor.ensure(lb.id, {
        argv: place.wrap([process.execPath, '--import', TSX, WORKER, join(dir, 'access.log')]),
        outputFile: join(dir, 'worker.log'),
        ipc: true,
      });
      const w = this.workers.get(lb.id);
      if (w) {
        w.config = config;
        if (w.ready) this.push(w);
      } else {
        this.pendingConfig.set(lb.id, config);
      }
    }
    this.withListeners = want;
    for (const key of this.supervisor.keys()) {
      if (key.startsWith('lb-') && !want.has(key)) {
        this.supervisor.stop(key);
        this.workers.delete(key);
      }
    }
  }

  private readonly pendingConfig = new Map<string, EngineConfig>();

  private attach(lbId: string, child: ChildProcess): void {
    const w: WorkerState = { child, ready: false, config: this.pendingConfig.get(lbId) ?? this.workers.get(lbId)?.config ?? null, adopted: new Set(), sent: 0, applied: 0, opening: 0 };
    this.pendingConfig.delete(lbId);
    this.workers.set(lbId, w);
    this.errors.set(lbId, []);
    child.on('message', (msg: { type: string; id?: string; status?: 'UP' | 'DOWN'; message?: string; health?: Record<string, 'UP' | 'DOWN'>; counters?: LbRuntimeStatus['counters'] }) => {
      if (msg.type === 'ready') {
        w.ready = true;
        const lb = this.store.get<LoadBalancer>(lbId, 'loadBalancer');
        if (lb && w.config) this.push(w);
      } else if (msg.type === 'health' && msg.id) {
        const h = this.health.get(lbId) ?? {};
        h[msg.id] = msg.status!;
        this.health.set(lbId, h);
      } else if (msg.type === 'applied' || msg.type === 'metrics') {
        if (msg.health) this.health.set(lbId, msg.health);
        if (msg.counters) this.counters.set(lbId, msg.counters);
        if (msg.type === 'applied') {
          w.applied++;
          this.everApplied.add(lbId);
          this.adoptPublic(lbId, w);
        }
      } else if (msg.type === 'error' && msg.message) {
        const list = this.errors.get(lbId) ?? [];
        list.push(msg.message);
        this.errors.set(lbId, list.slice(-10));
      }
    });
    child.on('exit', () => {
      if (this.workers.get(lbId) === w) {
        this.workers.delete(lbId);
        if (w.config) this.pendingConfig.set(lbId, w.config);
      }
    });
  }

  private push(w: WorkerState): void {
    if (w.config && w.child.connected) {
      w.sent++;
      w.child.send({ type: 'config', config: w.config });
    }
  }

  /** Opens the public IP's sockets on the host and hands them to the worker (once per listener and port). */
  private adoptPublic(lbId: string, w: WorkerState): void {
    const lb = this.store.get<LoadBalancer>(lbId, 'loadBalancer');
    if (!lb?.publicIp || !w.child.connected) return;
    for (const l of this.store.list<Listener>('listener', { parentId: lb.id })) {
      const key = `${l.id}:${l.port}`;
      if (w.adopted.has(key)) continue;
      w.adopted.add(key);
      const server: Server = createServer({ pauseOnConnect: false });
      w.opening++;
      server.once('error', (err) => {
        w.opening--;
        w.adopted.delete(key);
        const list = this.errors.get(lbId) ?? [];
        list.push(`public listener ${lb.publicIp}:${l.port}: ${err.message}`);
        this.errors.set(lbId, list.slice(-10));
      });
      server.listen({ host: lb.publicIp, port: l.port, backlog: 1024 }, () => {
        // Listening: connections wait in the backlog until the worker takes the socket.
        w.opening--;
        w.child.send({ type: 'adopt', listenerId: l.id }, server, () => server.close());
      });
    }
  }

  /** The provisioning status of a load balancer now (see provisioningStatus). */
  provisioning(lbId: string): ProvisioningStatus {
    const w = this.workers.get(lbId);
    return provisioningStatus({
      changePending: this.lbChanges > this.lbChangesDone,
      hasListeners: this.withListeners.has(lbId),
      worker: w ? { ready: w.ready, sent: w.sent, applied: w.applied, opening: w.opening } : null,
      everApplied: this.everApplied.has(lbId),
      known: this.admissions.has(lbId),
    });
  }

  /** What the daemon knows of a load balancer at run time. */
  status(lbId: string): LbRuntimeStatus {
    const adm = this.admissions.get(lbId);
    return {
      running: this.workers.get(lbId)?.ready ?? false,
      health: this.health.get(lbId) ?? {},
      admission: adm ? Object.fromEntries([...adm].map(([id, a]) => [id, a.reason])) : {},
      counters: this.counters.get(lbId) ?? null,
      errors: this.errors.get(lbId) ?? [],
    };
  }

  /** The last `tail` lines of a load balancer's access log, oldest first (none before its first request). */
  accessLog(lbId: string, tail: number): AccessRecord[] {
    return readAccessLog(join(this.dataDir, 'lb', lbId, 'access.log'), tail);
  }

  /** Every load balancer's counters and health, for /metrics. */
  all(): [string, LbRuntimeStatus][] {
    return this.store.list<LoadBalancer>('loadBalancer').map((lb) => [lb.id, this.status(lb.id)]);
  }
}
