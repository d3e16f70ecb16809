/**
 * The counters of a load balancer with several workers: each counts what it served, and the
 * primary reports their sum. `up` is a state, not a count: a member is up if any worker
 * sees it so (each checks its health itself).
 */
import type { CounterSnapshot } from './ipc.js';

function add<T extends object>(into: T, from: T): void {
  for (const [k, v] of Object.entries(from) as [keyof T & string, unknown][]) {
    const cur = into[k] as unknown;
    if (typeof v === 'number') (into as Record<string, unknown>)[k] = k === 'up' ? Math.max(Number(cur ?? 0), v) : Number(cur ?? 0) + v;
    else if (v && typeof v === 'object') {
      if (!cur || typeof cur !== 'object') (into as Record<string, unknown>)[k] = {};
      add((into as Record<string, object>)[k], v);
    }
  }
}

export function sumSnapshots(snaps: CounterSnapshot[]): CounterSnapshot {
  const out: CounterSnapshot = { listeners: {}, members: {} };
  for (const s of snaps) add(out, s);
  return out;
}
