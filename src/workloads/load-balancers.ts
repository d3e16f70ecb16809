/**
 * Load balancers at run time: one supervised worker process per load balancer that has a
 * listener, placed by the data plane (inside the load balancer's namespace on linux, on the
 * host on virtual). The daemon sends it the engine configuration on every change, opens the
 * public IP's listening sockets on the host and hands them over, and keeps what the worker
 * reports: member health and counters (for status and /metrics).
 *
 * A lone worker of Nimbus's own engine listens through a socket holder (lb/held-sockets.ts):
 * the daemon hands the public sockets into the holder, where they outlive the worker, and the
 * worker takes them from there. Others (HAProxy's agent, a primary of several workers) get
 * them over the IPC channel, and the daemon listens on them itself between two such workers.
 *
 * A worker outlives a daemon that is killed; the next daemon adopts it (the supervisor keeps
 * it when its spec is unchanged) and speaks to it over its control socket. Sockets cannot be
 * handed over that way: when an adopted worker without a holder needs a new public socket (a
 * listener added or moved since), the daemon starts it anew, and that load balancer alone
 * pauses for a moment.
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { controlLink, ipcLink, type WorkerLink } from './worker-link.js';
import { PublicHolds } from './public-hold.js';
import { portRefusal } from './reservations.js';
import { provisioningStatus } from './provisioning.js';
import type { Store } from '../store/db.js';
import type { Change, ChangeFeed } from '../resources/context.js';
import type { AccessRecord, Listener, LoadBalancer, PlanStep, ProvisioningStatus } from '../core/model/index.js';
import type { LbRuntime, LbRuntimeStatus } from '../resources/load-balancer/status.js';
import type { MemberAdmission } from '../resources/load-balancer/engine-config.js';
import type { Dataplane } from '../dataplane/driver.js';
import type { ProcessSpec, Supervisor } from './supervisor.js';
import { ReconcileLoop } from '../reconcile/loop.js';
import { configDigest, type EngineConfig } from '../lb/config.js';
import type { FromWorker, Health, ToWorker } from '../lb/ipc.js';
import { readAccessLog } from '../lb/observe.js';
import type { Workloads } from './workloads.js';
import { LbReconciler, controlArg, type LbDesired, type LbPlan, type LbWorkerHost } from './lb-reconciler.js';
import { connectControl } from '../lb/control-socket.js';
import { controlSecret, workerDir } from './lb-dirs.js';
import { KernelListeners, type KernelWant } from './kernel-listeners.js';
import { kernelPathOf, type EngineChoice, type L7EngineChoice } from '../resources/load-balancer/engine-choice.js';
import { counterName, type CounterValue } from '../dataplane/linux/l4.js';
import { stopHoldersOf } from './haproxy.js';
import { keepInHolder } from '../lb/held-sockets.js';

const LB_KINDS = new Set(['loadBalancer', 'listener', 'pool', 'member', 'healthMonitor', 'l7Policy']);

interface WorkerState {
  link: WorkerLink;
  ready: boolean;
  config: EngineConfig | null;
  /** `${listenerId}:${port}` of public sockets handed to this worker. */
  adopted: Set<string>;
  /** The number of the last configuration sent to this worker process, and of the newest it said it applied. */
  sent: number;
  applied: number;
  /** The digest of the last configuration sent (an unchanged one is not sent again). */
  pushed: string;
  /** Public IP sockets being opened (not yet listening). */
  opening: number;
  /** The worker listens through a socket holder: public sockets are handed into it, and outlive the worker (held-sockets.ts). */
  holder: boolean;
}

export class LoadBalancers implements LbRuntime, LbWorkerHost {
  private readonly loop: ReconcileLoop<LbDesired, Map<string, ProcessSpec>, LbPlan, PlanStep>;
  private readonly reconciler: LbReconciler;
  private readonly workers = new Map<string, WorkerState>();
  private readonly health = new Map<string, Record<string, Health>>();
  private admissions = new Map<string, Map<string, MemberAdmission>>();
  private readonly counters = new Map<string, LbRuntimeStatus['counters']>();
  private readonly errors = new Map<string, string[]>();
  /** Changes to load-balancer resources seen, and how many of them the last finished pass had read. */
  private lbChanges = 0;
  private lbChangesDone = 0;
  private readonly everApplied = new Set<string>();
  /** The load balancers with listeners, as of the last pass (each has a worker). */
  private withListeners = new Set<string>();
  /** Configurations for workers that have not started (or not said ready) yet. */
  private readonly pendingConfig = new Map<string, EngineConfig>();
  /** Per load balancer, the public sockets that could not be opened now, with why. */
  private readonly listenFailures = new Map<string, Map<string, string>>();
  private stopped = false;
  /** Public sockets the daemon listens on between a worker's death and the next worker. */
  private readonly holds = new PublicHolds();
  /** TCP listeners served by nftables rules (linux data plane), or null. */
  private readonly kernel: KernelListeners | null = null;
  private engines = new Map<string, Record<string, EngineChoice>>();
  private kernelWants = new Map<string, KernelWant>();
  private readonly onChange = (c: Change) => {
    if (LB_KINDS.has(c.kind)) this.lbChanges++;
    this.loop.trigger();
  };
  private readonly onStart = (key: string, child: ChildProcess) => {
    if (key.startsWith('lb-')) this.attach(key, ipcLink(child));
  };
  /** A worker a killed daemon left serving: speak to it over its control socket, or start it anew. */
  private readonly onAdopt = (key: string) => {
    if (!key.startsWith('lb-')) return;
    const path = controlArg(this.ownDir(key))[0];
    const restart = () => !this.stopped && this.supervisor.restart(key);
    if (!path) return restart();
    connectControl<FromWorker, ToWorker>(path, controlSecret(this.dataDir, key)).then(
      (line) => (this.stopped ? line.close() : this.attach(key, controlLink(line))),
      restart,
    );
  };

  constructor(
    private readonly store: Store,
    private readonly feed: ChangeFeed,
    dataplane: Dataplane,
    private readonly supervisor: Supervisor,
    private readonly dataDir: string,
    workloads?: Workloads,
    tcpEngine: 'kernel' | 'user-space' = 'kernel',
    /** The installation's layer-7 engine: HAProxy under an agent, or Nimbus's own worker. */
    readonly l7: L7EngineChoice = { engine: 'builtin', reason: "Nimbus's own engine" },
  ) {
    // A pass waits at least twice as long as the last one took (it may compile the whole topology).
    const failure = (id: string) => workloads?.failure(id) ?? null;
    const prefix = dataplane.kind !== 'virtual' ? (dataplane as unknown as { prefix: string }).prefix : null;
    const kernelPath = kernelPathOf(dataplane.kind, tcpEngine);
    if (kernelPath === 'available')
      this.kernel = new KernelListeners(
        prefix!,
        (id) => this.health.get(id) ?? {},
        () => dataplane.settled(),
      );
    this.reconciler = new LbReconciler(store, dataplane, supervisor, dataDir, this, failure, kernelPath, l7.engine);
    this.loop = new ReconcileLoop(this.reconciler, { debounceMs: 20, gapFactor: 2 });
    // A member's workload that starts or stops failing changes its admission.
    workloads?.crashes.onChange(() => this.loop.trigger());
    dataplane.onEndpointsChange?.(() => this.loop.trigger());
  }

  async start(): Promise<void> {
    this.feed.on('change', this.onChange);
    this.supervisor.on('start', this.onStart);
    this.supervisor.on('adopt', this.onAdopt);
    this.kernel?.start();
    await this.sync();
  }

  /** Stops following changes, waits for a pass in flight (it reads the store), ends the workers. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.feed.off('change', this.onChange);
    this.supervisor.off('start', this.onStart);
    this.supervisor.off('adopt', this.onAdopt);
    await this.loop.stop();
    await this.kernel?.stop();
    this.holds.keepOnly(new Set());
    for (const key of this.supervisor.keys()) {
      if (!key.startsWith('lb-')) continue;
      this.supervisor.stop(key);
      stopHoldersOf(this.ownDir(key));
    }
  }

  async sync(): Promise<void> {
    await this.loop.run();
    await this.kernel?.reconcileLoop.run();
  }

  changesSeen(): number {
    return this.lbChanges;
  }

  /** A reconcile pass ran: keep its admissions and hand each worker its configuration. */
  applied(desired: LbDesired, stopped: string[]): void {
    this.admissions = desired.admissions;
    this.engines = desired.engines;
    this.kernelWants = desired.kernel;
    this.kernel?.update(desired.kernel);
    this.withListeners = new Set(desired.workers.keys());
    for (const [lbId, { config }] of desired.workers) {
      const w = this.workers.get(lbId);
      // A listener now served by the kernel leaves the worker's configuration, which closes its
      // public socket there: forget it, so that it is handed over again if the listener comes back.
      // (Through a holder, the next hand-over lets it go there too.)
      for (const key of w?.holder ? [] : (w?.adopted ?? []))
        if (desired.engines.get(lbId)?.[key.slice(0, key.indexOf(':'))]?.engine === 'kernel') w!.adopted.delete(key);
      if (w) {
        w.config = config;
        // Every pass hands over what it computed; a worker that holds it already is left alone.
        if (w.ready && configDigest(config) !== w.pushed) this.push(w);
        // A public socket that could not be opened is tried again (whatever held the port may have let go).
        else if (w.ready && w.applied >= w.sent && this.listenFailures.get(lbId)?.size) this.adoptPublic(lbId, w);
      } else {
        this.pendingConfig.set(lbId, config);
      }
    }
    for (const key of stopped) this.workers.delete(key);
    // A load balancer that will have no worker (deleted, or no listener left) lets its held sockets go.
    this.holds.keepOnly(this.withListeners);
    this.lbChangesDone = Math.max(this.lbChangesDone, desired.changes);
  }

  private attach(lbId: string, link: WorkerLink): void {
    const w: WorkerState = {
      link,
      ready: false,
      config: this.pendingConfig.get(lbId) ?? this.workers.get(lbId)?.config ?? null,
      adopted: new Set(),
      sent: 0,
      applied: 0,
      pushed: '',
      opening: 0,
      holder: false,
    };
    this.pendingConfig.delete(lbId);
    this.workers.set(lbId, w);
    this.errors.set(lbId, []);
    link.onMessage((msg: FromWorker) => {
      // A message still on its way when the daemon stops finds the store closed: drop it.
      if (this.stopped) return;
      if (msg.type === 'ready') {
        w.ready = true;
        w.holder = msg.holder === true;
        // An adopted worker already holds these public sockets.
        for (const key of msg.public ?? []) w.adopted.add(key);
        const lb = this.store.get<LoadBalancer>(lbId, 'loadBalancer');
        if (lb && w.config) this.push(w);
      } else if (msg.type === 'health') {
        const h = this.health.get(lbId) ?? {};
        h[msg.id] = msg.status;
        this.setHealth(lbId, h);
      } else if (msg.type === 'metrics') {
        this.setHealth(lbId, msg.health);
        this.counters.set(lbId, msg.counters);
        // A worker that holds a configuration this daemon did not send (whoever sent it) is given ours
        // again; until it applies it, the load balancer is PENDING_UPDATE, not ACTIVE.
        if (msg.config !== undefined && w.config && w.applied >= w.sent && w.sent > 0 && msg.config !== configDigest(w.config)) {
          const list = this.errors.get(lbId) ?? [];
          list.push('the worker held a configuration the store does not say: it was given the stored one again');
          this.errors.set(lbId, list.slice(-10));
          this.push(w);
        }
      } else if (msg.type === 'applied') {
        this.setHealth(lbId, msg.health);
        // Several configurations sent in a row may be answered once, by the newest (a primary does so).
        w.applied = msg.seq === undefined ? w.applied + 1 : Math.max(w.applied, msg.seq);
        this.everApplied.add(lbId);
        this.adoptPublic(lbId, w);
      } else if (msg.type === 'lost-public') {
        // Every worker that held these sockets died at once: open them again.
        for (const key of msg.keys) w.adopted.delete(key);
        this.adoptPublic(lbId, w);
      } else if (msg.type === 'error') {
        const list = this.errors.get(lbId) ?? [];
        list.push(msg.message);
        this.errors.set(lbId, list.slice(-10));
      }
    });
    link.onGone(() => {
      if (this.workers.get(lbId) === w) {
        this.workers.delete(lbId);
        if (w.config) this.pendingConfig.set(lbId, w.config);
        // It died (or is being replaced): its public ports are listened on again at once, for the next one.
        // (Not once the daemon stops: its workers end with it, and the store is closed.)
        // A worker with a socket holder: the holder keeps them, and the next worker takes them from there.
        if (this.stopped || !w.link.handsSockets || w.holder) return;
        const ip = this.store.get<LoadBalancer>(lbId, 'loadBalancer')?.publicIp;
        if (ip) this.holds.hold(lbId, ip, w.adopted);
      }
    });
  }

  /** Members' health as the worker found it; the kernel listeners follow it. */
  private setHealth(lbId: string, h: Record<string, Health>): void {
    const before = this.health.get(lbId);
    this.health.set(lbId, { ...h });
    if (JSON.stringify(before ?? {}) !== JSON.stringify(h)) this.kernel?.healthChanged(lbId);
  }

  private push(w: WorkerState): void {
    if (w.config && w.link.connected()) {
      w.pushed = configDigest(w.config);
      w.link.send({ type: 'config', config: w.config, seq: ++w.sent });
    }
  }

  /** Opens the public IP's sockets on the host and hands them to the worker (once per listener and port). */
  private adoptPublic(lbId: string, w: WorkerState): void {
    const lb = this.store.get<LoadBalancer>(lbId, 'loadBalancer');
    if (w.holder && lb && w.link.connected()) return this.adoptThroughHolder(lbId, w, lb);
    if (!lb?.publicIp || !w.link.connected()) return;
    for (const l of this.store.list<Listener>('listener', { parentId: lb.id })) {
      const key = `${l.id}:${l.port}`;
      // A kernel listener's public IP is a rule on the host (kernel-listeners.ts), not a socket.
      if (w.adopted.has(key) || this.engines.get(lbId)?.[l.id]?.engine === 'kernel') continue;
      // An adopted worker cannot be handed a socket: a new one (started by this daemon) can.
      if (!w.link.handsSockets) {
        this.workers.delete(lbId);
        if (w.config) this.pendingConfig.set(lbId, w.config);
        this.supervisor.restart(lbId);
        return;
      }
      w.adopted.add(key);
      const held = this.holds.take(lbId, key);
      if (held) {
        // Held since the last worker died: handed over as it is, with the connections that waited.
        this.listenFailures.get(lbId)?.delete(key);
        w.link.send({ type: 'adopt', listenerId: l.id }, held.server, () => {
          held.server.close();
          for (const s of held.queued.splice(0)) w.link.send({ type: 'connection', listenerId: l.id }, s, () => s.destroy());
        });
        continue;
      }
      const server: Server = createServer({ pauseOnConnect: false });
      w.opening++;
      server.once('error', (err) => {
        w.opening--;
        w.adopted.delete(key);
        this.refusedPublic(lbId, key, portRefusal(`${lb.publicIp}:${l.port}`, err as NodeJS.ErrnoException));
      });
      server.listen({ host: lb.publicIp, port: l.port, backlog: 1024 }, () => {
        // Listening: connections wait in the backlog until the worker takes the socket.
        w.opening--;
        this.listenFailures.get(lbId)?.delete(key);
        w.link.send({ type: 'adopt', listenerId: l.id }, server, () => server.close());
      });
    }
  }

  /**
   * Opens the public IP's sockets on the host and hands them into the worker's socket holder,
   * where they outlive the worker; the worker takes them from there. Those no longer wanted
   * (a listener gone, or moved to another port) the holder lets go.
   */
  private adoptThroughHolder(lbId: string, w: WorkerState, lb: LoadBalancer): void {
    const wanted = new Map<string, number>();
    for (const l of this.store.list<Listener>('listener', { parentId: lb.id }))
      if (lb.publicIp && this.engines.get(lbId)?.[l.id]?.engine !== 'kernel') wanted.set(`${l.id}:${l.port}`, l.port);
    const stale = [...w.adopted].filter((k) => !wanted.has(k));
    const fresh = [...wanted.keys()].filter((k) => !w.adopted.has(k));
    if (fresh.length === 0 && stale.length === 0) return;
    for (const k of stale) w.adopted.delete(k);
    for (const k of fresh) w.adopted.add(k);
    w.opening++;
    const wants = fresh.map((key) => ({ key, host: lb.publicIp!, port: wanted.get(key)! }));
    void keepInHolder(this.ownDir(lbId), wants, [...w.adopted]).then((result) => {
      w.opening--;
      const kept = [...result].filter(([, failure]) => !failure).map(([key]) => key);
      for (const key of kept) this.listenFailures.get(lbId)?.delete(key);
      // One hand-over for all of them (the worker takes them from the holder in one go).
      if (kept.length) w.link.send({ type: 'take', keys: kept });
      for (const [key, failure] of result) {
        if (!failure) continue;
        w.adopted.delete(key);
        this.refusedPublic(lbId, key, portRefusal(`${lb.publicIp}:${wanted.get(key)}`, failure as NodeJS.ErrnoException));
      }
    });
  }

  /** A public socket that could not be opened: kept once, with its listener, until it is served (status shows it in errors); tried again on a pass soon (whatever held the port may let go). */
  private refusedPublic(lbId: string, key: string, why: string): void {
    const failing = this.listenFailures.get(lbId) ?? new Map<string, string>();
    failing.set(key, why);
    this.listenFailures.set(lbId, failing);
    setTimeout(() => this.loop.trigger(), 2_000).unref();
  }

  /** The folder a worker writes its access log and control socket in (lb-dirs.ts). */
  ownDir(lbId: string): string {
    return workerDir(this.dataDir, lbId);
  }

  /** Load balancers that cannot serve a listener now, with why (they are in ERROR). */
  problems(): { resourceId: string; message: string }[] {
    const ids = new Set([...this.listenFailures.keys(), ...this.withListeners]);
    return [...ids].flatMap((lbId) => this.failures(lbId).map((message) => ({ resourceId: lbId, message })));
  }

  /** Why a load balancer does not serve every listener (each reason once): public ports it cannot have, in either engine. */
  private failures(lbId: string): string[] {
    return [...new Set([...(this.listenFailures.get(lbId)?.values() ?? []), ...(this.kernel?.refused(lbId) ?? [])])];
  }

  /** The provisioning status of a load balancer now (see provisioningStatus). */
  provisioning(lbId: string): ProvisioningStatus {
    const w = this.workers.get(lbId);
    const status = provisioningStatus({
      changePending: this.lbChanges > this.lbChangesDone,
      hasListeners: this.withListeners.has(lbId),
      worker: w ? { ready: w.ready, sent: w.sent, applied: w.applied, opening: w.opening } : null,
      everApplied: this.everApplied.has(lbId),
      known: this.admissions.has(lbId),
      failing: this.failures(lbId).length,
    });
    // Kernel listeners not yet in the namespace as asked: still on the way.
    return status === 'ACTIVE' && this.kernel?.pending(lbId) ? 'PENDING_UPDATE' : status;
  }

  /** What the daemon knows of a load balancer at run time. */
  status(lbId: string): LbRuntimeStatus {
    const adm = this.admissions.get(lbId);
    return {
      running: this.workers.get(lbId)?.ready ?? false,
      health: this.health.get(lbId) ?? {},
      admission: adm ? Object.fromEntries([...adm].map(([id, a]) => [id, a.refusal])) : {},
      counters: this.withKernelCounters(lbId, this.counters.get(lbId) ?? null),
      // Each reason once, however often it happened.
      errors: [
        ...new Set([
          ...this.failures(lbId),
          ...(this.errors.get(lbId) ?? []),
          ...(this.kernel?.errors() ?? []).filter((e) => e.resourceId === lbId).map((e) => e.message),
        ]),
      ],
      engines: this.engines.get(lbId) ?? {},
    };
  }

  /** The worker's counters with the kernel listeners' (nft counters: new connections, packets and bytes each way). */
  private withKernelCounters(lbId: string, counters: LbRuntimeStatus['counters']): LbRuntimeStatus['counters'] {
    const want = this.kernelWants.get(lbId);
    const values = this.kernel?.countersOf(lbId);
    if (!want || !values) return counters;
    const out: NonNullable<LbRuntimeStatus['counters']> = { listeners: { ...counters?.listeners }, members: { ...counters?.members } };
    const zero: CounterValue = { packets: 0, bytes: 0 };
    for (const { listener, pool } of want.listeners) {
      const lc = { connections: 0, refused: 0, active: 0, requests: {} as Record<string, number>, bytesIn: 0, bytesOut: 0 };
      for (const m of pool?.members ?? []) {
        const n = values.get(counterName('n', listener.id, m.id)) ?? zero;
        const o = values.get(counterName('o', listener.id, m.id)) ?? zero;
        const r = values.get(counterName('r', listener.id, m.id)) ?? zero;
        lc.connections += n.packets;
        lc.bytesIn += o.bytes;
        lc.bytesOut += r.bytes;
        const mc = out.members[m.id] ?? { requests: 0, connectFailures: 0, active: 0, up: 1, redispatched: 0 };
        out.members[m.id] = {
          ...mc,
          requests: mc.requests + n.packets,
          packets: (mc.packets ?? 0) + o.packets + r.packets,
          bytes: (mc.bytes ?? 0) + o.bytes + r.bytes,
        };
      }
      lc.requests = { connections: lc.connections };
      out.listeners[listener.id] = lc;
    }
    return out;
  }

  /** The last `tail` lines of a load balancer's access log, oldest first (none before its first request). */
  accessLog(lbId: string, tail: number): AccessRecord[] {
    return readAccessLog(join(this.ownDir(lbId), 'access.log'), tail);
  }

  /** Every load balancer's counters and health, for /metrics. */
  all(): [string, LbRuntimeStatus][] {
    return this.store.list<LoadBalancer>('loadBalancer').map((lb) => [lb.id, this.status(lb.id)]);
  }
}
