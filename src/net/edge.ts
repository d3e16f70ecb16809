/**
 * The analyzer at the edge (pure): a packet that a route sends to an internet gateway or a NAT
 * gateway, and a packet from the internet to an elastic IP. What the linux data plane does
 * (dataplane/linux/edge.ts), said hop by hop:
 *
 * - Out through an internet gateway: the gateway must be attached to the VPC, and the source
 *   must have an elastic IP (AWS drops the rest); the source is translated to it (SNAT).
 * - Out through a NAT gateway: the gateway must be available; it translates the source to its
 *   own address, and its subnet's route table must send the packet on to the internet gateway,
 *   which translates that to the NAT gateway's elastic IP.
 * - In the internet: an internet host answers (HTTP on 80, echo on 7, ping); any other address
 *   has nothing behind it.
 * - From the internet to an elastic IP: the gateway translates the destination to the private
 *   address (DNAT), the server's groups judge the internet's address, and the reply must leave
 *   by a route to the same gateway (a reply through a NAT gateway would carry another address).
 */
import { intToIp, ipToInt, parseCidr, parseIp, maskOf } from '../core/cidr.js';
import { invalid } from '../core/errors.js';
import type { ElasticIp, Hop, Server, TraceResult } from '../core/model/index.js';
import { lookup, type CompiledRoute, type CompiledTable, type Topology } from './topology.js';
import { emptyResult, groupHop, matchRule, type TraceQuery } from './verdict.js';
import { aclHop, crossing } from './acl.js';

const lo = parseCidr('127.0.0.0/8');
export const LOOPBACK = { net: lo.net, mask: maskOf(lo.prefix) };

type Block = (direction: 'forward' | 'return', h: Hop) => TraceResult;

function hop(kind: Hop['kind'], resourceId: string, resourceName: string, detail: string, ok = true): Hop {
  return { kind, resourceId, resourceName, detail, ok };
}

/** The internet's side of a packet to `dst`: an internet host answers; nothing else does. */
function internetHop(t: Topology, dst: number): Hop {
  const host = t.internetHosts.get(dst);
  if (host) return hop('internet', host.id, host.name, `internet host ${host.name} (${host.ip}) answers`);
  return hop('internet', 'internet', 'internet', `no internet host holds ${intToIp(dst)}: nothing answers`, false);
}

/**
 * Goes on from a route that sent the packet of `src` to the edge. Fills `result` (whose
 * forward path holds the egress group's hop already) and returns it.
 */
export function edgeOut(
  t: Topology,
  src: Server,
  dst: number,
  edge: { route: CompiledRoute; table: CompiledTable },
  result: TraceResult,
  block: Block,
  q: TraceQuery,
): TraceResult {
  const { route: r, table } = edge;
  const srcIp = ipToInt(src.privateIp);
  const fwd = result.forward;
  const tname = table.table.name;
  const dstText = intToIp(dst);
  let speaker = src;
  let via: Hop[] = [];
  let nat = null as ReturnType<typeof t.nats.get> | null;
  let gatewayRoute = r;
  let gatewayTable = table;
  if (r.target.type === 'natGateway') {
    nat = t.nats.get(r.target.natGatewayId) ?? null;
    if (!nat || nat.status !== 'available') {
      const h = hop(
        'route',
        table.table.id,
        tname,
        `${r.destination} -> ${nat?.name ?? r.target.natGatewayId} (blackhole: NAT gateway is ${nat?.status ?? 'gone'})`,
        false,
      );
      fwd.push(h);
      return block('forward', h);
    }
    fwd.push(hop('route', table.table.id, tname, `${r.destination} -> ${nat.name}`));
    const toNat = crossing(t, fwd, { subnetId: src.subnetId, ip: srcIp }, { subnetId: nat.subnetId, ip: dst }, q, false);
    if (toNat) return block('forward', toNat);
    fwd.push(hop('nat-gateway', nat.id, nat.name, `source ${src.privateIp} -> ${nat.privateIp} (the NAT gateway's own address)`));
    speaker = t.servers.get(nat.id)!;
    const natTable = t.tables.get(t.subnets.get(nat.subnetId)!.subnet.routeTableId)!;
    const next = lookup(natTable, dst);
    if (!next || next.target.type !== 'internetGateway') {
      const what = next
        ? `${next.destination} -> ${next.target.type === 'natGateway' ? 'another NAT gateway' : next.target.type}`
        : `no route matches ${dstText}`;
      const h = hop('route', natTable.table.id, natTable.table.name, `${what}: the NAT gateway's subnet has no route to an internet gateway`, false);
      fwd.push(h);
      return block('forward', h);
    }
    gatewayRoute = next;
    gatewayTable = natTable;
    via = [
      hop(
        'route',
        natTable.table.id,
        natTable.table.name,
        `${next.destination} -> ${t.gateways.get((next.target as { gatewayId: string }).gatewayId)?.name ?? 'igw'}`,
      ),
    ];
  }
  const gid = (gatewayRoute.target as { gatewayId: string }).gatewayId;
  const igw = t.gateways.get(gid);
  const gname = igw?.name ?? gid;
  if (!igw || igw.vpcId !== src.vpcId) {
    const h = hop(
      'route',
      gatewayTable.table.id,
      gatewayTable.table.name,
      `${gatewayRoute.destination} -> ${gname} (blackhole: the internet gateway is not attached to this VPC)`,
      false,
    );
    fwd.push(h);
    return block('forward', h);
  }
  if (!nat) fwd.push(hop('route', table.table.id, tname, `${r.destination} -> ${gname}`));
  fwd.push(...via);
  const out = aclHop(t, speaker.subnetId, 'egress', q, dst, false);
  if (out) fwd.push(out);
  if (out && !out.ok) return block('forward', out);
  const eip = t.eipOf.get(speaker.id);
  if (!eip) {
    const h = hop(
      'internet-gateway',
      igw.id,
      gname,
      `${speaker.name} (${speaker.privateIp}) has no elastic IP: the internet gateway drops what it sends`,
      false,
    );
    fwd.push(h);
    return block('forward', h);
  }
  fwd.push(hop('internet-gateway', igw.id, gname, `source ${speaker.privateIp} -> ${eip.publicIp} (elastic IP ${eip.name})`));
  const there = internetHop(t, dst);
  fwd.push(there);
  if (!there.ok) return block('forward', there);
  const host = t.internetHosts.get(dst)!;
  result.destinationServer = { serverId: host.id, name: host.name };
  // The reply: to the public address, back through the gateway (and the NAT gateway), and the ACLs again.
  result.return.push(hop('internet-gateway', igw.id, gname, `destination ${eip.publicIp} -> ${speaker.privateIp} (reply)`));
  const back = aclHop(t, speaker.subnetId, 'ingress', q, dst, true);
  if (back) result.return.push(back);
  if (back && !back.ok) return block('return', back);
  if (nat) {
    result.return.push(hop('nat-gateway', nat.id, nat.name, `destination ${nat.privateIp} -> ${src.privateIp} (reply)`));
    const fromNat = crossing(t, result.return, { subnetId: nat.subnetId, ip: dst }, { subnetId: src.subnetId, ip: srcIp }, q, true);
    if (fromNat) return block('return', fromNat);
  }
  result.return.push(hop('stateful', src.id, src.name, 'reply admitted as established traffic'));
  result.reachable = true;
  result.routers = nat ? 4 : 2;
  return result;
}

/** A trace from the internet (`sourceServerId` an internet host's id) to a public address. */
export function fromInternet(t: Topology, q: TraceQuery): TraceResult {
  const host = [...t.internetHosts.values()].find((h) => h.id === q.sourceServerId);
  if (!host) throw invalid(`sourceServerId: '${q.sourceServerId}' is not an internet host`);
  const dst = parseIp(q.destination, 'destination');
  const srcIp = ipToInt(host.ip);
  const { result, block } = emptyResult({ serverId: host.id, name: host.name, ip: host.ip }, dst, q);
  const fwd = result.forward;
  fwd.push(hop('source', host.id, host.name, `internet host ${host.name} (${host.ip})`));
  if (t.internetHosts.has(dst)) {
    const other = t.internetHosts.get(dst)!;
    fwd.push(hop('internet', other.id, other.name, `internet host ${other.name} (${other.ip}) answers`));
    result.destinationServer = { serverId: other.id, name: other.name };
    result.reachable = true;
    return result;
  }
  const eip: ElasticIp | undefined = t.eipByPublic.get(dst);
  if (!eip) {
    const h = hop('internet', 'internet', 'internet', `${intToIp(dst)} is no associated elastic IP: nothing answers`, false);
    fwd.push(h);
    return block('forward', h);
  }
  if (eip.natGatewayId) {
    const nat = t.nats.get(eip.natGatewayId);
    const h = hop(
      'nat-gateway',
      eip.natGatewayId,
      nat?.name ?? eip.natGatewayId,
      `${eip.publicIp} is a NAT gateway's: it takes no connection from outside, only replies`,
      false,
    );
    fwd.push(h);
    return block('forward', h);
  }
  const server = t.servers.get(eip.serverId!);
  const igw = server ? t.gatewayOfVpc.get(server.vpcId) : undefined;
  if (!server || !igw) {
    const h = hop('internet', 'internet', 'internet', `${eip.publicIp} leads to no VPC with an internet gateway`, false);
    fwd.push(h);
    return block('forward', h);
  }
  const what = eip.loadBalancerId ? `public IP of load balancer ${eip.name}` : `elastic IP ${eip.name}`;
  fwd.push(hop('internet-gateway', igw.id, igw.name, `destination ${eip.publicIp} -> ${server.privateIp} (${what})`));
  const cs = t.subnets.get(server.subnetId)!;
  if (server.status !== 'running') {
    const h = hop('delivery', server.id, server.name, `${server.name} (${server.privateIp}) is stopped`, false);
    fwd.push(h);
    return block('forward', h);
  }
  const vname = t.vpcs.get(server.vpcId)?.name ?? server.vpcId;
  fwd.push(hop('delivery', cs.subnet.id, cs.subnet.name, `${vname} subnet ${cs.subnet.name} -> ${server.name} (${server.privateIp})`));
  result.destinationServer = { serverId: server.id, name: server.name };
  const inbound = aclHop(t, server.subnetId, 'ingress', q, srcIp, false);
  if (inbound) fwd.push(inbound);
  if (inbound && !inbound.ok) return block('forward', inbound);
  const ingress = matchRule(t, t.ingress.get(server.id)!, q, srcIp, undefined);
  const ingressHop = groupHop(t, 'ingress', ingress, server, q, host.ip);
  fwd.push(ingressHop);
  if (!ingress) return block('forward', ingressHop);
  // The reply leaves by the server's route table: it must reach the same gateway.
  const table = t.tables.get(cs.subnet.routeTableId)!;
  const back = lookup(table, srcIp);
  const tname = table.table.name;
  if (!back || back.target.type !== 'internetGateway' || t.gateways.get(back.target.gatewayId)?.vpcId !== server.vpcId) {
    const why = !back
      ? `no route matches ${host.ip}: the reply is dropped`
      : back.target.type === 'natGateway'
        ? `${back.destination} -> NAT gateway: the reply would leave with the NAT gateway's address, which the client does not expect`
        : `${back.destination} -> ${back.target.type}: the reply does not reach the internet gateway`;
    const h = hop('route', table.table.id, tname, why, false);
    result.return.push(h);
    return block('return', h);
  }
  const outbound = aclHop(t, server.subnetId, 'egress', q, srcIp, true);
  if (outbound) result.return.push(outbound);
  if (outbound && !outbound.ok) return block('return', outbound);
  result.return.push(hop('route', table.table.id, tname, `${back.destination} -> ${igw.name}`));
  result.return.push(hop('internet-gateway', igw.id, igw.name, `source ${server.privateIp} -> ${eip.publicIp} (reply)`));
  result.return.push(hop('stateful', host.id, host.name, `reply reaches ${host.name}`));
  result.reachable = true;
  result.routers = 2;
  return result;
}
