/**
 * Flow logs beside the topology: the latest records of a chosen flow log, newest first,
 * optionally of one server, refreshed every two seconds (each read closes the open capture
 * window, so what was just sent shows at once). What the analyzer says would happen, and here
 * what did.
 */
import { useEffect, useState } from 'react';
import { api, namesOf, type Snapshot } from './api';

interface FlowRecord {
  srcaddr: string;
  dstaddr: string;
  srcport: number;
  dstport: number;
  protocol: number;
  packets: number;
  bytes: number;
  start: number;
  end: number;
  action: 'ACCEPT' | 'REJECT';
  rejectedBy?: string;
  server?: string;
  line: string;
}

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };
const time = (s: number) => new Date(s * 1000).toISOString().slice(11, 19);
const end = (a: string, p: number, proto: number) => (proto === 6 || proto === 17 ? `${a}:${p}` : a);

/** `sg:ID,ID` and `acl:ID:inbound:100` in words, with names. */
function by(field: string | undefined, names: Map<string, string>): string {
  if (!field) return '';
  const [kind, ...rest] = field.split(':');
  if (kind === 'sg')
    return `group ${rest[0]
      .split(',')
      .map((id) => names.get(id) ?? id)
      .join(', ')}`;
  if (kind === 'acl') return `acl ${names.get(rest[0]) ?? rest[0]} ${rest[1]} rule ${rest[2]}`;
  return field;
}

export function FlowPanel({ snap }: { snap: Snapshot }) {
  const [log, setLog] = useState('');
  const [server, setServer] = useState('');
  const [records, setRecords] = useState<FlowRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const chosen = snap.flowLogs.find((f) => f.id === log) ?? snap.flowLogs[0];
  useEffect(() => {
    if (!chosen) return setRecords([]);
    let live = true;
    const get = () => {
      const q = new URLSearchParams({ limit: '20', ...(server ? { server } : {}) });
      api<{ records: FlowRecord[] }>('GET', `/v1/flow-logs/${encodeURIComponent(chosen.id)}/records?${q}`).then(
        (r) => {
          if (!live) return;
          setRecords(r.records.slice().reverse());
          setError(null);
        },
        (e: Error) => live && setError(e.message),
      );
    };
    get();
    const t = setInterval(get, 2000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [chosen?.id, server]);
  const names = namesOf(snap);
  if (snap.flowLogs.length === 0)
    return (
      <aside className="flows" data-testid="flows">
        <h3>Flow logs</h3>
        <p className="detail">
          No flow log yet: create one under Resources, or run <code>nimbus flowlog create --name all --vpc VPC</code>.
        </p>
      </aside>
    );
  return (
    <aside className="flows" data-testid="flows">
      <h3>Flow logs</h3>
      <label>
        log{' '}
        <select aria-label="flow log" value={chosen?.id ?? ''} onChange={(e) => setLog(e.target.value)}>
          {snap.flowLogs.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        server{' '}
        <select aria-label="server" value={server} onChange={(e) => setServer(e.target.value)}>
          <option value="">all</option>
          {snap.servers.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      {error && <p className="form-error">{error}</p>}
      <table data-testid="flow-records">
        <thead>
          <tr>
            <th>window</th>
            <th>server</th>
            <th>source</th>
            <th>destination</th>
            <th>proto</th>
            <th>packets</th>
            <th>bytes</th>
            <th>action</th>
            <th>rejected by</th>
          </tr>
        </thead>
        <tbody>
          {records.map((r, i) => (
            <tr key={`${r.line}-${i}`} className={r.action === 'REJECT' ? 'reject' : 'accept'}>
              <td>
                {time(r.start)}-{time(r.end)}
              </td>
              <td>{r.server ?? ''}</td>
              <td>{end(r.srcaddr, r.srcport, r.protocol)}</td>
              <td>{end(r.dstaddr, r.dstport, r.protocol)}</td>
              <td>{PROTO[r.protocol] ?? r.protocol}</td>
              <td>{r.packets}</td>
              <td>{r.bytes}</td>
              <td>{r.action}</td>
              <td>{by(r.rejectedBy, names)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {records.length === 0 && <p className="detail">No records yet.</p>}
    </aside>
  );
}
