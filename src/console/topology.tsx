/**
 * The topology view: VPCs as regions with their CIDRs, subnets inside them, servers and load
 * balancers inside their subnets (laid out by ELK's rectangle packing, nested), peerings as
 * links between VPCs (active solid, pending dashed, deleted or rejected dotted), load
 * balancers linked to their members. Zoom with the wheel or the buttons, pan by dragging.
 * Every element carries its text in the SVG (a screen reader, a search in the page and a test
 * read it), and a highlight draws a trace's path, the blocking component in red.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import ELK, { type ElkNode } from 'elkjs/lib/elk.bundled.js';
import type { Snapshot } from './api';

export interface Highlight {
  /** Resources on the path (VPCs, subnets, servers, peerings, load balancers). */
  ids: Set<string>;
  /** The component that dropped the packet. */
  blocked: string | null;
}

interface Box {
  id: string;
  kind: 'vpc' | 'subnet' | 'server' | 'lb' | 'nat';
  x: number;
  y: number;
  w: number;
  h: number;
  lines: string[];
  status?: string;
}

const elk = new ELK();
const PACK = { 'elk.algorithm': 'rectpacking', 'elk.spacing.nodeNode': '24' };

/** A server's elastic IP, if it has one. */
const eipOf = (s: Snapshot, serverId: string) => s.elasticIps.find((e) => e.serverId === serverId);

/** Room above the VPCs for the internet, drawn once an internet gateway exists. */
const CLOUD = 130;

function graphOf(s: Snapshot): ElkNode {
  const leaf = (id: string, w: number, h: number): ElkNode => ({ id, width: w, height: h });
  return {
    id: 'root',
    layoutOptions: { ...PACK, 'elk.padding': '[top=20,left=20,bottom=20,right=20]', 'elk.spacing.nodeNode': '60' },
    children: s.vpcs.map((v) => ({
      id: v.id,
      layoutOptions: { ...PACK, 'elk.padding': '[top=40,left=14,bottom=14,right=14]' },
      children: s.subnets
        .filter((sub) => sub.vpcId === v.id)
        .map((sub) => ({
          id: sub.id,
          layoutOptions: { ...PACK, 'elk.padding': '[top=36,left=10,bottom=10,right=10]', 'elk.spacing.nodeNode': '12' },
          children: [
            ...s.servers.filter((x) => x.subnetId === sub.id).map((x) => leaf(x.id, 150, eipOf(s, x.id) ? 60 : 46)),
            ...s.loadBalancers.filter((lb) => lb.subnetId === sub.id).map((lb) => leaf(lb.id, 170, 62)),
            ...s.natGateways.filter((n) => n.subnetId === sub.id).map((n) => leaf(n.id, 160, 60)),
          ],
          // An empty subnet still shows its name and CIDR.
          ...(s.servers.some((x) => x.subnetId === sub.id) ||
          s.loadBalancers.some((lb) => lb.subnetId === sub.id) ||
          s.natGateways.some((n) => n.subnetId === sub.id)
            ? {}
            : { width: 170, height: 50 }),
        })),
      ...(s.subnets.some((sub) => sub.vpcId === v.id) ? {} : { width: 200, height: 60 }),
    })),
  };
}

function boxesOf(s: Snapshot, laid: ElkNode): { boxes: Box[]; width: number; height: number } {
  const text = new Map<string, { kind: Box['kind']; lines: string[]; status?: string }>();
  for (const v of s.vpcs) text.set(v.id, { kind: 'vpc', lines: [`VPC ${v.name}`, v.cidr] });
  for (const sub of s.subnets) text.set(sub.id, { kind: 'subnet', lines: [`subnet ${sub.name}`, sub.cidr] });
  for (const x of s.servers) {
    const eip = eipOf(s, x.id);
    text.set(x.id, {
      kind: 'server',
      lines: [
        `server ${x.name}`,
        `${x.privateIp}${x.status === 'running' ? '' : ` (${x.status})`}`,
        ...(eip ? [`EIP ${eip.publicIp}`] : []),
        ...(x.chassis ? [`on ${x.chassis}`] : []),
      ],
      status: x.status,
    });
  }
  for (const n of s.natGateways) text.set(n.id, { kind: 'nat', lines: [`NAT gateway ${n.name}`, n.privateIp, `EIP ${n.publicIp}`], status: n.status });
  for (const lb of s.loadBalancers)
    text.set(lb.id, {
      kind: 'lb',
      lines: [`load balancer ${lb.name}`, `VIP ${lb.vip}`, lb.publicIp ? `public ${lb.publicIp}` : 'no public IP'],
      status: lb.provisioningStatus,
    });
  const boxes: Box[] = [];
  const walk = (n: ElkNode, ox: number, oy: number) => {
    for (const c of n.children ?? []) {
      const x = ox + (c.x ?? 0);
      const y = oy + (c.y ?? 0);
      const t = text.get(c.id);
      if (t) boxes.push({ id: c.id, kind: t.kind, x, y, w: c.width ?? 0, h: c.height ?? 0, lines: t.lines, status: t.status });
      walk(c, x, y);
    }
  };
  const top = s.internetGateways.length > 0 ? CLOUD : 0;
  walk(laid, 0, top);
  return { boxes, width: Math.max(laid.width ?? 0, 420), height: (laid.height ?? 0) + top };
}

const center = (b: Box) => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });

export function Topology({ snap, highlight }: { snap: Snapshot; highlight?: Highlight | null }) {
  const [layout, setLayout] = useState<{ boxes: Box[]; width: number; height: number } | null>(null);
  const [view, setView] = useState({ k: 1, x: 0, y: 0 });
  const drag = useRef<{ x: number; y: number } | null>(null);
  const svg = useRef<SVGSVGElement | null>(null);
  // Laid out again only when what is drawn changes (not on every poll).
  const shape = useMemo(
    () =>
      JSON.stringify([
        snap.vpcs.map((v) => [v.id, v.name, v.cidr]),
        snap.subnets.map((x) => [x.id, x.vpcId, x.name, x.cidr]),
        snap.servers.map((x) => [x.id, x.subnetId, x.name, x.privateIp, x.status, x.chassis]),
        snap.loadBalancers.map((x) => [x.id, x.subnetId, x.name, x.vip, x.publicIp, x.provisioningStatus]),
        snap.natGateways.map((x) => [x.id, x.subnetId, x.name]),
        snap.elasticIps.map((x) => [x.id, x.serverId, x.publicIp]),
        snap.internetGateways.map((x) => [x.id, x.vpcId]),
      ]),
    [snap],
  );
  useEffect(() => {
    let live = true;
    void elk.layout(graphOf(snap)).then((laid) => live && setLayout(boxesOf(snap, laid)));
    return () => {
      live = false;
    };
  }, [shape]);

  const byId = new Map((layout?.boxes ?? []).map((b) => [b.id, b]));
  const fit = () => {
    const el = svg.current;
    if (!el || !layout) return;
    const k = Math.min(el.clientWidth / Math.max(layout.width, 1), el.clientHeight / Math.max(layout.height, 1), 1.5);
    setView({ k, x: (el.clientWidth - layout.width * k) / 2, y: 10 });
  };
  useEffect(fit, [layout]);

  const zoom = (factor: number, at?: { x: number; y: number }) =>
    setView((v) => {
      const k = Math.min(Math.max(v.k * factor, 0.1), 5);
      const p = at ?? { x: (svg.current?.clientWidth ?? 0) / 2, y: (svg.current?.clientHeight ?? 0) / 2 };
      return { k, x: p.x - ((p.x - v.x) * k) / v.k, y: p.y - ((p.y - v.y) * k) / v.k };
    });

  // A peering joins the centres of its two VPCs: its line under the boxes, its label over them.
  const peeringLinks = snap.peerings.flatMap((p) => {
    const a = byId.get(p.requesterVpcId);
    const b = byId.get(p.accepterVpcId);
    return a && b ? [{ p, ca: center(a), cb: center(b) }] : [];
  });
  const hl = highlight ?? null;
  const cls = (id: string) => (hl?.blocked === id ? ' blocked' : hl?.ids.has(id) ? ' on-path' : '');
  // The internet: a cloud above the VPCs, each attached gateway a link down to its VPC.
  const internet =
    snap.internetGateways.length > 0 && layout ? { cx: layout.width / 2, cy: CLOUD / 2, rx: Math.max(layout.width / 2 - 30, 180), ry: CLOUD / 2 - 22 } : null;
  const hosts = snap.internetHosts.map((h) => `${h.name} ${h.ip}`).join(', ');
  const inetIds = ['internet', ...snap.internetHosts.map((h) => h.id)];
  const inetCls = hl && inetIds.some((i) => hl.blocked === i) ? ' blocked' : hl && inetIds.some((i) => hl.ids.has(i)) ? ' on-path' : '';
  const gatewayLinks = internet
    ? snap.internetGateways.flatMap((g) => {
        const v = g.vpcId ? byId.get(g.vpcId) : undefined;
        return v ? [{ g, x: v.x + v.w / 2, y1: internet.cy + internet.ry, y2: v.y }] : [];
      })
    : [];

  return (
    <div className="topology">
      <div className="zoom">
        <button onClick={() => zoom(1.25)} aria-label="zoom in">
          +
        </button>
        <button onClick={() => zoom(0.8)} aria-label="zoom out">
          −
        </button>
        <button onClick={fit}>fit</button>
      </div>
      <svg
        ref={svg}
        role="img"
        aria-label="network topology"
        onWheel={(e) => {
          const r = svg.current!.getBoundingClientRect();
          zoom(e.deltaY < 0 ? 1.1 : 0.9, { x: e.clientX - r.left, y: e.clientY - r.top });
        }}
        onPointerDown={(e) => (drag.current = { x: e.clientX, y: e.clientY })}
        onPointerMove={(e) => {
          if (!drag.current) return;
          const d = { x: e.clientX - drag.current.x, y: e.clientY - drag.current.y };
          drag.current = { x: e.clientX, y: e.clientY };
          setView((v) => ({ ...v, x: v.x + d.x, y: v.y + d.y }));
        }}
        onPointerUp={() => (drag.current = null)}
        onPointerLeave={() => (drag.current = null)}
      >
        <g transform={`translate(${view.x},${view.y}) scale(${view.k})`}>
          {internet && (
            <g className={`node internet${inetCls}`} data-id="internet" role="group" aria-label={`the internet 203.0.113.0/24, hosts ${hosts}`}>
              <ellipse cx={internet.cx} cy={internet.cy} rx={internet.rx} ry={internet.ry} />
              <text x={internet.cx} y={internet.cy - 4} textAnchor="middle" className="title">
                the internet 203.0.113.0/24
              </text>
              <text x={internet.cx} y={internet.cy + 12} textAnchor="middle" className="detail">
                {hosts}
              </text>
            </g>
          )}
          {gatewayLinks.map(({ g, x, y1, y2 }) => (
            <g key={g.id} className={`igw${cls(g.id)}`} data-id={g.id} role="group" aria-label={`internet gateway ${g.name}`}>
              <line x1={x} y1={y1} x2={x} y2={y2} />
              <text x={x + 6} y={(y1 + y2) / 2} className="igw-label">{`igw ${g.name}`}</text>
            </g>
          ))}
          {peeringLinks.map(({ p, ca, cb }) => (
            <g key={p.id} className={`peering ${p.status}${cls(p.id)}`} data-id={p.id} role="group" aria-label={`peering ${p.name} ${p.status}`}>
              <line x1={ca.x} y1={ca.y} x2={cb.x} y2={cb.y} />
            </g>
          ))}
          {snap.members.map((m) => {
            const pool = snap.pools.find((p) => p.id === m.poolId);
            const lb = pool && byId.get(pool.loadBalancerId);
            const to = m.serverId ? byId.get(m.serverId) : undefined;
            if (!lb || !to) return null;
            const [ca, cb] = [center(lb), center(to)];
            return (
              <g key={m.id} className={`member ${m.operatingStatus ?? ''}`} aria-label={`member ${m.name} ${m.operatingStatus ?? ''}`}>
                <line x1={ca.x} y1={ca.y} x2={cb.x} y2={cb.y} />
              </g>
            );
          })}
          {layout?.boxes.map((b) => (
            <g key={b.id} className={`node ${b.kind}${cls(b.id)}`} data-id={b.id} data-kind={b.kind} role="group" aria-label={b.lines.join(', ')}>
              <rect x={b.x} y={b.y} width={b.w} height={b.h} rx={b.kind === 'vpc' ? 10 : 6} />
              {b.lines.map((l, i) => (
                <text key={i} x={b.x + 8} y={b.y + 16 + i * 14} className={i === 0 ? 'title' : 'detail'}>
                  {l}
                </text>
              ))}
            </g>
          ))}
          {peeringLinks.map(({ p, ca, cb }) => (
            <text key={p.id} className={`peering-label ${p.status}`} x={(ca.x + cb.x) / 2} y={(ca.y + cb.y) / 2 - 8} textAnchor="middle">
              {`peering ${p.name} (${p.status})`}
            </text>
          ))}
        </g>
      </svg>
    </div>
  );
}
