/**
 * Reachability: a source server and a destination (a server, or any address), a protocol and
 * a port; the analyzer's verdict hop by hop, and the path drawn on the topology with the
 * blocking component in red. "Ping" sends a real ping on the Linux data plane (on the virtual
 * one the analyzer answers it, and says so).
 */
import { useState, type FormEvent } from 'react';
import { api, ApiError, type Snapshot } from './api';
import { Topology, type Highlight } from './topology';

interface Hop {
  kind: string;
  resourceId: string;
  resourceName: string;
  detail: string;
  ok: boolean;
}
interface Trace {
  reachable: boolean;
  forward: Hop[];
  return: Hop[];
  text: string;
  blockedBy: { direction: string; kind: string; resourceId: string; resourceName: string; reason: string } | null;
}

/** What to light up on the topology for a trace: the boxes and links its hops name. */
function highlightOf(snap: Snapshot, source: string, destination: string, t: Trace): Highlight {
  const ids = new Set<string>();
  const tableVpc = new Map(snap.routeTables.map((r) => [r.id, r.vpcId]));
  const src = snap.servers.find((s) => s.id === source);
  const viaEip = snap.elasticIps.find((e) => e.publicIp === destination)?.serverId;
  const dst = snap.servers.find((s) => s.privateIp === destination || s.id === viaEip);
  const place = (id: string) => {
    ids.add(id);
    const vpc = tableVpc.get(id);
    if (vpc) ids.add(vpc);
  };
  for (const h of [...t.forward, ...t.return]) place(h.resourceId);
  for (const s of [src, dst]) if (s) [s.id, s.subnetId, s.vpcId].forEach((x) => ids.add(x));
  let blocked: string | null = null;
  if (t.blockedBy) {
    const b = t.blockedBy;
    blocked = tableVpc.get(b.resourceId) ?? b.resourceId;
    if (b.kind === 'security-group-egress' && src) blocked = src.id;
    if (b.kind === 'security-group-ingress' && dst) blocked = dst.id;
    // An ACL is drawn as the edge of the subnet it guards on this path.
    if (b.kind === 'network-acl') {
      const guarded = snap.networkAcls.find((a) => a.id === b.resourceId)?.subnetIds ?? [];
      blocked = [src?.subnetId, dst?.subnetId].find((s) => s && guarded.includes(s)) ?? guarded[0] ?? null;
    }
  }
  return { ids, blocked };
}

export function Reach({ snap }: { snap: Snapshot }) {
  const [source, setSource] = useState('');
  const [destination, setDestination] = useState('');
  const [protocol, setProtocol] = useState('icmp');
  const [port, setPort] = useState('');
  const [trace, setTrace] = useState<Trace | null>(null);
  const [ping, setPing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [highlight, setHighlight] = useState<Highlight | null>(null);
  /** The destination as typed: an address, a server or load balancer by name, either with `:port`. */
  const target = () => {
    const m = /^(.*):(\d+)$/.exec(destination.trim());
    const where = m ? m[1] : destination.trim();
    const named = snap.servers.find((s) => s.name === where)?.privateIp ?? snap.loadBalancers.find((l) => l.name === where)?.vip;
    return { address: named ?? where, port: m ? m[2] : port };
  };
  const run = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setPing(null);
    const to = target();
    if (!source) return setError('from server: choose the server the packet starts at');
    if (!to.address) return setError('to: give an address, or a server or load balancer by name');
    if (protocol !== 'icmp' && !/^\d+$/.test(to.port)) return setError(`port: a ${protocol} trace needs a port from 1 to 65535`);
    try {
      const t = await api<Trace>('POST', '/v1/trace', {
        server: source,
        destination: to.address,
        protocol,
        ...(protocol !== 'icmp' ? { port: Number(to.port) } : {}),
      });
      setTrace(t);
      setHighlight(highlightOf(snap, source, to.address, t));
    } catch (err) {
      const x = err as ApiError;
      setError(`${x.code}: ${x.message}`);
    }
  };
  const realPing = async () => {
    setError(null);
    try {
      const r = await api<{ output: string; reachable: boolean }>('POST', '/v1/ping', { server: source, destination: target().address, count: 2 });
      setPing(r.output);
    } catch (err) {
      const x = err as ApiError;
      setError(`${x.code}: ${x.message}`);
    }
  };
  const linux = snap.status.dataplane.kind === 'linux';
  return (
    <div className="reach">
      <form onSubmit={run} className="reach-form" aria-label="reachability">
        <label>
          <span>from server</span>
          <select id="reach-source" value={source} onChange={(e) => setSource(e.target.value)}>
            <option value="">-</option>
            {snap.servers.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.privateIp})
              </option>
            ))}
            {snap.internetHosts.map((h, i) => (
              <option key={h.id} value={i === 0 ? 'internet' : `internet:${h.name}`}>
                the internet: {h.name} ({h.ip})
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>to</span>
          <input
            id="reach-destination"
            list="reach-servers"
            value={destination}
            onChange={(e) => setDestination(e.target.value)}
            placeholder="an address or a name, :port"
          />
          <datalist id="reach-servers">
            {[
              ...snap.servers.map((s) => [s.privateIp, s.name]),
              ...snap.loadBalancers.map((l) => [l.vip, l.name]),
              ...snap.elasticIps.filter((e) => e.serverId).map((e) => [e.publicIp, `elastic IP ${e.name}`]),
              ...snap.internetHosts.map((h) => [h.ip, `internet host ${h.name}`]),
            ].map(([ip, name]) => (
              <option key={ip} value={ip}>
                {name}
              </option>
            ))}
          </datalist>
        </label>
        <label>
          <span>protocol</span>
          <select id="reach-protocol" value={protocol} onChange={(e) => setProtocol(e.target.value)}>
            <option>icmp</option>
            <option>tcp</option>
            <option>udp</option>
          </select>
        </label>
        {protocol !== 'icmp' && (
          <label>
            <span>port</span>
            <input id="reach-port" type="number" value={port} onChange={(e) => setPort(e.target.value)} />
          </label>
        )}
        <button type="submit">Trace</button>
        <button type="button" onClick={realPing} disabled={!source || !destination}>
          {linux ? 'Ping (real)' : 'Ping (analyzer)'}
        </button>
      </form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {trace && (
        <div className="verdict" data-testid="verdict">
          <h3 className={trace.reachable ? 'ok' : 'bad'}>
            {trace.reachable ? 'reachable' : `unreachable: ${trace.blockedBy?.kind} ${trace.blockedBy?.resourceName}: ${trace.blockedBy?.reason}`}
          </h3>
          <ol className="hops">
            {[...trace.forward.map((h) => ['forward', h] as const), ...trace.return.map((h) => ['return', h] as const)].map(([dir, h], i) => (
              <li key={i} className={h.ok ? 'ok' : 'bad'}>
                <b>{dir}</b> {h.ok ? 'ok' : 'DROP'} {h.kind} <b>{h.resourceName}</b>: {h.detail}
              </li>
            ))}
          </ol>
        </div>
      )}
      {ping && (
        <pre className="ping" data-testid="ping-output">
          {ping}
        </pre>
      )}
      <Topology snap={snap} highlight={highlight} />
    </div>
  );
}
