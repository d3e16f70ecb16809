/**
 * The data-plane driver contract. The control plane stores intent; a driver makes the
 * machine match it (linux) or answers from the analyzer (virtual). Both answer ping the
 * same way, so the CLI and API do not care which one runs.
 */
import type { Store } from '../store/db.js';
import type { ChangeFeed } from '../resources/context.js';
import type { ChildProcess } from 'node:child_process';
import type { RunAs } from './user.js';
import type { FlowSample } from './linux/flows.js';
import type { DataplaneKind, DataplaneStatus, ExecResult, PlanStep, Server, SyncReport } from '../core/model/index.js';

export type { DataplaneKind, DataplaneStatus, SyncReport };
export type ExecOutcome = ExecResult;

export interface PingOutcome {
  reachable: boolean;
  transmitted: number;
  received: number;
  output: string;
}

export interface AttachOptions {
  tty: boolean;
  rows?: number;
  cols?: number;
  term?: string;
}

export interface Placement {
  /**
   * Wraps a command so that it runs as the endpoint: inside a server's machine as its root
   * (linux: linux/machine.ts), or as the identity of its own the endpoint has (a load
   * balancer's worker, a virtual-plane workload), with a clean environment (`term` is its TERM).
   */
  wrap(argv: string[], opts?: { term?: string }): string[];
  /** The host identity the wrapped command runs as (null: the daemon's own, which is not root). */
  user: RunAs | null;
  /** The address a workload listens on. */
  bind: string;
  /** Whether the endpoint's own private address exists where the process runs. */
  ownsPrivateIp: boolean;
}

export interface Dataplane {
  readonly kind: DataplaneKind;
  /** Converges the machine to the stored state and starts following changes. */
  start(store: Store, feed: ChangeFeed): Promise<void>;
  stop(): Promise<void>;
  status(): DataplaneStatus;
  /** What this data plane does not enforce, said wherever its status is shown. */
  notes(): string[];
  /** Converges now and reports what changed. */
  sync(): Promise<SyncReport>;
  /** What a sync would change, changing nothing. */
  plan(): Promise<PlanStep[]>;
  ping(server: Server, destination: string, count: number): Promise<PingOutcome>;
  /** Sends one real probe (ping, or a TCP/UDP connect); only real data planes can. */
  probe(server: Server, destination: string, protocol: 'icmp' | 'tcp' | 'udp', port?: number): Promise<{ reachable: boolean; output: string }>;
  /** Resolves once the changes made so far are on the machine. */
  settled(): Promise<void>;
  /** Where a process for an endpoint (a server, or a load balancer's endpoint) runs. */
  placement(endpoint: Server): Placement;
  /**
   * Where the app host runs, on a plane where one process serves every server's built-in web
   * app on sockets opened in each server's namespace (linux): as an identity no tenant has.
   */
  appHost?(): { user: RunAs | null; wrap(argv: string[]): string[]; netns(serverId: string): string };
  /** Runs a command inside the server; only real data planes can. */
  exec(server: Server, argv: string[]): Promise<ExecOutcome>;
  /**
   * Starts a command inside the server with its standard streams attached (nimbus exec, ssh):
   * with `tty`, on a terminal of `rows` × `cols`. Only real data planes can.
   */
  attach(server: Server, argv: string[], opts: AttachOptions): Promise<ChildProcess>;
  /**
   * The flow counters the kernel holds for flow logs, per source (an endpoint's id, or a VPC's
   * for its router's ACL rejects); only the linux plane has them.
   */
  flowSamples?(sources: string[]): Promise<Map<string, FlowCounters>>;
  /**
   * Why an endpoint cannot be reached whatever its workload does (the ovn plane: its chassis is
   * down), or null; load balancers take its members out of service. `onEndpointsChange` is told
   * when an answer may have changed.
   */
  endpointFailure?(serverId: string): string | null;
  onEndpointsChange?(listener: () => void): void;
  /**
   * Where a VPC's DNS resolver runs, one process per place, each keyed (the linux plane: one, in
   * the VPC's router namespace; the ovn plane: one per subnet, in an endpoint of its own). Each
   * binds whichever of the VPC's resolver addresses its namespace holds.
   */
  resolver?(vpcId: string): { key: string; place: Placement }[];
}

/** One namespace's flow counters: the nftables table they live in (a new one starts from zero) and its samples. */
export interface FlowCounters {
  table: string;
  samples: FlowSample[];
}
