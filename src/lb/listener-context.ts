/**
 * What a listener's sessions (HTTP and TCP) share: its id and port, the pool behind it now,
 * its access log and its counters.
 */
import type { PoolRuntime } from './pool.js';
import type { AccessLog, Counters } from './observe.js';
import type { ListenerTimeouts } from './config.js';
import type { RequestView, Verdict } from './l7.js';

/** What the listener's reaper needs of a session waiting for the rest of a request head. */
export interface SlowHead {
  /** When its head must be whole (performance.now() milliseconds). */
  headDeadline: number;
  /** Answers 408 and closes. */
  headTimedOut(): void;
}

export interface ListenerContext {
  id: string;
  port: number;
  /** What members are told the client spoke (X-Forwarded-Proto): https on a TERMINATED_HTTPS listener. */
  proto: 'http' | 'https';
  /** The listener's timeouts now (reconfiguration applies to the next request). */
  timeouts(): ListenerTimeouts;
  /** Sessions whose request head came in part: the listener's reaper closes those past their deadline (one timer per listener, none per request). */
  slowHeads: Set<SlowHead>;
  /** The pool behind the listener now (looked up per request, so reconfiguration applies at once). */
  pool(): PoolRuntime | null;
  /** The listener's L7 policies as one function (l7.ts), or null when it has none; replaced by each configuration. */
  route: ((req: RequestView) => Verdict | null) | null;
  /** Any pool of the load balancer, by id (where a policy sends). */
  poolById(id: string): PoolRuntime | null;
  log: AccessLog;
  counters: Counters;
}
