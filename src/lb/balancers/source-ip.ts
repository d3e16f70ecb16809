/**
 * Source-IP consistent hashing: members sit on a ring at points derived from their ids
 * (more points for more weight); a client goes to the first eligible member clockwise from
 * the hash of its address. Adding or removing a member moves only the clients of its arcs.
 */
import { eligible, type Balancer, type Candidate } from './balancer.js';

const POINTS_PER_WEIGHT = 40;

/** FNV-1a, 32 bits, with a final mix so nearby keys spread over the ring. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class SourceIpHash implements Balancer {
  private ringKey = '';
  private points: Uint32Array = new Uint32Array(0);
  private owners: string[] = [];

  private rebuild(members: readonly Candidate[]): void {
    const key = members.map((m) => `${m.id}*${m.weight}`).join(',');
    if (key === this.ringKey) return;
    this.ringKey = key;
    const entries: [number, string][] = [];
    for (const m of members) {
      const n = Math.max(1, m.weight) * POINTS_PER_WEIGHT;
      for (let i = 0; i < n; i++) entries.push([hash32(`${m.id}#${i}`), m.id]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    this.points = Uint32Array.from(entries.map((e) => e[0]));
    this.owners = entries.map((e) => e[1]);
  }

  pick(members: readonly Candidate[], clientKey: string): Candidate | null {
    this.rebuild(members);
    const n = this.points.length;
    if (n === 0) return null;
    const h = hash32(clientKey);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    const byId = new Map(members.map((m) => [m.id, m]));
    for (let k = 0; k < n; k++) {
      const m = byId.get(this.owners[(lo + k) % n]);
      if (m && eligible(m)) return m;
    }
    return null;
  }
}
