/**
 * Server workloads: every running server with an app has its process, placed by the data
 * plane (inside the server's namespace on linux, on the server's loopback address on
 * virtual), supervised, and stopped when the server stops or goes away.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/db.js';
import type { Change, ChangeFeed } from '../resources/context.js';
import type { Server, ServerLogs, WorkloadRequest } from '../core/model/index.js';
import { parseApp } from '../core/model/index.js';
import type { Dataplane } from '../dataplane/driver.js';
import type { ProcessSpec, Supervisor } from './supervisor.js';
import { ReconcileLoop } from '../reconcile/loop.js';
import { CrashWatch } from './crash-watch.js';
import { runtimeEntry } from './runtime.js';
import { SupervisedReconciler } from './process-plan.js';
import { AppHost } from './app-host.js';
import { internetEndpoint, internetExists, internetHosts } from '../resources/edge/internet.js';

/** Server workloads as a reconciler: desired from the store, observed from the supervisor. */
class WorkloadReconciler extends SupervisedReconciler {
  readonly name = 'workloads';
  constructor(private readonly w: Workloads) {
    super(w, ['ecs-', 'inet-'], 'workload');
  }

  desired(): Map<string, ProcessSpec> {
    const want = new Map<string, ProcessSpec>();
    for (const server of this.w.store.list<Server>('server')) {
      if (!server.app || server.status !== 'running') continue;
      if (this.w.apps?.hosts(server)) continue; // served by the app host
      const dir = this.w.dirOf(server.id);
      const place = this.w.dataplane.placement(server);
      const app = parseApp(server.app);
      const argv =
        app.kind === 'web'
          ? [...runtimeEntry('web'), '--name', server.name, '--ip', server.privateIp, '--port', String(app.port), '--bind', place.bind, '--log-fd', '3']
          : ['sh', '-c', app.command];
      want.set(server.id, {
        argv: place.wrap(argv),
        outputFile: join(dir, 'output.log'),
        owner: place.user,
        ...(app.kind === 'web' ? { appendFiles: [join(dir, 'requests.log')] } : {}),
      });
    }
    // The internet's hosts run their app where the internet is real (the linux and ovn planes, once it exists).
    if (this.w.dataplane.kind !== 'virtual' && internetExists(this.w.store)) {
      for (const host of internetHosts(this.w.store)) {
        const place = this.w.dataplane.placement(internetEndpoint(host));
        want.set(host.id, {
          argv: place.wrap([...runtimeEntry('internet'), '--name', host.name, '--ip', host.ip]),
          outputFile: join(this.w.dirOf(host.id), 'output.log'),
          owner: place.user,
        });
      }
    }
    return want;
  }

  protected dirOf(key: string): string {
    return this.w.dirOf(key);
  }

  protected override stopped(key: string): void {
    this.w.crashes.forget(key);
    // A deleted server's own /root and /tmp go with it (a stopped one keeps them).
    if (!this.w.store.get(key, 'server')) rmSync(join(this.w.dataDirOf(), 'machines', key), { recursive: true, force: true });
  }
}

export class Workloads {
  /** A pass waits at least twice as long as the last one took (it reads the whole store). */
  private readonly loop = new ReconcileLoop(new WorkloadReconciler(this), { debounceMs: 20, gapFactor: 2 });
  /** Only a server's change can change its workload. */
  private readonly onChange = (c: Change) => {
    if (c.kind === 'server' || c.kind === 'internetHost' || c.kind === 'internetGateway' || c.kind === 'vpc') this.loop.trigger();
    if (c.kind === 'server') {
      this.apps?.loop.trigger();
      // A deleted server's request log goes with it.
      if (c.op === 'deleted') this.apps?.forget(c.id);
    }
  };

  /** The app host that serves the servers' built-in web apps, where the data plane has one (linux). */
  readonly apps: AppHost | null;

  /** Which workloads cannot stay up (a server shows `error`, a load balancer sends them nothing). */
  readonly crashes: CrashWatch;

  constructor(
    readonly store: Store,
    private readonly feed: ChangeFeed,
    readonly dataplane: Dataplane,
    readonly supervisor: Supervisor,
    private readonly dataDir: string,
  ) {
    this.crashes = new CrashWatch(supervisor, 'ecs-', (key) => join(this.dirOf(key), 'output.log'));
    this.apps = dataplane.appHost ? new AppHost(store, dataplane, supervisor, dataDir) : null;
  }

  /** Why a server's workload cannot stay up, or null. */
  failure(serverId: string): string | null {
    return this.crashes.failure(serverId) ?? this.apps?.failure(serverId) ?? this.dataplane.endpointFailure?.(serverId) ?? null;
  }

  /** Servers whose workloads cannot stay up now. */
  failing(): string[] {
    return [...this.crashes.failingKeys(), ...(this.apps?.failing() ?? [])];
  }

  dataDirOf(): string {
    return this.dataDir;
  }

  dirOf(serverId: string): string {
    return join(this.dataDir, 'workloads', serverId);
  }

  async start(): Promise<void> {
    this.feed.on('change', this.onChange);
    await Promise.all([this.sync(), this.apps?.start()]);
  }

  /** Stops following changes, waits for a pass in flight (it reads the store), ends the workloads. */
  async stop(): Promise<void> {
    this.feed.off('change', this.onChange);
    await this.loop.stop();
    await this.apps?.stop();
    this.crashes.close();
    for (const key of this.supervisor.keys()) if (key.startsWith('ecs-') || key.startsWith('inet-')) this.supervisor.stop(key);
  }

  async sync(): Promise<void> {
    await this.loop.run();
  }

  /** The request log of a server's web app (JSON lines), and the tail of its output. */
  logs(serverId: string): ServerLogs {
    const dir = this.dirOf(serverId);
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
    const server = this.store.get<Server>(serverId, 'server');
    const hosted = server && this.apps?.hosts(server);
    const requests = (hosted ? this.apps!.requestLog(serverId) : read('requests.log'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as WorkloadRequest);
    return { requests, output: hosted ? this.apps!.output(serverId) : read('output.log').slice(-16_384) };
  }
}
