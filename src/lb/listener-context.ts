/**
 * What a listener's sessions (HTTP and TCP) share: its id and port, the pool behind it now,
 * its access log and its counters.
 */
import type { PoolRuntime } from './pool.js';
import type { AccessLog, Counters } from './observe.js';

export interface ListenerContext {
  id: string;
  port: number;
  /** The pool behind the listener now (looked up per request, so reconfiguration applies at once). */
  pool(): PoolRuntime | null;
  log: AccessLog;
  counters: Counters;
}
