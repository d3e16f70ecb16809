/**
 * The virtual data plane: no namespaces. The analyzer is the network: ping is answered from a
 * trace, in ping's own format. Workloads run on the host, each on a loopback address of its
 * own. As root (with nft), each also runs under a user id of its own and the loopback guard
 * (guard.ts) lets one workload reach another exactly where the analyzer says it can; without
 * root nothing keeps them apart, and the status says so.
 */
import { NimbusError } from '../../core/errors.js';
import { formatVirtualPing } from '../../net/format.js';
import { compile } from '../../net/topology.js';
import { trace } from '../../net/trace.js';
import { readSnapshot } from '../../resources/snapshot.js';
import type { Server } from '../../core/model/index.js';
import { dropsPrivilege, unprivileged, workloadUid, type RunAs } from '../user.js';
import type { ChangeFeed } from '../../resources/context.js';
import { LoopbackGuard } from './guard.js';
import { claimIds } from '../ids.js';
import type { Store } from '../../store/db.js';
import type { Dataplane, DataplaneStatus, ExecOutcome, FlowCounters, PingOutcome, Placement, SyncReport } from '../driver.js';
import { pingSamples, VirtualFlows } from './flows.js';

export class VirtualDataplane implements Dataplane {
  readonly kind = 'virtual' as const;
  private store?: Store;
  /** The loopback firewall, when this daemon can keep one (root, nft). */
  readonly guard: LoopbackGuard | null;
  private readonly flows = new VirtualFlows();

  constructor(
    private readonly reason: string,
    guard?: LoopbackGuard,
    /** What names this installation's claims of host ids (its load balancers' workers' identities). */
    readonly idOwner = 'virtual',
  ) {
    this.guard = guard ?? null;
  }

  async start(store: Store, feed: ChangeFeed): Promise<void> {
    this.store = store;
    await this.guard?.start(store, feed);
  }

  async stop(): Promise<void> {
    await this.guard?.stop();
  }

  async settled(): Promise<void> {
    await this.guard?.settled();
  }

  /** Whether one workload can reach another beyond what the security groups and routes allow: said plainly. */
  notes(): string[] {
    return this.guard
      ? [
          'virtual data plane: ping answers come from the analyzer; between workloads, the security groups and routes are enforced on the host loopback (each workload runs as a user id of its own, and an nftables table admits what the analyzer admits); the host itself reaches every workload',
        ]
      : [
          'virtual data plane: verdicts come from the analyzer only; workloads share the host loopback and can reach each other whatever the security groups and routes say (as root, the daemon enforces them with nftables; the linux data plane with namespaces)',
        ];
  }

  /** Workloads run on the host, each server on a loopback address of its own (and, guarded, as a user id of its own). */
  placement(endpoint: Server): Placement {
    // As root, each workload runs as an id of its own, derived from its loopback address (the
    // guard tells workloads apart by it); a load balancer's worker likewise, by its endpoint's.
    const uid = !dropsPrivilege() ? null : endpoint.id.startsWith('lb-') ? claimIds(`${this.idOwner}-${endpoint.id}`) : workloadUid(endpoint.loopbackIp);
    if (dropsPrivilege() && uid === null) throw new Error(`${endpoint.id} has no loopback address to derive its identity from`);
    const user: RunAs | null = uid === null ? null : { name: `uid ${uid}`, uid, gid: uid };
    return {
      // On the host's network: no capability to bind low ports (that would reach every host address).
      wrap: (argv) => [...(user ? unprivileged(user, { bindLowPorts: false }) : []), ...argv],
      user,
      bind: endpoint.loopbackIp || '127.0.0.1',
      ownsPrivateIp: false,
    };
  }

  async sync(): Promise<SyncReport> {
    return this.guard ? this.guard.sync() : { steps: [], errors: [], ms: 0 };
  }

  async plan(): Promise<SyncReport['steps']> {
    return this.guard ? this.guard.plan() : [];
  }

  status(): DataplaneStatus {
    if (!this.guard) return { kind: 'virtual', reason: this.reason, errors: [], converged: true };
    return {
      kind: 'virtual',
      reason: `${this.reason}; loopback guard nft table inet ${this.guard.table}`,
      errors: this.guard.errors(),
      converged: this.guard.converged(),
      ...(this.guard.progress() ? { changes: this.guard.progress() } : {}),
    };
  }

  async ping(server: Server, destination: string, count: number): Promise<PingOutcome> {
    const t = compile(readSnapshot(this.store!));
    const r = trace(t, { sourceServerId: server.id, destination, protocol: 'icmp' });
    // Nimbus answers the ping, so it saw its packets: flow logs record them (flows.ts).
    this.flows.add(pingSamples(t, r, count));
    return { reachable: r.reachable, transmitted: count, received: r.reachable ? count : 0, output: formatVirtualPing(r, count) };
  }

  /** What this plane's pings counted, for flow logs. */
  async flowSamples(sources: string[]): Promise<Map<string, FlowCounters>> {
    return this.flows.read(sources);
  }

  async attach(server: Server): Promise<never> {
    throw unavailable(`run a command in server '${server.name}'`);
  }

  async exec(server: Server): Promise<ExecOutcome> {
    throw unavailable(`run a command in server '${server.name}'`);
  }

  async probe(server: Server): Promise<{ reachable: boolean; output: string }> {
    throw unavailable(`send a real probe from server '${server.name}'`);
  }
}

function unavailable(what: string): NimbusError {
  return new NimbusError(
    'Dataplane.Unavailable',
    `cannot ${what}: the virtual data plane has no kernel objects (start the daemon with --dataplane linux, as root)`,
  );
}
