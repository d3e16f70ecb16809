/**
 * Flow counters on the virtual data plane, where Nimbus sees the traffic itself: a ping is
 * answered from a trace, so the trace says which packets went where and what dropped them.
 * Each ping adds its packets to counters kept like the linux plane's nftables sets (an
 * endpoint's fl_/rj_ sets, a router's ar_ sets per ACL rule), and the flow-log collector
 * reads them the same way. Pure but for the counters it keeps.
 */
import { randomUUID } from 'node:crypto';
import type { TraceResult } from '../../core/model/index.js';
import type { Topology } from '../../net/topology.js';
import type { FlowSample } from '../linux/flows.js';
import { bridgeName } from '../linux/names.js';
import type { FlowCounters } from '../driver.js';

/** One echo request or reply of ping's default size: 56 bytes of data, 8 of ICMP, 20 of IP. */
const ECHO_BYTES = 84;

/** Where an ACL's blocking hop counted its drop: the router (the VPC) and the rule's set. */
function aclSet(t: Topology, hop: { resourceId: string; reason: string }): { vpcId: string; set: string } | null {
  const m = /(?:into|out of) (.+?) \((inbound|outbound), stateless\)/.exec(hop.reason);
  const rule = /by rule (\d+|\*)/.exec(hop.reason);
  if (!m || !rule) return null;
  for (const [id, cs] of t.subnets) {
    if (cs.subnet.name !== m[1] || t.aclOf.get(id)?.id !== hop.resourceId) continue;
    return { vpcId: cs.subnet.vpcId, set: `ar_${bridgeName(id)}_${m[2] === 'inbound' ? 'i' : 'o'}_${rule[1] === '*' ? 'any' : rule[1]}` };
  }
  return null;
}

/** The counts a ping of `count` echo requests adds, by where they were counted (an endpoint's id or a VPC's). */
export function pingSamples(t: Topology, r: TraceResult, count: number): { source: string; sample: FlowSample }[] {
  const out: { source: string; sample: FlowSample }[] = [];
  const add = (source: string, set: string, src: string, dst: string) =>
    out.push({ source, sample: { set, src, dst, proto: 1, sport: 0, dport: 0, packets: count, bytes: count * ECHO_BYTES } });
  const from = r.source;
  const to = r.destinationServer?.serverId;
  const b = r.blockedBy;
  if (b?.direction === 'forward' && b.kind === 'security-group-egress') {
    add(from.serverId, 'rj_out', from.ip, r.destination);
    return out;
  }
  if (to === from.serverId) return out;
  add(from.serverId, 'fl_out', from.ip, r.destination);
  const acl = (reverse: boolean) => {
    const at = b && b.kind === 'network-acl' ? aclSet(t, b) : null;
    if (at) add(at.vpcId, at.set, reverse ? r.destination : from.ip, reverse ? from.ip : r.destination);
  };
  if (b?.direction === 'forward') {
    if (b.kind === 'network-acl') acl(false);
    else if (b.kind === 'security-group-ingress' && to) add(to, 'rj_in', from.ip, r.destination);
    return out;
  }
  if (!to) return out;
  add(to, 'fl_in', from.ip, r.destination);
  add(to, 'fl_out', r.destination, from.ip);
  if (b?.direction === 'return') {
    acl(true);
    return out;
  }
  if (r.reachable) add(from.serverId, 'fl_in', r.destination, from.ip);
  return out;
}

/** The virtual plane's counters: what its pings added, per source, as nftables' sets would hold them. */
export class VirtualFlows {
  /** A new daemon's counters start from zero: a table of its own says so to the collector. */
  private readonly table = `virtual-${randomUUID()}`;
  private readonly counters = new Map<string, Map<string, FlowSample>>();

  add(samples: { source: string; sample: FlowSample }[]): void {
    for (const { source, sample } of samples) {
      let sets = this.counters.get(source);
      if (!sets) this.counters.set(source, (sets = new Map()));
      const key = `${sample.set}|${sample.src}|${sample.dst}|${sample.proto}|${sample.sport}|${sample.dport}`;
      const was = sets.get(key);
      sets.set(key, was ? { ...was, packets: was.packets + sample.packets, bytes: was.bytes + sample.bytes } : sample);
    }
  }

  read(sources: string[]): Map<string, FlowCounters> {
    const out = new Map<string, FlowCounters>();
    for (const s of sources) out.set(s, { table: this.table, samples: [...(this.counters.get(s)?.values() ?? [])] });
    return out;
  }
}
