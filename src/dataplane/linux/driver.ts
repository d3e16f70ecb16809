/**
 * The linux data plane: the reconciler (reconciler.ts) run by the reconcile loop, and the
 * commands that need real packets (ping, a probe, exec) inside a server's namespace.
 *
 * A change in the store asks for a pass; a full pass (every namespace observed, so drift is
 * repaired) runs every 10 s once changes have been quiet that long (a full pass in the middle
 * of building hundreds of namespaces would observe them all again for nothing), and at least
 * once a minute during endless changes. A namespace that fails is retried with backoff and its
 * error is shown in the status until it succeeds.
 */
import { NimbusError } from '../../core/errors.js';
import type { Store } from '../../store/db.js';
import type { ChangeFeed } from '../../resources/context.js';
import type { Server } from '../../core/model/index.js';
import type { ChildProcess } from 'node:child_process';
import type { AttachOptions, Dataplane, FlowCounters, DataplaneStatus, ExecOutcome, PingOutcome, Placement, SyncReport } from '../driver.js';
import { attachIn, inServerAs, writeServerEtc } from './attach.js';
import { claimIds } from '../ids.js';
import { inMachine, prepareHome, type MachineHome } from './machine.js';
import { join } from 'node:path';
import { ReconcileLoop } from '../../reconcile/loop.js';
import { LinuxReconciler, type LinuxObserved, type LinuxPlan } from './reconciler.js';
import type { DesiredState } from './desired.js';
import type { Reconciler } from '../../reconcile/reconciler.js';
import type { PlanStep } from '../../core/model/index.js';
import type { Step } from './plan.js';
import { routerNs, serverNs } from './names.js';
import { parseFlowSets, tableHandle } from './flows.js';
import { kindOfId } from '../../core/ids.js';
import { RESOLVER_IP } from '../../core/dns.js';
import { serverResolvConf } from '../../resources/dns.js';
import { pool, run, type Runner } from './run.js';
import { unprivileged, type RunAs } from '../user.js';

const RESYNC_MS = 10_000;
const RESYNC_MAX_MS = 60_000;

export class LinuxDataplane implements Dataplane {
  readonly kind: 'linux' | 'ovn' = 'linux';
  protected loop: ReconcileLoop<unknown, unknown, unknown, PlanStep> | null = null;
  private readonly onChange = () => this.loop?.trigger();
  /** Each server's /root and /tmp folders, made once. */
  private readonly homes = new Map<string, MachineHome>();
  /** Resolves once start() has made the loop (the daemon starts it a moment after the API). */
  private markStarted!: () => void;
  private readonly started = new Promise<void>((r) => (this.markStarted = r));

  constructor(
    readonly prefix: string,
    private readonly reason: string,
    /** The daemon's data directory: each server's /root and /tmp are kept in it (machines/<id>/). */
    private readonly dataDir: string,
    protected readonly runner: Runner = run,
  ) {}

  protected store: Store | null = null;

  async start(store: Store, feed: ChangeFeed): Promise<void> {
    this.store = store;
    await this.prepare();
    this.loop = new ReconcileLoop(this.reconciler(store) as Reconciler<unknown, unknown, unknown, PlanStep>, {
      debounceMs: 10,
      resyncMs: RESYNC_MS,
      resyncMaxMs: RESYNC_MAX_MS,
    });
    this.markStarted();
    feed.on('change', this.onChange);
    await this.loop.run({ full: true });
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** What must run before the first pass (the ovn plane's central and chassis); nothing here. */
  protected async prepare(): Promise<void> {}

  /** The reconciler the loop runs: the namespaces, veths, routes and nftables of this machine. */
  protected reconciler(store: Store): Reconciler<DesiredState, LinuxObserved, LinuxPlan, Step> | Reconciler<unknown, unknown, unknown, PlanStep> {
    return new LinuxReconciler(store, this.prefix, this.runner);
  }

  status(): DataplaneStatus {
    const errors = this.loop?.errors() ?? [];
    const changes = this.loop?.progress();
    return {
      kind: this.kind,
      reason: `${this.reason}; prefix '${this.prefix}'`,
      errors,
      converged: this.loop?.converged() ?? false,
      ...(changes ? { changes } : {}),
    };
  }

  notes(): string[] {
    return [];
  }

  /** A full pass now, every namespace observed (drift repaired), and its report. */
  async sync(): Promise<SyncReport> {
    await this.started;
    return this.loop!.run({ full: true });
  }

  /** What a pass would change, without changing anything. */
  async plan(): Promise<PlanStep[]> {
    await this.started;
    return this.loop!.dryRun();
  }

  /** Resolves once the changes made so far are on the machine. */
  async settled(): Promise<void> {
    await this.started;
    return this.loop!.settled();
  }

  /**
   * Processes run inside the endpoint's namespace and listen on all its addresses: a server's
   * as root of its machine (machine.ts), a load balancer's worker as the load balancer's own id.
   */
  placement(endpoint: Server): Placement {
    const ns = serverNs(this.prefix, endpoint.id);
    writeServerEtc(ns, endpoint.name, endpoint.privateIp, this.store ? serverResolvConf(this.store, endpoint) : undefined);
    const firstId = claimIds(ns);
    const user = { name: ns, uid: firstId, gid: firstId };
    if (endpoint.id.startsWith('lb-') || endpoint.id.startsWith('inet-'))
      return { wrap: (argv) => inServerAs(ns, endpoint.name, user, argv), user, bind: '0.0.0.0', ownsPrivateIp: true };
    // Made (and owned by the machine's root) once per daemon, not at every pass that asks for a placement.
    let home = this.homes.get(endpoint.id);
    if (!home) this.homes.set(endpoint.id, (home = prepareHome(join(this.dataDir, 'machines', endpoint.id), firstId)));
    return { wrap: (argv, opts) => inMachine(ns, endpoint.name, home, argv, opts?.term), user, bind: '0.0.0.0', ownsPrivateIp: true };
  }

  /**
   * The app host (workloads/app-host.ts): the first id of a range of its own (no machine maps
   * it), no capability, and a network namespace of its own with nothing in it: it reaches
   * nothing, it only answers on the servers' sockets it is handed.
   */
  appHost(): { user: RunAs; wrap(argv: string[]): string[]; netns(serverId: string): string } {
    const firstId = claimIds(`${this.prefix}-apps`);
    const user = { name: `${this.prefix}-apps`, uid: firstId, gid: firstId };
    return {
      user,
      wrap: (argv) => ['unshare', '--net', ...unprivileged(user, { bindLowPorts: false }), ...argv],
      netns: (serverId) => serverNs(this.prefix, serverId),
    };
  }

  /** A VPC's resolver: in its router's namespace, as the first id of a range of its own, allowed to bind port 53 and nothing more. */
  resolver?: (vpcId: string) => { key: string; place: Placement }[] = (vpcId) => [
    { key: vpcId, place: this.resolverIn(routerNs(this.prefix, vpcId), `${routerNs(this.prefix, vpcId)}-dns`) },
  ];

  /** A resolver in namespace `ns`, as the first id of the range `idName` claims, allowed to bind port 53 and nothing more. */
  protected resolverIn(ns: string, idName: string): Placement {
    const firstId = claimIds(idName);
    const user = { name: idName, uid: firstId, gid: firstId };
    return { wrap: (argv) => inServerAs(ns, 'resolver', user, argv), user, bind: RESOLVER_IP, ownsPrivateIp: false };
  }

  /** A command inside the server's machine, its streams piped; a terminal through script(1) with `tty`. */
  async attach(server: Server, argv: string[], opts: AttachOptions): Promise<ChildProcess> {
    await this.settled();
    return attachIn(this.placement(server).wrap([], { term: opts.term || 'xterm-256color' }), argv, opts);
  }

  flowSamples?: (sources: string[]) => Promise<Map<string, FlowCounters>> = async (sources) => {
    const out = new Map<string, FlowCounters>();
    await pool(sources, 4, async (id) => {
      const ns = kindOfId(id) === 'vpc' ? routerNs(this.prefix, id) : serverNs(this.prefix, id);
      const r = await this.runner('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'nimbus'], { timeoutMs: 10_000 });
      if (r.code !== 0) return;
      out.set(id, { table: tableHandle(r.stdout), samples: parseFlowSets(r.stdout) });
    });
    return out;
  };

  protected async inServer(server: Server, argv: string[], timeoutMs: number) {
    await this.settled();
    return this.runner('ip', ['netns', 'exec', serverNs(this.prefix, server.id), ...argv], { timeoutMs });
  }

  async ping(server: Server, destination: string, count: number): Promise<PingOutcome> {
    const r = await this.inServer(server, ['ping', '-n', '-c', String(count), '-i', '0.2', '-W', '1', destination], 5_000 + count * 1_500);
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    const received = m ? Number(m[2]) : 0;
    return { reachable: received > 0, transmitted: m ? Number(m[1]) : count, received, output: r.stdout + r.stderr };
  }

  async exec(server: Server, argv: string[]): Promise<ExecOutcome> {
    if (argv.length === 0) throw new NimbusError('InvalidParameterValue', 'argv: a command is required');
    await this.settled();
    const wrapped = this.placement(server).wrap(argv);
    const r = await this.runner(wrapped[0], wrapped.slice(1), { timeoutMs: 60_000 });
    return { code: r.timedOut ? 124 : r.code, stdout: r.stdout, stderr: r.stderr + (r.timedOut ? '\nnimbus: command killed after 60 s\n' : '') };
  }

  async probe(server: Server, destination: string, protocol: 'icmp' | 'tcp' | 'udp', port?: number): Promise<{ reachable: boolean; output: string }> {
    if (protocol === 'icmp') {
      const r = await this.ping(server, destination, 1);
      return { reachable: r.reachable, output: r.output };
    }
    if (protocol === 'udp') throw new NimbusError('Dataplane.Unavailable', 'a real udp probe cannot tell a drop from silence; only icmp and tcp are probed');
    return tcpProbe((argv, ms) => this.inServer(server, argv, ms), destination, port!);
  }
}

/**
 * A TCP connect from inside a server: an answer (connected, or refused by the host) means
 * the network carried the SYN and its reply; silence until the timeout means it did not.
 */
export async function tcpProbe(
  runIn: (argv: string[], ms: number) => Promise<{ code: number; stdout: string; stderr: string }>,
  ip: string,
  port: number,
  seconds = 1,
): Promise<{ reachable: boolean; output: string }> {
  const script = `exec 3<>/dev/tcp/${ip}/${port} && echo connected`;
  const r = await runIn(['timeout', String(seconds), 'bash', '-c', script], 5_000 + seconds * 1_000);
  if (r.code === 0) return { reachable: true, output: `tcp ${ip}:${port}: connected\n` };
  if (/refused/i.test(r.stderr)) return { reachable: true, output: `tcp ${ip}:${port}: connection refused (the host answered; nothing listens)\n` };
  return { reachable: false, output: `tcp ${ip}:${port}: no answer within ${seconds} s\n` };
}
