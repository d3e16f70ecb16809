/**
 * Smooth weighted round robin, nginx's method: each pick adds every eligible member's
 * weight to its current value, takes the largest, and subtracts the total from it. Weights
 * 5,1,1 give a a b a c a a, never a burst of one member.
 */
import { eligible, type Balancer, type Candidate } from './balancer.js';

export class SmoothWeightedRoundRobin implements Balancer {
  private readonly current = new Map<string, number>();

  pick(members: readonly Candidate[]): Candidate | null {
    let total = 0;
    let best: Candidate | null = null;
    let bestCurrent = -Infinity;
    for (const m of members) {
      if (!eligible(m)) continue;
      const c = (this.current.get(m.id) ?? 0) + m.weight;
      this.current.set(m.id, c);
      total += m.weight;
      if (c > bestCurrent) {
        best = m;
        bestCurrent = c;
      }
    }
    if (best) this.current.set(best.id, bestCurrent - total);
    if (this.current.size > members.length * 2) this.forget(members);
    return best;
  }

  /** Drops the bookkeeping of members that left the pool. */
  private forget(members: readonly Candidate[]): void {
    const ids = new Set(members.map((m) => m.id));
    for (const id of this.current.keys()) if (!ids.has(id)) this.current.delete(id);
  }
}
