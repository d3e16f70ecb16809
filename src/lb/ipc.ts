/**
 * The messages between the daemon and a load balancer's worker process, one typed union each
 * way, shared by both sides (worker.ts and workloads/load-balancers.ts).
 */
import type { ListenerCounters, MemberCounters } from '../core/model/index.js';
import type { EngineConfig } from './config.js';

export type Health = 'UP' | 'DOWN';
export type CounterSnapshot = { listeners: Record<string, ListenerCounters>; members: Record<string, MemberCounters> };

/**
 * Daemon to worker. `adopt` comes with a listening socket (the public IP, opened on the host).
 * Between a primary and its workers (a load balancer with several) also: `lend` asks a worker
 * for its public socket of a listener (it answers `lent` with it), and `connection` brings a
 * connection the primary accepted.
 */
export type ToWorker =
  /** `seq`: the sender's number for this configuration; the worker answers `applied` with it (sequence numbers only grow). */
  | { type: 'config'; config: EngineConfig; seq?: number }
  | { type: 'adopt'; listenerId: string }
  | { type: 'lend'; listenerId: string }
  /** Public sockets the daemon handed into the worker's socket holder (`listenerId:port`): take them from there. */
  | { type: 'take'; keys: string[] }
  | { type: 'connection'; listenerId: string }
  /** Primary to worker: whether it checks the members' health (one worker does), and the health the checking one found. */
  | { type: 'role'; checks: boolean }
  | { type: 'health'; health: Record<string, Health> };

/** Worker to daemon. */
export type FromWorker =
  /** `public`: the public IP's sockets (`listenerId:port`) the worker already holds (a new daemon adopting it). */
  /** `holder`: the worker listens through a socket holder, and the daemon hands public sockets into it (held-sockets.ts). */
  | { type: 'ready'; public: string[]; holder?: boolean }
  /** `seq`: the newest configuration applied (several sent in a row may be answered once, by the last). */
  | { type: 'applied'; health: Record<string, Health>; seq?: number }
  | { type: 'health'; id: string; status: Health }
  /** `config`: the digest of the configuration the worker holds (configDigest), so the daemon sees one it did not send. */
  | { type: 'metrics'; counters: CounterSnapshot; health: Record<string, Health>; config?: string }
  | { type: 'error'; message: string }
  /** A primary whose workers all died at once: no process holds these public sockets any more (`listenerId:port`). */
  | { type: 'lost-public'; keys: string[] }
  | { type: 'lent'; listenerId: string };
