/**
 * The servers' built-in web apps on the linux plane, served by one app host process
 * (apps/app-host.ts) instead of one Node.js process per server: a server then costs its
 * namespace, its links and a socket, not a runtime of its own.
 *
 * A reconciler: desired is every running server with `--app web` (its namespace, port, name
 * and IP); observed is what the app host serves now, and the identity (inode) of each
 * server's namespace, so a namespace made anew gets a new socket; a pass opens the missing
 * sockets in one batch (socket-opener.ts), hands each to the app host, and closes those of
 * servers stopped or gone. The app host runs under a key new to each daemon run: a daemon
 * killed and started again starts a new app host (the old one has no channel to take new
 * sockets on), and the old one, still serving meanwhile, is ended once the first passes are
 * done (Supervisor.reapUnclaimed).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Server as NetServer } from 'node:net';
import type { Store } from '../store/db.js';
import type { PlanStep, Server } from '../core/model/index.js';
import { parseApp } from '../core/model/index.js';
import type { Dataplane } from '../dataplane/driver.js';
import type { ApplyResult, ObjectError, Reconciler } from '../reconcile/reconciler.js';
import { ReconcileLoop } from '../reconcile/loop.js';
import type { FromAppHost, ToAppHost } from '../apps/app-host-ipc.js';
import type { ProcessSpec, Supervisor } from './supervisor.js';
import { runtimeEntry } from './runtime.js';
import { handOn, openSockets } from './socket-opener.js';
import { appsBase, prepareWorkerDir } from './lb-dirs.js';
import { dropsPrivilege } from '../dataplane/user.js';
import { lastLine } from './crash-watch.js';

export interface HostedApp {
  ns: string;
  port: number;
  name: string;
  ip: string;
}

interface Served extends HostedApp {
  ino: number;
}

export interface AppsObserved {
  served: Map<string, Served>;
  /** The inode of each wanted server's namespace now (null: it is not there). */
  inodes: Map<string, number | null>;
}

export interface AppsPlan {
  open: [id: string, app: HostedApp][];
  /** Served on the same socket under another name or IP. */
  rename: [id: string, app: HostedApp][];
  close: string[];
  steps: PlanStep[];
  /** Whether the app host is wanted at all. */
  wanted: boolean;
  /** Servers whose namespace is not there yet: looked at again shortly. */
  waiting: number;
}

const READY_MS = 15_000;
const ANSWER_MS = 10_000;
/** How soon a pass looks again for namespaces not made yet. */
const WAITING_MS = 300;

const sameApp = (a: HostedApp, b: HostedApp) => a.ns === b.ns && a.port === b.port && a.name === b.name && a.ip === b.ip;

const notServed = (id: string, answer: FromAppHost): ObjectError => ({
  resourceId: id,
  message: `its web app is not served: ${'message' in answer ? answer.message : answer.type}`,
});

/** Pure: what makes the app host serve `desired`. */
export function planApps(desired: Map<string, HostedApp>, observed: AppsObserved): AppsPlan {
  const plan: AppsPlan = { open: [], rename: [], close: [], steps: [], wanted: desired.size > 0, waiting: 0 };
  for (const [id, app] of desired) {
    const now = observed.served.get(id);
    const ino = observed.inodes.get(id) ?? null;
    if (ino === null) {
      plan.waiting++; // its namespace is not made yet
      continue;
    }
    if (now && sameApp(now, app) && now.ino === ino) continue;
    if (now && now.ns === app.ns && now.port === app.port && now.ino === ino) {
      plan.rename.push([id, app]);
      plan.steps.push({ ns: app.ns, object: `web app on port ${app.port}`, action: 'updated' });
      continue;
    }
    plan.open.push([id, app]);
    plan.steps.push({ ns: app.ns, object: `web app on port ${app.port}`, action: now ? 'updated' : 'created' });
  }
  for (const [id, app] of observed.served) {
    if (desired.has(id)) continue;
    plan.close.push(id);
    plan.steps.push({ ns: app.ns, object: `web app on port ${app.port}`, action: 'deleted' });
  }
  return plan;
}

class AppsReconciler implements Reconciler<Map<string, HostedApp>, AppsObserved, AppsPlan, PlanStep> {
  readonly name = 'web apps';
  constructor(private readonly h: AppHost) {}

  desired(): Map<string, HostedApp> {
    return this.h.desired();
  }

  objects(desired: Map<string, HostedApp>): Iterable<string> {
    return desired.keys();
  }

  /**
   * Does not wait for the data plane to settle: a server's socket can be opened as soon as its
   * namespace is there (a mount of one, not the empty file it is bound over), before its
   * addresses are, so each server's app comes up with its namespace rather than with the
   * whole installation.
   */
  async observe(desired: Map<string, HostedApp>): Promise<AppsObserved> {
    const inodes = new Map<string, number | null>();
    const dir = statSync('/run/netns', { throwIfNoEntry: false });
    for (const [id, app] of desired) {
      const st = statSync(`/run/netns/${app.ns}`, { throwIfNoEntry: false });
      inodes.set(id, st && dir && st.dev !== dir.dev ? st.ino : null);
    }
    return { served: new Map(this.h.served), inodes };
  }

  plan(desired: Map<string, HostedApp>, observed: AppsObserved): AppsPlan {
    return planApps(desired, observed);
  }

  steps(plan: AppsPlan): PlanStep[] {
    return plan.steps;
  }

  apply(plan: AppsPlan): Promise<ApplyResult> {
    return this.h.apply(plan);
  }
}

export class AppHost {
  /** New at each daemon run (see above). */
  readonly key = `apphost-${randomBytes(4).toString('hex')}`;
  /** What the running app host serves, as it acknowledged. */
  readonly served = new Map<string, Served>();
  readonly loop = new ReconcileLoop(new AppsReconciler(this), { debounceMs: 20, gapFactor: 3 });
  private child: ChildProcess | null = null;
  private ready: Promise<boolean> | null = null;
  private readonly answers = new Map<string, (m: FromAppHost) => void>();
  private readonly onStart = (key: string, child: ChildProcess) => {
    if (key !== this.key) return;
    this.served.clear();
    this.child = child;
    this.ready = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), READY_MS);
      child.on('message', (m: FromAppHost) => {
        if (m.type === 'ready') return void (clearTimeout(timer), resolve(true));
        const answer = this.answers.get(m.id);
        this.answers.delete(m.id);
        answer?.(m);
      });
      child.on('exit', () => (clearTimeout(timer), resolve(false)));
    });
  };
  private readonly onExit = (key: string) => {
    if (key !== this.key) return;
    this.served.clear();
    this.child = null;
    for (const answer of this.answers.values()) answer({ type: 'failed', id: '', message: 'the app host exited' });
    this.answers.clear();
    this.loop.trigger(); // its next run gets every socket again
  };

  constructor(
    private readonly store: Store,
    readonly dataplane: Dataplane,
    private readonly supervisor: Supervisor,
    private readonly dataDir: string,
  ) {
    this.dir = dropsPrivilege() ? appsBase(dataDir) : join(dataDir, 'apps');
    supervisor.on('start', this.onStart);
    supervisor.on('exit', this.onExit);
  }

  /** The folder of the app host's own files (its request logs), owned by its identity. */
  readonly dir: string;

  logFile(serverId: string): string {
    return join(this.dir, `${serverId}.log`);
  }

  /** Whether this server's web app is (to be) served by the app host. */
  hosts(server: Server): boolean {
    return !!server.app && parseApp(server.app).kind === 'web';
  }

  desired(): Map<string, HostedApp> {
    const host = this.dataplane.appHost!();
    const want = new Map<string, HostedApp>();
    for (const s of this.store.list<Server>('server')) {
      if (s.status !== 'running' || !s.app) continue;
      const app = parseApp(s.app);
      if (app.kind === 'web') want.set(s.id, { ns: host.netns(s.id), port: app.port, name: s.name, ip: s.privateIp });
    }
    return want;
  }

  /** Why the server's web app is not served, or null. */
  failure(serverId: string): string | null {
    return this.loop.errors().find((e) => e.resourceId === serverId)?.message ?? null;
  }

  failing(): string[] {
    return this.loop.errors().map((e) => e.resourceId);
  }

  async start(): Promise<void> {
    await this.loop.run();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.supervisor.off('start', this.onStart);
    this.supervisor.off('exit', this.onExit);
    await this.supervisor.stop(this.key);
  }

  /** Removes a deleted server's request log. */
  forget(serverId: string): void {
    rmSync(this.logFile(serverId), { force: true });
  }

  private spec(): ProcessSpec {
    const host = this.dataplane.appHost!();
    return {
      argv: host.wrap([...runtimeEntry('app-host')]),
      outputFile: join(this.dataDir, 'workloads', 'app-host.log'),
      owner: host.user,
      ipc: true,
    };
  }

  /** Asks the app host and waits for its answer about `id`; the socket sent with it is the app host's alone afterwards. */
  private ask(msg: ToAppHost, handle?: NetServer): Promise<FromAppHost> {
    return new Promise((resolve) => {
      const child = this.child;
      if (!child?.connected) {
        handle?.close();
        return resolve({ type: 'failed', id: msg.id, message: 'the app host is not running' });
      }
      const timer = setTimeout(() => {
        this.answers.delete(msg.id);
        resolve({ type: 'failed', id: msg.id, message: `the app host did not answer within ${ANSWER_MS / 1000} s` });
      }, ANSWER_MS);
      this.answers.set(msg.id, (m) => (clearTimeout(timer), resolve(m)));
      // The daemon's copy closes once sent, or once sending failed.
      child.send(msg, handle, undefined, () => handle?.close());
    });
  }

  async apply(plan: AppsPlan): Promise<ApplyResult> {
    const errors: ObjectError[] = [];
    const succeeded: string[] = [];
    if (plan.waiting > 0) setTimeout(() => this.loop.trigger(), WAITING_MS).unref();
    if (!plan.wanted) {
      await this.supervisor.stop(this.key);
      this.served.clear();
      return { errors, succeeded, requeue: false };
    }
    mkdirSync(join(this.dataDir, 'workloads'), { recursive: true });
    prepareWorkerDir(this.dir, this.dataplane.appHost!().user);
    this.supervisor.ensure(this.key, this.spec());
    const ready = (await this.ready) ?? false;
    if (!ready) {
      const why = `the app host did not start: ${lastLine(join(this.dataDir, 'workloads', 'app-host.log'))}`;
      return { errors: plan.open.map(([id]) => ({ resourceId: id, message: why })), succeeded, requeue: false };
    }
    for (const id of plan.close) {
      await this.ask({ type: 'close', id });
      this.served.delete(id);
    }
    for (const [id, app] of plan.rename) {
      const answer = await this.ask({ type: 'serve', id, name: app.name, ip: app.ip, log: this.logFile(id) });
      if (answer.type !== 'serving') errors.push(notServed(id, answer));
      else {
        this.served.set(id, { ...this.served.get(id)!, ...app });
        succeeded.push(id);
      }
    }
    const opened = await openSockets(plan.open.map(([id, app]) => ({ id, ns: app.ns, port: app.port })));
    await Promise.all(
      plan.open.map(async ([id, app]) => {
        const o = opened.get(id)!;
        if ('error' in o) return void errors.push({ resourceId: id, message: `its web app cannot listen: ${o.error}` });
        const answer = await this.ask({ type: 'serve', id, name: app.name, ip: app.ip, log: this.logFile(id) }, o.server);
        const child = this.child;
        // The connections accepted on the socket's way here (paused, unread) go on to be served, now and later.
        handOn(o, answer.type === 'serving' && child ? (s) => child.send({ type: 'conn', id }, s, undefined, () => s.destroy()) : null);
        if (answer.type !== 'serving') return void errors.push(notServed(id, answer));
        this.served.set(id, { ...app, ino: o.ino });
        succeeded.push(id);
      }),
    );
    return { errors, succeeded, requeue: false };
  }

  /** What a server's web app says of itself: where it listens, once it is served. */
  output(serverId: string): string {
    const app = this.served.get(serverId);
    return app ? `web app of ${app.name} listening on 0.0.0.0:${app.port} (served by the app host)\n` : '';
  }

  /** A server's request log (JSON lines), or ''. */
  requestLog(serverId: string): string {
    const f = this.logFile(serverId);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }
}
