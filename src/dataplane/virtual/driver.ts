/**
 * The virtual data plane: no kernel objects, no root. The analyzer is the network: ping is
 * answered from a trace, in ping's own format.
 */
import { NimbusError } from '../../core/errors.js';
import { formatVirtualPing } from '../../net/format.js';
import { compile } from '../../net/topology.js';
import { trace } from '../../net/trace.js';
import { readSnapshot } from '../../resources/snapshot.js';
import type { Server } from '../../core/model/index.js';
import { unprivileged, workloadUser } from '../user.js';
import type { Store } from '../../store/db.js';
import type { Dataplane, DataplaneStatus, ExecOutcome, PingOutcome, Placement, SyncReport } from '../driver.js';

export class VirtualDataplane implements Dataplane {
  readonly kind = 'virtual' as const;
  private store?: Store;
  constructor(private readonly reason: string) {}

  async start(store: Store): Promise<void> {
    this.store = store;
  }

  async stop(): Promise<void> {}

  async settled(): Promise<void> {}

  /** Workloads run on the host, each server on a loopback address of its own. */
  placement(endpoint: Server): Placement {
    const user = (opts?: { asRoot?: boolean }) => (opts?.asRoot ? null : workloadUser());
    return {
      // On the host's network: no capability to bind low ports (that would reach every host address).
      wrap: (argv, opts) => {
        const u = user(opts);
        return u ? [...unprivileged(u, { bindLowPorts: false }), ...argv] : argv;
      },
      user,
      bind: endpoint.loopbackIp || '127.0.0.1',
      ownsPrivateIp: false,
    };
  }

  async sync(): Promise<SyncReport> {
    return { steps: [], errors: [], ms: 0 };
  }

  async plan(): Promise<SyncReport['steps']> {
    return [];
  }

  status(): DataplaneStatus {
    return { kind: 'virtual', reason: this.reason, errors: [], converged: true };
  }

  async ping(server: Server, destination: string, count: number): Promise<PingOutcome> {
    const r = trace(compile(readSnapshot(this.store!)), { sourceServerId: server.id, destination, protocol: 'icmp' });
    return { reachable: r.reachable, transmitted: count, received: r.reachable ? count : 0, output: formatVirtualPing(r, count) };
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
