/**
 * Load balancer traffic: for the chosen load balancer, the requests each member served in
 * each 2-second interval over the last five minutes (a live chart from the status tree's
 * counters), each member's health, each L7 policy with the requests it decided (charted the same
 * way), the latest access-log lines, and each member server's own request log: the last step of
 * the reference lab, seen.
 */
import { useEffect, useRef, useState } from 'react';
import { api, type Snapshot } from './api';

interface Status {
  name: string;
  provisioningStatus: string;
  operatingStatus: string;
  listeners: {
    name: string;
    protocol: string;
    port: number;
    policies: { id: string; name: string; position: number; action: string; to: string; rules: string[]; requests: number }[];
  }[];
  pools: {
    name: string;
    members: { id: string; name: string; address: string; port: number; serverId: string | null; operatingStatus?: string; statusReason?: string | null }[];
  }[];
  memberCounters: Record<string, { requests: number; active: number }>;
}
interface LogLine {
  time: string;
  client: string;
  method?: string | null;
  path?: string | null;
  status: number | null;
  memberName: string | null;
  policyName?: string | null;
  durationMs: number;
}

const SAMPLES = 150;
const COLORS = ['#2f6fdf', '#e0752d', '#2ca02c', '#9467bd', '#d62728', '#17becf'];

function Chart({ series, label }: { series: { name: string; values: number[] }[]; label: string }) {
  const w = 600;
  const h = 160;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  return (
    <svg className="chart" viewBox={`0 0 ${w} ${h + 20}`} role="img" aria-label={label}>
      <line x1={0} y1={h} x2={w} y2={h} className="axis" />
      <text x={4} y={12} className="detail">
        {max} per 2 s
      </text>
      {series.map((s, i) => (
        <polyline
          key={s.name}
          fill="none"
          stroke={COLORS[i % COLORS.length]}
          strokeWidth={2}
          points={s.values.map((v, j) => `${(j / (SAMPLES - 1)) * w},${h - (v / max) * (h - 16)}`).join(' ')}
        />
      ))}
      {series.map((s, i) => (
        <text key={s.name} x={8 + i * 140} y={h + 16} fill={COLORS[i % COLORS.length]}>
          {s.name}
        </text>
      ))}
    </svg>
  );
}

export function Traffic({ snap }: { snap: Snapshot }) {
  const [lb, setLb] = useState('');
  const [status, setStatus] = useState<Status | null>(null);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [serverLogs, setServerLogs] = useState<Record<string, { time: string; method: string; path: string }[]>>({});
  const history = useRef(new Map<string, { last: number; values: number[] }>());
  const [, tick] = useState(0);
  const chosen = lb || snap.loadBalancers[0]?.id || '';
  useEffect(() => {
    history.current = new Map();
    if (!chosen) return;
    const poll = async () => {
      const s = await api<Status>('GET', `/v1/load-balancers/${chosen}/status`).catch(() => null);
      if (!s) return;
      // Requests per 2 s of each member, and of each L7 policy (the history is one map: ids do not collide).
      const totals = [
        ...Object.entries(s.memberCounters).map(([id, c]) => [id, c.requests] as const),
        ...s.listeners.flatMap((l) => l.policies.map((p) => [p.id, p.requests] as const)),
      ];
      for (const [id, requests] of totals) {
        const h = history.current.get(id) ?? { last: requests, values: Array(SAMPLES).fill(0) };
        h.values = [...h.values.slice(1), Math.max(0, requests - h.last)];
        h.last = requests;
        history.current.set(id, h);
      }
      setStatus(s);
      setLogs(
        await api<{ requests: LogLine[] }>('GET', `/v1/load-balancers/${chosen}/logs?tail=15`).then(
          (r) => r.requests,
          () => [],
        ),
      );
      const out: Record<string, { time: string; method: string; path: string }[]> = {};
      for (const m of s.pools.flatMap((p) => p.members)) {
        if (!m.serverId) continue;
        const r = await api<{ requests: { time: string; method: string; path: string }[] }>('GET', `/v1/servers/${m.serverId}/logs`).catch(() => null);
        out[m.name] = (r?.requests ?? []).slice(-5);
      }
      setServerLogs(out);
      tick((n) => n + 1);
    };
    void poll();
    const t = setInterval(poll, 2000);
    return () => clearInterval(t);
  }, [chosen]);
  if (!snap.loadBalancers.length) return <p>No load balancer in this project yet.</p>;
  const members = status?.pools.flatMap((p) => p.members) ?? [];
  const policies = status?.listeners.flatMap((l) => l.policies.map((p) => ({ ...p, listener: l.name }))) ?? [];
  return (
    <div className="traffic">
      <label>
        <span>load balancer</span>
        <select id="traffic-lb" value={chosen} onChange={(e) => setLb(e.target.value)}>
          {snap.loadBalancers.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </select>
      </label>
      {status && (
        <>
          <p>
            {status.name}: {status.provisioningStatus} / {status.operatingStatus}; listeners{' '}
            {status.listeners.map((l) => `${l.name} ${l.protocol}:${l.port}`).join(', ')}
          </p>
          <Chart label="requests per member per 2 s" series={members.map((m) => ({ name: m.name, values: history.current.get(m.id)?.values ?? [] }))} />
          <table data-testid="member-counts">
            <thead>
              <tr>
                <th>member</th>
                <th>address</th>
                <th>health</th>
                <th>requests</th>
                <th>open</th>
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.id} data-member={m.name}>
                  <td>{m.name}</td>
                  <td>
                    {m.address}:{m.port}
                  </td>
                  <td title={m.statusReason ?? ''}>{m.operatingStatus}</td>
                  <td className="requests">{status.memberCounters[m.id]?.requests ?? 0}</td>
                  <td>{status.memberCounters[m.id]?.active ?? 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {policies.length > 0 && (
            <>
              <h3>L7 policies: the first whose rules all match decides</h3>
              <Chart label="requests per L7 policy per 2 s" series={policies.map((p) => ({ name: p.name, values: history.current.get(p.id)?.values ?? [] }))} />
              <table data-testid="policy-counts">
                <thead>
                  <tr>
                    <th>listener</th>
                    <th>#</th>
                    <th>policy</th>
                    <th>rules (all must match)</th>
                    <th>action</th>
                    <th>to</th>
                    <th>requests</th>
                  </tr>
                </thead>
                <tbody>
                  {policies.map((p) => (
                    <tr key={p.id} data-policy={p.name}>
                      <td>{p.listener}</td>
                      <td>{p.position}</td>
                      <td>{p.name}</td>
                      <td>{p.rules.length ? p.rules.join('; ') : '(none: never matches)'}</td>
                      <td>{p.action}</td>
                      <td>{p.to}</td>
                      <td className="requests">{p.requests}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          <h3>Latest requests</h3>
          <table className="log">
            <tbody>
              {logs.map((l, i) => (
                <tr key={i}>
                  <td>{l.time}</td>
                  <td>{l.client}</td>
                  <td>{l.method ? `${l.method} ${l.path}` : 'TCP'}</td>
                  <td>{l.status ?? '-'}</td>
                  <td>{l.memberName ?? '-'}</td>
                  <td>{l.policyName ?? ''}</td>
                  <td>{l.durationMs} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Each server's own log</h3>
          {Object.entries(serverLogs).map(([name, reqs]) => (
            <div key={name} className="server-log">
              <b>{name}</b>: {reqs.length ? reqs.map((r) => `${r.method} ${r.path}`).join(', ') : 'no requests'}
            </div>
          ))}
        </>
      )}
    </div>
  );
}
