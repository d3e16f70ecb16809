/**
 * Network ACLs in the analyzer: where a packet crosses a subnet's edge (leaving it through
 * the VPC router, or entering it), the subnet's ACL judges it, statelessly: a reply is judged
 * by the rules of its own direction, to the client's ephemeral port. Pure.
 */
import { intToIp } from '../core/cidr.js';
import { describeAclRule, evaluateAcl, type AclPacket, type AclVerdict } from '../core/acl.js';
import type { AclRule, Hop } from '../core/model/index.js';
import type { Topology } from './topology.js';
import type { TraceQuery } from './verdict.js';

/** The ports Linux gives a client's connection (net.ipv4.ip_local_port_range): where a reply returns to. */
export const EPHEMERAL = { from: 32768, to: 60999 };

/**
 * The verdict on a packet of the query: forward (to q.port, an ICMP echo request) or its reply
 * (to the client's port: q.sourcePort, or every ephemeral port, all of which must pass; an ICMP
 * echo reply). With no source port, the ports where the verdict may change are each judged.
 */
export function aclVerdict(rules: AclRule[], direction: 'ingress' | 'egress', q: TraceQuery, remote: number, reply: boolean): AclVerdict & { port?: number } {
  if (q.protocol === 'icmp') return evaluateAcl(rules, direction, { protocol: 'icmp', icmpType: reply ? 0 : 8, icmpCode: 0, remote });
  const packet = (port: number): AclPacket => ({ protocol: q.protocol as 'tcp' | 'udp', port, remote });
  if (!reply) return evaluateAcl(rules, direction, packet(q.port!));
  if (q.sourcePort !== undefined) return { ...evaluateAcl(rules, direction, packet(q.sourcePort)), port: q.sourcePort };
  const points = new Set([EPHEMERAL.from, EPHEMERAL.to]);
  for (const r of rules)
    if (r.portRange)
      for (const p of [r.portRange.from - 1, r.portRange.from, r.portRange.to, r.portRange.to + 1]) if (p >= EPHEMERAL.from && p <= EPHEMERAL.to) points.add(p);
  let first: (AclVerdict & { port?: number }) | undefined;
  for (const port of [...points].sort((a, b) => a - b)) {
    const v = evaluateAcl(rules, direction, packet(port));
    if (!v.allowed) return { ...v, port };
    first ??= { ...v, port };
  }
  return first!;
}

/**
 * The hop of a subnet's ACL for a packet leaving it (egress: `remote` is the destination) or
 * entering it (ingress: `remote` is the source); null when the subnet has no ACL, or only its
 * VPC's default ACL as made (allowing everything: a path through it reads as it did before ACLs).
 */
export function aclHop(t: Topology, subnetId: string, direction: 'ingress' | 'egress', q: TraceQuery, remote: number, reply: boolean): Hop | null {
  const acl = t.aclOf.get(subnetId);
  if (!acl) return null;
  const v = aclVerdict(acl.rules, direction, q, remote, reply);
  const subnet = t.subnets.get(subnetId)?.subnet.name ?? subnetId;
  const way = direction === 'ingress' ? `into ${subnet} (inbound, stateless)` : `out of ${subnet} (outbound, stateless)`;
  const what = `${reply ? 'reply ' : ''}${packetText(q, reply, v.port)} ${direction === 'ingress' ? 'from' : 'to'} ${intToIp(remote)}`;
  const rule = v.rule ? `rule ${describeAclRule(v.rule)}` : 'rule * (no rule matches: denied)';
  return {
    kind: 'network-acl',
    resourceId: acl.id,
    resourceName: acl.name,
    detail: `${what} ${way}: ${v.allowed ? 'allowed' : 'denied'} by ${rule}`,
    ok: v.allowed,
  };
}

function packetText(q: TraceQuery, reply: boolean, port: number | undefined): string {
  if (q.protocol === 'icmp') return reply ? 'icmp echo-reply' : 'icmp echo-request';
  if (!reply) return `${q.protocol}:${q.port}`;
  return port === undefined
    ? `${q.protocol}`
    : q.sourcePort !== undefined
      ? `${q.protocol}:${port}`
      : `${q.protocol}:${port} (ephemeral ${EPHEMERAL.from}-${EPHEMERAL.to})`;
}

/**
 * The ACL hops of a crossing from one subnet to another (none within a subnet: the bridge
 * carries it), pushed on `hops`; the blocking hop, or null when the packet passes.
 */
export function crossing(
  t: Topology,
  hops: Hop[],
  from: { subnetId: string; ip: number },
  to: { subnetId: string; ip: number },
  q: TraceQuery,
  reply: boolean,
): Hop | null {
  if (from.subnetId === to.subnetId) return null;
  for (const h of [aclHop(t, from.subnetId, 'egress', q, to.ip, reply), aclHop(t, to.subnetId, 'ingress', q, from.ip, reply)]) {
    if (!h) continue;
    hops.push(h);
    if (!h.ok) return h;
  }
  return null;
}

/** crossing() without hops or text: whether the ACLs let the packet cross (reachability matrices ask it for every path). */
export function crossingAllowed(
  t: Topology,
  from: { subnetId: string; ip: number },
  to: { subnetId: string; ip: number },
  q: TraceQuery,
  reply: boolean,
): boolean {
  if (from.subnetId === to.subnetId) return true;
  const out = t.aclOf.get(from.subnetId);
  if (out && !aclVerdict(out.rules, 'egress', q, to.ip, reply).allowed) return false;
  const into = t.aclOf.get(to.subnetId);
  return !into || aclVerdict(into.rules, 'ingress', q, from.ip, reply).allowed;
}
