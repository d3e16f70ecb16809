/**
 * HAProxy's `show stat` (CSV, the header line first) as Nimbus's health and counters (pure).
 * A frontend row is a listener; a server row is a member in one backend (`<pool>:<listener>`),
 * and a member's counters are summed over the backends it serves in.
 */
import type { CounterSnapshot, Health } from '../ipc.js';

export type StatRow = Record<string, string>;

/** The rows of `show stat`, each keyed by the header's column names (`# pxname,svname,...`). */
export function parseStat(csv: string): StatRow[] {
  const lines = csv.split('\n').filter((l) => l.length > 0);
  const header = lines.shift();
  if (!header?.startsWith('# ')) return [];
  const names = header.slice(2).split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    const row: StatRow = {};
    names.forEach((n, i) => n && (row[n] = cells[i] ?? ''));
    return row;
  });
}

const n = (v: string | undefined) => Number(v) || 0;

/**
 * A server's status as Nimbus's health: UP (also while going down, `UP 1/3`, and when not
 * checked) or DOWN (also while coming up, `DOWN 1/2`, and in maintenance, where nothing is sent to it).
 */
export function healthOfStatus(status: string): Health {
  return status.startsWith('DOWN') || status.startsWith('MAINT') ? 'DOWN' : 'UP';
}

export function fromStat(rows: StatRow[], listenerIds: Set<string>): { health: Record<string, Health>; counters: CounterSnapshot } {
  const health: Record<string, Health> = {};
  const counters: CounterSnapshot = { listeners: {}, members: {} };
  for (const r of rows) {
    if (r.svname === 'FRONTEND' && listenerIds.has(r.pxname)) {
      const requests: Record<string, number> = {};
      for (const c of ['1xx', '2xx', '3xx', '4xx', '5xx']) if (n(r[`hrsp_${c}`]) > 0) requests[c] = n(r[`hrsp_${c}`]);
      if (r.mode === 'tcp') requests.connections = n(r.stot);
      counters.listeners[r.pxname] = {
        connections: n(r.conn_tot) || n(r.stot),
        refused: n(r.dcon) + n(r.dses),
        active: n(r.scur),
        requests,
        bytesIn: n(r.bin),
        bytesOut: n(r.bout),
      };
    } else if (r.svname !== 'BACKEND' && r.svname !== 'FRONTEND' && r.pxname.includes(':')) {
      const up = healthOfStatus(r.status) === 'UP';
      // A member in several backends is UP when it is in any (its listeners check it each).
      if (health[r.svname] !== 'UP') health[r.svname] = up ? 'UP' : 'DOWN';
      const m = counters.members[r.svname] ?? { requests: 0, connectFailures: 0, active: 0, up: 0, redispatched: 0 };
      counters.members[r.svname] = {
        requests: m.requests + n(r.stot),
        connectFailures: m.connectFailures + n(r.econ),
        active: m.active + n(r.scur),
        up: Math.max(m.up, up ? 1 : 0),
        redispatched: m.redispatched + n(r.wredis),
      };
    }
  }
  return { health, counters };
}

/** `show table` of a policy table: the requests each policy decided, by policy id. */
export function parsePolicyTable(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/\bkey=(\S+)\b.*\bhttp_req_cnt=(\d+)/g)) out[m[1]] = Number(m[2]);
  return out;
}

/**
 * Counters carried over a reload: a new HAProxy worker counts from zero, so the agent keeps
 * the totals its workers before it reached (`base`, their last reading) and adds what the one
 * running counts. Gauges (open connections, up) are the running worker's alone.
 */
export function carried(base: CounterSnapshot, now: CounterSnapshot): CounterSnapshot {
  const out: CounterSnapshot = { listeners: {}, members: {} };
  for (const id of new Set([...Object.keys(base.listeners), ...Object.keys(now.listeners)])) {
    const b = base.listeners[id];
    const c = now.listeners[id];
    if (!c) continue; // a listener gone since
    const requests = { ...c.requests };
    for (const [k, v] of Object.entries(b?.requests ?? {})) requests[k] = (requests[k] ?? 0) + v;
    const policies = { ...c.policies };
    for (const [k, v] of Object.entries(b?.policies ?? {})) policies[k] = (policies[k] ?? 0) + v;
    out.listeners[id] = {
      ...(Object.keys(policies).length ? { policies } : {}),
      connections: (b?.connections ?? 0) + c.connections,
      refused: (b?.refused ?? 0) + c.refused,
      active: c.active,
      requests,
      bytesIn: (b?.bytesIn ?? 0) + c.bytesIn,
      bytesOut: (b?.bytesOut ?? 0) + c.bytesOut,
    };
  }
  for (const [id, c] of Object.entries(now.members)) {
    const b = base.members[id];
    out.members[id] = {
      requests: (b?.requests ?? 0) + c.requests,
      connectFailures: (b?.connectFailures ?? 0) + c.connectFailures,
      active: c.active,
      up: c.up,
      redispatched: (b?.redispatched ?? 0) + c.redispatched,
    };
  }
  return out;
}
