/**
 * The path analyzer: given a source server and a destination address, walks the forward
 * path (source security group egress, the subnet's route table and the route that matched,
 * the peering, delivery in the destination VPC, destination security group ingress) and the
 * return path (the destination subnet's route table back, the peering, delivery to the
 * source; security groups are stateful so replies pass them), and names the first component
 * that drops the packet. Pure: the same snapshot and question always give the same answer.
 */
import { intToIp, parseIp } from '../core/cidr.js';
import { invalid } from '../core/errors.js';
import type { Hop, Server, TraceResult } from '../core/model/index.js';
import { checkPort } from '../core/model/index.js';
import { lookup, subnetHolding, type CompiledRoute, type CompiledTable, type Topology } from './topology.js';
import { edgeOut, fromInternet, LOOPBACK } from './edge.js';
import { emptyResult, groupHop, matchRule, type TraceQuery } from './verdict.js';
import { crossing, crossingAllowed } from './acl.js';
import { dnsSupport, RESOLVER_IP, subnetResolver } from '../core/dns.js';

export type { TraceQuery } from './verdict.js';

export interface Delivery {
  hops: Hop[];
  server?: Server;
  routers: number;
  failed: boolean;
  /** The route sends the packet to the edge: an internet gateway or a NAT gateway (edgeOut() goes on). */
  edge?: { route: CompiledRoute; table: CompiledTable };
}

/**
 * Routes a packet from a server's subnet to `dst`: the route table lookup, an optional
 * peering crossing, and delivery to the server holding `dst` in the VPC it lands in.
 */
export function route(t: Topology, from: Server, dst: number): Delivery {
  const hops: Hop[] = [];
  const fail = (h: Omit<Hop, 'ok'>): Delivery => {
    hops.push({ ...h, ok: false });
    return { hops, routers: 0, failed: true };
  };
  const subnet = t.subnets.get(from.subnetId)!;
  const table = t.tables.get(subnet.subnet.routeTableId)!;
  const tname = table.table.name;
  const dstText = intToIp(dst);
  const r = lookup(table, dst);
  if (!r) return fail({ kind: 'route', resourceId: table.table.id, resourceName: tname, detail: `no route matches ${dstText}` });
  let vpcId = from.vpcId;
  let routers = 0;
  if (r.target.type === 'blackhole') {
    return fail({ kind: 'route', resourceId: table.table.id, resourceName: tname, detail: `${r.destination} -> blackhole: dropped` });
  }
  if (r.target.type === 'internetGateway' || r.target.type === 'natGateway') return { hops, routers: 0, failed: false, edge: { route: r, table } };
  if (r.target.type === 'local') {
    hops.push({ kind: 'route', resourceId: table.table.id, resourceName: tname, detail: `${r.destination} -> local`, ok: true });
  } else {
    const p = t.peerings.get(r.target.peeringId);
    const pname = p?.name ?? r.target.peeringId;
    if (!p || p.status !== 'active') {
      return fail({
        kind: 'route',
        resourceId: table.table.id,
        resourceName: tname,
        detail: `${r.destination} -> ${pname} (blackhole: peering is ${p?.status ?? 'gone'})`,
      });
    }
    hops.push({ kind: 'route', resourceId: table.table.id, resourceName: tname, detail: `${r.destination} -> ${pname}`, ok: true });
    const other = p.requesterVpcId === from.vpcId ? p.accepterVpcId : p.requesterVpcId;
    const a = t.vpcs.get(from.vpcId)?.name ?? from.vpcId;
    const b = t.vpcs.get(other)?.name ?? other;
    hops.push({ kind: 'peering', resourceId: p.id, resourceName: pname, detail: `${a} -> ${b}`, ok: true });
    vpcId = other;
    routers = 1;
  }
  const vpc = t.vpcs.get(vpcId);
  const vname = vpc?.name ?? vpcId;
  const target = subnetHolding(t, vpcId, dst);
  if (!target) {
    const why = routers > 0 ? `${dstText} is in no subnet of ${vname}; peering is not transitive` : `${dstText} is in no subnet of ${vname}`;
    return fail({ kind: 'delivery', resourceId: vpcId, resourceName: vname, detail: why });
  }
  if (target.subnet.id !== from.subnetId) routers += 1;
  const server = t.serverByIp.get(vpcId)?.get(dst);
  if (!server) {
    return fail({ kind: 'delivery', resourceId: target.subnet.id, resourceName: target.subnet.name, detail: `no server holds ${dstText}` });
  }
  if (server.status !== 'running') {
    return fail({ kind: 'delivery', resourceId: server.id, resourceName: server.name, detail: `${server.name} (${dstText}) is stopped` });
  }
  hops.push({
    kind: 'delivery',
    resourceId: target.subnet.id,
    resourceName: target.subnet.name,
    detail: `${vname} subnet ${target.subnet.name} -> ${server.name} (${dstText})`,
    ok: true,
  });
  return { hops, server, routers, failed: false };
}

export function checkQuery(q: TraceQuery): void {
  if (!['icmp', 'tcp', 'udp'].includes(q.protocol)) throw invalid(`protocol: '${q.protocol}' must be icmp, tcp or udp`);
  if (q.protocol !== 'icmp') {
    checkPort(q.port, 'port', ` for ${q.protocol}`);
  }
}

/** Answers whether `q` gets through, hop by hop, both ways. */
export function trace(t: Topology, q: TraceQuery): TraceResult {
  checkQuery(q);
  if (q.sourceServerId.startsWith('inet-')) return fromInternet(t, q);
  const src = t.servers.get(q.sourceServerId);
  if (!src) throw invalid(`sourceServerId: '${q.sourceServerId}' is not a server`);
  const dst = parseIp(q.destination, 'destination');
  const srcIp = t.serverIp.get(src.id)!;
  const { result, block } = emptyResult({ serverId: src.id, name: src.name, ip: src.privateIp }, dst, q);
  const srcHop = (detail: string, ok: boolean): Hop => ({ kind: 'source', resourceId: src.id, resourceName: src.name, detail, ok });
  if (src.status !== 'running') {
    result.forward.push(srcHop(`${src.name} is stopped`, false));
    return block('forward', result.forward[0]);
  }
  // Port security (AWS's source/destination check): the VPC takes from a server only packets from its own address.
  const claimed = q.sourceIp === undefined ? srcIp : parseIp(q.sourceIp, 'sourceIp');
  if (claimed !== srcIp) {
    result.forward.push({
      kind: 'port-security',
      resourceId: src.id,
      resourceName: src.name,
      detail: `source ${intToIp(claimed)} is not ${src.name}'s address ${src.privateIp}: the VPC drops it at ${src.name}'s port`,
      ok: false,
    });
    return block('forward', result.forward[0]);
  }
  if (dst === srcIp || (dst & LOOPBACK.mask) >>> 0 === LOOPBACK.net) {
    const why =
      dst === srcIp
        ? `${intToIp(dst)} is ${src.name}'s own address`
        : `${intToIp(dst)} is in 127.0.0.0/8, ${src.name}'s own loopback: it never leaves the server`;
    result.forward.push(srcHop(why, true));
    result.destinationServer = { serverId: src.id, name: src.name };
    result.reachable = true;
    return result;
  }

  if (resolverAt(t, src, dst)) return toResolver(t, src, dst, q, result, block);

  const fwd = route(t, src, dst);
  const egress = matchRule(t, t.egress.get(src.id)!, q, dst, fwd.server);
  const egressHop = groupHop(t, 'egress', egress, src, q, intToIp(dst));
  result.forward.push(egressHop, ...fwd.hops);
  if (!egress) return block('forward', egressHop);
  if (fwd.edge) return edgeOut(t, src, dst, fwd.edge, result, block, q);
  if (fwd.failed) return block('forward', fwd.hops[fwd.hops.length - 1]);
  const dstServer = fwd.server!;
  result.destinationServer = { serverId: dstServer.id, name: dstServer.name };
  // Network ACLs at the edges of the two subnets (stateless), before the destination's group.
  const fwdAcl = crossing(t, result.forward, { subnetId: src.subnetId, ip: srcIp }, { subnetId: dstServer.subnetId, ip: dst }, q, false);
  if (fwdAcl) return block('forward', fwdAcl);

  const ingress = matchRule(t, t.ingress.get(dstServer.id)!, q, srcIp, src);
  const ingressHop = groupHop(t, 'ingress', ingress, dstServer, q, src.privateIp);
  result.forward.push(ingressHop);
  if (!ingress) return block('forward', ingressHop);

  const back = route(t, dstServer, srcIp);
  result.return.push(...back.hops);
  if (back.failed) return block('return', back.hops[back.hops.length - 1]);
  if (back.server!.id !== src.id) {
    const h: Hop = {
      kind: 'delivery',
      resourceId: back.server!.id,
      resourceName: back.server!.name,
      detail: `reply reaches ${back.server!.name}, not ${src.name}`,
      ok: false,
    };
    result.return.push(h);
    return block('return', h);
  }
  // The reply crosses the ACLs again: they keep no state, so it needs rules of its own.
  const backAcl = crossing(t, result.return, { subnetId: dstServer.subnetId, ip: dst }, { subnetId: src.subnetId, ip: srcIp }, q, true);
  if (backAcl) return block('return', backAcl);
  result.return.push({ kind: 'stateful', resourceId: src.id, resourceName: src.name, detail: 'reply admitted as established traffic', ok: true });
  result.reachable = true;
  result.routers = fwd.routers;
  return result;
}

/** Whether `dst` is where the source's VPC resolver answers: 169.254.169.253, or a subnet's .253. */
function resolverAt(t: Topology, src: Server, dst: number): boolean {
  if (intToIp(dst) === RESOLVER_IP) return true;
  return (t.subnetsByVpc.get(src.vpcId) ?? []).some((cs) => subnetResolver(cs.subnet.cidr) === intToIp(dst));
}

/**
 * A query to the VPC's own resolver: the source's group must let it out; the router answers
 * DNS (udp and tcp 53) when the VPC has DNS support, nothing else. Network ACLs do not filter
 * traffic to the resolver, as in AWS; the reply comes back as established traffic.
 */
function toResolver(
  t: Topology,
  src: Server,
  dst: number,
  q: TraceQuery,
  result: TraceResult,
  block: (d: 'forward' | 'return', h: Hop) => TraceResult,
): TraceResult {
  const vpc = t.vpcs.get(src.vpcId)!;
  const egress = matchRule(t, t.egress.get(src.id)!, q, dst, undefined);
  const egressHop = groupHop(t, 'egress', egress, src, q, intToIp(dst));
  result.forward.push(egressHop);
  if (!egress) return block('forward', egressHop);
  const dns = (q.protocol === 'udp' || q.protocol === 'tcp') && q.port === 53;
  const hop: Hop = {
    kind: 'delivery',
    resourceId: vpc.id,
    resourceName: `${vpc.name} resolver`,
    detail: !dnsSupport(vpc)
      ? `DNS support is off in VPC ${vpc.name}: nothing answers at ${intToIp(dst)}`
      : dns
        ? `VPC ${vpc.name}'s resolver answers at ${intToIp(dst)} (network ACLs do not filter it, as in AWS)`
        : `VPC ${vpc.name}'s resolver at ${intToIp(dst)} answers DNS only (udp and tcp 53), not ${q.protocol}${q.protocol === 'icmp' ? '' : `:${q.port}`}`,
    ok: dnsSupport(vpc) && dns,
  };
  result.forward.push(hop);
  if (!hop.ok) return block('forward', hop);
  result.return.push({ kind: 'stateful', resourceId: src.id, resourceName: src.name, detail: 'reply admitted as established traffic', ok: true });
  result.reachable = true;
  return result;
}

/** Where a packet from `from` to `dst` is delivered, without explanations: the server, or null. */
export function deliverQuietly(t: Topology, from: Server, dst: number): Server | null {
  const table = t.tables.get(t.subnets.get(from.subnetId)!.subnet.routeTableId)!;
  const r = lookup(table, dst);
  if (!r || r.target.type === 'blackhole' || r.target.type === 'internetGateway' || r.target.type === 'natGateway') return null;
  let vpcId = from.vpcId;
  if (r.target.type === 'peering') {
    const p = t.peerings.get(r.target.peeringId);
    if (!p || p.status !== 'active') return null;
    vpcId = p.requesterVpcId === from.vpcId ? p.accepterVpcId : p.requesterVpcId;
  }
  if (!subnetHolding(t, vpcId, dst)) return null;
  const server = t.serverByIp.get(vpcId)?.get(dst);
  return server && server.status === 'running' ? server : null;
}

/**
 * The verdict of trace() alone, with no hops or text: for reachability matrices, where
 * millions of paths are asked. A test holds it equal to trace().reachable.
 */
export function reachable(t: Topology, q: TraceQuery): boolean {
  const src = t.servers.get(q.sourceServerId);
  if (q.sourceServerId.startsWith('inet-')) return trace(t, q).reachable;
  if (!src || src.status !== 'running') return false;
  const dst = parseIp(q.destination, 'destination');
  const srcIp = t.serverIp.get(src.id)!;
  if (dst === srcIp || (dst & LOOPBACK.mask) >>> 0 === LOOPBACK.net) return true;
  if (resolverAt(t, src, dst)) return trace(t, q).reachable;
  const table = t.tables.get(t.subnets.get(src.subnetId)!.subnet.routeTableId)!;
  const kind = lookup(table, dst)?.target.type;
  if (kind === 'internetGateway' || kind === 'natGateway') return trace(t, q).reachable;
  const to = deliverQuietly(t, src, dst);
  if (!matchRule(t, t.egress.get(src.id)!, q, dst, to ?? undefined) || !to) return false;
  if (!matchRule(t, t.ingress.get(to.id)!, q, srcIp, src)) return false;
  if (deliverQuietly(t, to, srcIp)?.id !== src.id) return false;
  const a = { subnetId: src.subnetId, ip: srcIp };
  const b = { subnetId: to.subnetId, ip: dst };
  return crossingAllowed(t, a, b, q, false) && crossingAllowed(t, b, a, q, true);
}
