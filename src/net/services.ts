/**
 * What one server may open on another, as port ranges: the analyzer's verdict (reachable())
 * for every tcp and udp port and for icmp, folded into ranges. The virtual data plane turns
 * the answer into nftables rules, so a packet between two workloads is let through exactly
 * when trace() would say reachable.
 *
 * The verdict for a port can only change where a rule's port range starts or ends, so the
 * port space is cut at those edges and one port of each piece is asked.
 */
import type { Topology } from './topology.js';
import { reachable } from './trace.js';

/** An inclusive port range. */
export type PortRange = [from: number, to: number];

export interface Services {
  tcp: PortRange[];
  udp: PortRange[];
  icmp: boolean;
}

function edges(t: Topology, srcId: string, dstId: string | undefined): number[] {
  const cuts = new Set<number>([1]);
  for (const cr of [...(t.egress.get(srcId) ?? []), ...(dstId ? (t.ingress.get(dstId) ?? []) : [])]) {
    const pr = cr.rule.portRange;
    if (!pr) continue;
    cuts.add(pr.from);
    if (pr.to < 65535) cuts.add(pr.to + 1);
  }
  return [...cuts].sort((a, b) => a - b);
}

/** The tcp and udp port ranges, and whether icmp, that `srcId` reaches at `destination` (a dotted address). */
export function allowedServices(t: Topology, srcId: string, destination: string, dstId?: string): Services {
  const cuts = edges(t, srcId, dstId);
  const ranges = (protocol: 'tcp' | 'udp'): PortRange[] => {
    const out: PortRange[] = [];
    cuts.forEach((from, i) => {
      const to = i + 1 < cuts.length ? cuts[i + 1] - 1 : 65535;
      if (!reachable(t, { sourceServerId: srcId, destination, protocol, port: from })) return;
      const last = out[out.length - 1];
      if (last && last[1] === from - 1) last[1] = to;
      else out.push([from, to]);
    });
    return out;
  };
  return {
    tcp: ranges('tcp'),
    udp: ranges('udp'),
    icmp: reachable(t, { sourceServerId: srcId, destination, protocol: 'icmp' }),
  };
}
