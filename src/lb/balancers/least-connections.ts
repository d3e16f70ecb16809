/**
 * Weighted least connections: the eligible member with the fewest connections per unit of
 * weight; ties are broken by smooth weighted round robin among the tied, so equal members
 * take turns instead of the first one always winning.
 */
import { eligible, type Balancer, type Candidate } from './balancer.js';
import { SmoothWeightedRoundRobin } from './round-robin.js';

export class LeastConnections implements Balancer {
  private readonly tieBreak = new SmoothWeightedRoundRobin();
  private readonly tied: Candidate[] = [];

  pick(members: readonly Candidate[]): Candidate | null {
    const tied = this.tied;
    tied.length = 0;
    let best: Candidate | null = null;
    for (const m of members) {
      if (!eligible(m)) continue;
      // m.active / m.weight < best.active / best.weight, without division.
      const cmp = best === null ? -1 : m.active * best.weight - best.active * m.weight;
      if (cmp < 0) {
        best = m;
        tied.length = 0;
        tied.push(m);
      } else if (cmp === 0) {
        tied.push(m);
      }
    }
    if (tied.length <= 1) return best;
    return this.tieBreak.pick(tied);
  }
}
