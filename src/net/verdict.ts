/**
 * What a trace is made of, shared by the paths inside the VPCs (trace.ts) and at the edge
 * (edge.ts): the question, a security group's verdict as a hop, and an empty answer. Pure.
 */
import { intToIp } from '../core/cidr.js';
import { rangeText } from '../core/ports.js';
import type { Hop, SecurityGroupRule, Server, TraceProtocol, TraceResult } from '../core/model/index.js';
import { admitsEcho, icmpText } from '../core/icmp.js';
import type { CompiledRule, Topology } from './topology.js';

export interface TraceQuery {
  sourceServerId: string;
  destination: string;
  protocol: TraceProtocol;
  /** Destination port, for tcp and udp. */
  port?: number;
  /** The source address the packet carries, when not the server's own (a forged one). */
  sourceIp?: string;
  /** The source port, for tcp and udp: the port a reply returns to (a stateless ACL judges it); any ephemeral one when absent. */
  sourcePort?: number;
}

function ruleText(r: SecurityGroupRule): string {
  const ports = r.portRange ? `:${rangeText(r.portRange)}` : r.icmp ? ` ${icmpText(r.icmp)}` : '';
  const proto = r.protocol === 'all' ? 'all' : r.protocol;
  return `${proto}${ports}`;
}

function remoteText(t: Topology, cr: CompiledRule): string {
  if (cr.groupId) return `group ${t.groups.get(cr.groupId)?.name ?? cr.groupId}`;
  return (cr.rule.remote as { cidr: string }).cidr;
}

/** The first rule that admits (protocol, port) from/to `peerIp` / `peer` server. */
export function matchRule(t: Topology, rules: CompiledRule[], q: TraceQuery, peerIp: number, peer: Server | undefined): CompiledRule | undefined {
  for (const cr of rules) {
    const r = cr.rule;
    if (r.protocol !== 'all' && r.protocol !== q.protocol) continue;
    if (r.portRange && (q.port === undefined || q.port < r.portRange.from || q.port > r.portRange.to)) continue;
    // An icmp question is an echo request (what ping sends): a rule for another type does not admit it.
    if (q.protocol === 'icmp' && r.protocol === 'icmp' && !admitsEcho(r.icmp)) continue;
    if (cr.groupId) {
      if (peer && t.members.get(cr.groupId)?.has(peer.id)) return cr;
    } else if ((peerIp & cr.mask) >>> 0 === cr.net) {
      return cr;
    }
  }
  return undefined;
}

/**
 * The hop for a server's security groups in one direction: the rule that admitted the packet,
 * or, when none did, the server's groups and what they fail to allow to/from `peer`.
 */
export function groupHop(t: Topology, direction: 'egress' | 'ingress', match: CompiledRule | undefined, owner: Server, q: TraceQuery, peer: string): Hop {
  const kind = direction === 'egress' ? 'security-group-egress' : 'security-group-ingress';
  const toFrom = direction === 'egress' ? 'to' : 'from';
  if (match) {
    return {
      kind,
      resourceId: match.group.id,
      resourceName: match.group.name,
      detail: `allow ${ruleText(match.rule)} ${toFrom} ${remoteText(t, match)}`,
      ok: true,
    };
  }
  const service = `${q.protocol}${q.port ? `:${q.port}` : ''}`;
  return {
    kind,
    resourceId: owner.securityGroupIds[0] ?? owner.id,
    resourceName: groupNames(t, owner),
    detail: `no ${direction} rule allows ${service} ${toFrom} ${peer}`,
    ok: false,
  };
}

/** A trace that has found nothing yet, and the way to end it at a blocking hop. */
export function emptyResult(source: TraceResult['source'], dst: number, q: TraceQuery) {
  const result: TraceResult = {
    source,
    destination: intToIp(dst),
    protocol: q.protocol,
    port: q.protocol === 'icmp' ? null : (q.port ?? null),
    destinationServer: null,
    forward: [],
    return: [],
    reachable: false,
    routers: 0,
    blockedBy: null,
  };
  const block = (direction: 'forward' | 'return', h: Hop): TraceResult => {
    result.blockedBy = { direction, kind: h.kind, resourceId: h.resourceId, resourceName: h.resourceName, reason: h.detail };
    return result;
  };
  return { result, block };
}

export function groupNames(t: Topology, s: Server): string {
  return s.securityGroupIds.map((g) => t.groups.get(g)?.name ?? g).join(',');
}
