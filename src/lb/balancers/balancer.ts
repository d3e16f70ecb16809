/**
 * The balancer contract: given the pool's members (their weights, open connections and
 * whether they may take new traffic) and a client key, name the member for a new
 * connection or request. Balancers keep only their own bookkeeping; health, draining and
 * persistence are decided outside and arrive as `usable`.
 */

export interface Candidate {
  readonly id: string;
  /** 0 takes nothing new (draining). */
  readonly weight: number;
  /** Connections or requests in flight. */
  readonly active: number;
  /** Healthy, admin up and not excluded for this pick (a retry skips members that failed). */
  readonly usable: boolean;
}

export interface Balancer {
  pick(members: readonly Candidate[], clientKey: string): Candidate | null;
}

export function eligible(m: Candidate): boolean {
  return m.usable && m.weight > 0;
}
