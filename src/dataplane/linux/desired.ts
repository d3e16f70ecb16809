/**
 * What the kernel should hold, per namespace, for a snapshot of the desired state. Pure.
 *
 * Router namespace of a VPC: forwarding on, one bridge per subnet with its gateway IP, the
 * router ends of the servers' veths on those bridges, one veth end per peering (addressed
 * 169.254.0.1 or .2 /32, reached with `onlink` routes), one kernel table per route table
 * bound to its subnets' bridges by `ip rule`, and PEER_TABLE (own subnets only, then
 * unreachable) for whatever arrives over a peering, so nothing transits. Its own addresses
 * answer nothing (nftables input policy drop), as a cloud's gateway does not.
 *
 * Server namespace: eth0 with the private IP, a default route via the gateway, and the
 * security groups as one stateful nftables table.
 */
import { createHash } from 'node:crypto';
import { dnsSupport, RESOLVER_IP, subnetResolver } from '../../core/dns.js';
import { intToIp, parseCidr } from '../../core/cidr.js';
import { compile, type Snapshot, type SnapshotRouteTable, type Topology } from '../../net/topology.js';
import { deliverQuietly } from '../../net/trace.js';
import type { Peering, Server } from '../../core/model/index.js';
import * as N from './names.js';
import { aclRuleset, loadBalancerRuleset, portsRuleset, serverRuleset, routerRuleset } from './nft.js';
import { PUBLIC_LINK } from './l4.js';
import { INTERNET_CIDR, INTERNET_ROUTER } from '../../core/model/internet.js';
import {
  internetRuleset,
  internetWanted,
  mappings,
  natRuleset,
  OPEN_RULESET,
  ROUTABLE_LOOPBACK_SCRIPT,
  routerEdgeRules,
  uplinkInternet,
  type EdgeInputs,
  type EdgeSlot,
  type Mapping,
} from './edge.js';

export interface LinkSpec {
  name: string;
  kind: 'bridge' | 'veth';
  /** For a veth made from this namespace: its other end. */
  peer?: { name: string; ns: string };
  master?: string;
  up: boolean;
  /**
   * A bridge's own MAC address, set once: a bridge left to itself takes its lowest port's, and
   * changes it when that port goes, while the servers' neighbour caches still hold the old one
   * (a server deleted cut its subnet off from its gateway until the caches expired).
   */
  mac?: string;
}

export interface RouteSpec {
  table: number | 'main';
  dst: string;
  type: 'unicast' | 'blackhole' | 'unreachable';
  dev?: string;
  via?: string;
}

export interface RuleSpec {
  iif: string;
  table: number;
}

export interface NsSpec {
  name: string;
  /** Applied in this order: routers make the veths that the internet and the endpoints configure. */
  role: 'router' | 'internet' | 'server';
  /** The resource this namespace serves (a VPC or a server), for status and errors. */
  resourceId: string;
  /** Links this namespace creates. */
  create: LinkSpec[];
  /** Links made from elsewhere (a veth end) that this namespace only configures. */
  configure: { name: string; up: boolean }[];
  addrs: { dev: string; cidr: string }[];
  routes: RouteSpec[];
  rules: RuleSpec[];
  /** The whole nftables table text, its hash in its comment. */
  nft: string;
  /** A router's port-security table (nft.ts portsRuleset), in the same hash and the same batch. */
  ports?: string;
  nftHash: string;
  /**
   * Kernel settings (sysctl.ts): what observe() must read (`*` for any value) and the script that
   * makes it so, run after the links are up (a loopback coming up brings its routes back).
   */
  setup?: { want: string; script: string };
}

export interface DesiredState {
  namespaces: Map<string, NsSpec>;
  /** The elastic IPs the machine's table sends to the internet (empty without an internet). */
  machine: { mapped: Mapping[]; internet: boolean };
}

/** What observe() prints of a namespace's settings: forwarding, rp_filter (all, default), route_localnet (all), 127/8 local routes. */
const ROUTER_SETUP = { want: '1 0 0 0 *', script: 'sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0' };
const NAT_SETUP = {
  want: '1 0 0 0 *',
  script: 'sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0',
};
const INTERNET_SETUP = { want: '1 0 0 1 0', script: `sysctl -qw net.ipv4.ip_forward=1\n${ROUTABLE_LOOPBACK_SCRIPT}` };
const HOST_SETUP = { want: '0 0 0 1 0', script: `sysctl -qw net.ipv4.ip_forward=0\n${ROUTABLE_LOOPBACK_SCRIPT}` };

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The desired state; `internetOnly`: only the internet's namespaces and the machine's side (the ovn plane's edge). */
export function desiredState(snapshot: Snapshot, prefix: string, slot: EdgeSlot = { alias: 4 }, internetOnly = false): DesiredState {
  const t = compile(snapshot);
  const namespaces = new Map<string, NsSpec>();
  const active = snapshot.peerings.filter((p) => p.status === 'active');
  const edge: EdgeInputs = {
    gateways: (snapshot.internetGateways ?? []).filter((g) => g.vpcId && t.vpcs.has(g.vpcId)),
    mappings: mappings(snapshot.elasticIps ?? [], (id) => t.servers.get(id)?.vpcId),
    hosts: snapshot.internetHosts ?? [],
    nats: snapshot.natGateways ?? [],
  };
  const internet = internetWanted(edge);
  const ctx: RouterInputs = {
    peerAddrs: N.peerAddresses(active.map((p) => p.id)),
    peerings: groupBy(active, (p) => [p.requesterVpcId, p.accepterVpcId]),
    tables: groupBy(snapshot.routeTables, (r) => [r.vpcId]),
    gatewayAddrs: N.gatewayAddresses(edge.gateways.map((g) => g.id)),
    mapped: groupBy(edge.mappings, (m) => [m.vpcId]),
    internet,
    logged: flowLogged(snapshot),
  };
  for (const vpc of internetOnly ? [] : snapshot.vpcs) {
    const spec = routerSpec(t, prefix, vpc.id, ctx);
    namespaces.set(spec.name, spec);
  }
  const seenCache = new Map<string, string[]>();
  for (const server of internetOnly ? [] : snapshot.servers) {
    const spec = server.id.startsWith('nat-') ? natSpec(t, prefix, server) : serverSpec(t, prefix, server, seenCache, ctx.logged.has(server.id));
    namespaces.set(spec.name, spec);
  }
  if (internet) {
    const spec = internetSpec(prefix, edge, ctx.gatewayAddrs, slot);
    namespaces.set(spec.name, spec);
    for (const h of edge.hosts) {
      const hs = internetHostSpec(prefix, h);
      namespaces.set(hs.name, hs);
    }
  }
  return { namespaces, machine: { mapped: internet ? edge.mappings.filter((m) => !m.loadBalancer) : [], internet } };
}

function internetSpec(prefix: string, edge: EdgeInputs, gatewayAddrs: RouterInputs['gatewayAddrs'], slot: EdgeSlot): NsSpec {
  const create: LinkSpec[] = [{ name: N.INTERNET_BRIDGE, kind: 'bridge', up: true, mac: N.bridgeMac(N.INTERNET_BRIDGE) }];
  const configure: NsSpec['configure'] = [];
  const addrs: NsSpec['addrs'] = [{ dev: N.INTERNET_BRIDGE, cidr: `${INTERNET_ROUTER}/${INTERNET_CIDR.split('/')[1]}` }];
  const routes: RouteSpec[] = [{ table: N.INTERNET_TABLE, dst: INTERNET_CIDR, type: 'unicast', dev: N.INTERNET_BRIDGE }];
  const rules: RuleSpec[] = [{ iif: N.INTERNET_BRIDGE, table: N.INTERNET_TABLE }];
  for (const h of edge.hosts) {
    create.push({ name: N.hostPort(h.id), kind: 'veth', peer: { name: 'eth0', ns: N.serverNs(prefix, h.id) }, master: N.INTERNET_BRIDGE, up: true });
  }
  // The machine's end is made in the machine's own namespace (that of pid 1).
  create.push({ name: N.UPLINK, kind: 'veth', peer: { name: N.uplinkHostEnd(prefix), ns: '1' }, up: true });
  addrs.push({ dev: N.UPLINK, cidr: `${uplinkInternet(slot)}/30` });
  rules.push({ iif: N.UPLINK, table: N.INTERNET_TABLE });
  const portOf = new Map<string, string>();
  for (const g of edge.gateways) {
    const port = N.gatewayPort(g.id);
    portOf.set(g.vpcId!, port);
    configure.push({ name: port, up: true });
    addrs.push({ dev: port, cidr: `${gatewayAddrs.get(g.id)!.internet}/32` });
    rules.push({ iif: port, table: N.INTERNET_TABLE });
  }
  const gatewayOf = new Map(edge.gateways.map((g) => [g.vpcId!, g]));
  for (const m of edge.mappings) {
    const g = gatewayOf.get(m.vpcId);
    if (!g) continue;
    routes.push({ table: N.INTERNET_TABLE, dst: `${m.publicIp}/32`, type: 'unicast', dev: portOf.get(m.vpcId)!, via: gatewayAddrs.get(g.id)!.router });
  }
  const mapped = edge.mappings.filter((m) => gatewayOf.has(m.vpcId) && !m.loadBalancer);
  const nft = internetRuleset(slot, N.UPLINK, mapped);
  return {
    name: N.internetNs(prefix),
    role: 'internet',
    resourceId: 'internet',
    create,
    configure,
    addrs,
    routes,
    rules,
    nft,
    nftHash: hash(nft),
    setup: INTERNET_SETUP,
  };
}

function internetHostSpec(prefix: string, h: { id: string; ip: string }): NsSpec {
  return {
    name: N.serverNs(prefix, h.id),
    role: 'server',
    resourceId: h.id,
    create: [],
    configure: [
      { name: 'lo', up: true },
      { name: 'eth0', up: true },
    ],
    addrs: [{ dev: 'eth0', cidr: `${h.ip}/${INTERNET_CIDR.split('/')[1]}` }],
    routes: [{ table: 'main', dst: 'default', type: 'unicast', dev: 'eth0', via: INTERNET_ROUTER }],
    rules: [],
    nft: OPEN_RULESET,
    nftHash: hash(OPEN_RULESET),
    setup: HOST_SETUP,
  };
}

/** A NAT gateway's namespace: its ENI on the subnet's bridge, forwarding outward as itself. */
function natSpec(t: Topology, prefix: string, nat: Server): NsSpec {
  const cs = t.subnets.get(nat.subnetId)!;
  const vpc = t.vpcs.get(nat.vpcId)!;
  const nft = natRuleset(nat.privateIp, vpc.cidr);
  return {
    name: N.serverNs(prefix, nat.id),
    role: 'server',
    resourceId: nat.id,
    create: [],
    configure: [
      { name: 'lo', up: true },
      { name: 'eth0', up: true },
    ],
    addrs: [{ dev: 'eth0', cidr: `${nat.privateIp}/${parseCidr(cs.subnet.cidr).prefix}` }],
    routes: [{ table: 'main', dst: 'default', type: 'unicast', dev: 'eth0', via: cs.subnet.gatewayIp }],
    rules: [],
    nft,
    nftHash: hash(nft),
    setup: NAT_SETUP,
  };
}

/** What every router's spec needs, indexed by VPC once per desired state. */
interface RouterInputs {
  peerAddrs: ReturnType<typeof N.peerAddresses>;
  peerings: Map<string, Peering[]>;
  tables: Map<string, SnapshotRouteTable[]>;
  gatewayAddrs: Map<string, { router: string; internet: string }>;
  mapped: Map<string, Mapping[]>;
  /** Whether the internet's namespace exists (gateways' veths go there). */
  internet: boolean;
  /** The endpoints and subnets a flow log watches (flowLogged). */
  logged: Set<string>;
}

/**
 * What flow logs watch: each endpoint (server or load balancer) they cover by itself, its
 * subnet or its VPC, and the subnets holding such an endpoint (their ACL's rejects are counted).
 */
export function flowLogged(snapshot: Snapshot): Set<string> {
  const out = new Set<string>();
  const logs = snapshot.flowLogs ?? [];
  if (logs.length === 0) return out;
  const watched = new Set(logs.map((f) => f.resourceId));
  for (const s of snapshot.servers) {
    if (s.id.startsWith('nat-')) continue;
    if (watched.has(s.id) || watched.has(s.subnetId) || watched.has(s.vpcId)) out.add(s.id).add(s.subnetId);
  }
  return out;
}

function groupBy<T>(items: T[], keys: (item: T) => string[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    for (const k of keys(item)) {
      const list = out.get(k);
      if (list) list.push(item);
      else out.set(k, [item]);
    }
  }
  return out;
}

function routerSpec(t: Topology, prefix: string, vpcId: string, { peerAddrs, peerings, tables, gatewayAddrs, mapped, internet, logged }: RouterInputs): NsSpec {
  const name = N.routerNs(prefix, vpcId);
  const subnets = t.subnetsByVpc.get(vpcId) ?? [];
  const create: LinkSpec[] = [];
  const addrs: NsSpec['addrs'] = [];
  const routes: RouteSpec[] = [];
  const rules: RuleSpec[] = [];
  const configure: NsSpec['configure'] = [];

  const ownSubnetRoutes = (table: number): RouteSpec[] =>
    subnets.map((cs) => ({ table, dst: cs.subnet.cidr, type: 'unicast' as const, dev: N.bridgeName(cs.subnet.id) }));
  for (const cs of subnets) {
    const br = N.bridgeName(cs.subnet.id);
    create.push({ name: br, kind: 'bridge', up: true, mac: N.bridgeMac(br) });
    addrs.push({ dev: br, cidr: `${cs.subnet.gatewayIp}/${parseCidr(cs.subnet.cidr).prefix}` });
    rules.push({ iif: br, table: N.tableNumber(cs.subnet.routeTableId) });
  }
  const ports: { port: string; ip: string }[] = [];
  for (const server of t.serverByIp.get(vpcId)?.values() ?? []) {
    const ns = N.serverNs(prefix, server.id);
    create.push({ name: N.serverPort(server.id), kind: 'veth', peer: { name: 'eth0', ns }, master: N.bridgeName(server.subnetId), up: true });
    // A NAT gateway forwards others' packets (AWS turns its source/destination check off); it runs none of a tenant's code.
    if (!server.id.startsWith('nat-')) ports.push({ port: N.serverPort(server.id), ip: server.privateIp });
  }
  const igw = internet ? t.gatewayOfVpc.get(vpcId) : undefined;
  const gport = igw ? N.gatewayPort(igw.id) : null;
  if (igw) {
    create.push({ name: gport!, kind: 'veth', peer: { name: gport!, ns: N.internetNs(prefix) }, up: true });
    addrs.push({ dev: gport!, cidr: `${gatewayAddrs.get(igw.id)!.router}/32` });
    // What comes in from the internet reaches this VPC's own subnets only.
    rules.push({ iif: gport!, table: N.PEER_TABLE });
  }
  ports.sort((a, b) => a.port.localeCompare(b.port));
  for (const p of peerings.get(vpcId) ?? []) {
    const port = N.peeringPort(p.id);
    const requester = p.requesterVpcId === vpcId;
    if (requester) {
      const other = N.routerNs(prefix, p.accepterVpcId);
      create.push({ name: port, kind: 'veth', peer: { name: port, ns: other }, up: true });
    } else {
      configure.push({ name: port, up: true });
    }
    const pa = peerAddrs.get(p.id)!;
    addrs.push({ dev: port, cidr: `${requester ? pa.requester : pa.accepter}/32` });
    rules.push({ iif: port, table: N.PEER_TABLE });
  }
  // Traffic that arrived over a peering reaches only this VPC's own subnets.
  routes.push(...ownSubnetRoutes(N.PEER_TABLE), { table: N.PEER_TABLE, dst: 'default', type: 'unreachable' });
  for (const table of tables.get(vpcId) ?? []) {
    const num = N.tableNumber(table.id);
    routes.push(...ownSubnetRoutes(num));
    for (const r of table.routes) {
      if (r.target.type === 'local') {
        // Addresses of the VPC outside every subnet go nowhere.
        routes.push({ table: num, dst: r.destination, type: 'unreachable' });
        continue;
      }
      if (r.target.type === 'internetGateway') {
        if (igw && r.target.gatewayId === igw.id)
          routes.push({ table: num, dst: r.destination, type: 'unicast', dev: gport!, via: gatewayAddrs.get(igw.id)!.internet });
        else routes.push({ table: num, dst: r.destination, type: 'blackhole' });
        continue;
      }
      if (r.target.type === 'natGateway') {
        const nat = t.nats.get(r.target.natGatewayId);
        if (nat && nat.status === 'available' && nat.vpcId === vpcId)
          routes.push({ table: num, dst: r.destination, type: 'unicast', dev: N.bridgeName(nat.subnetId), via: nat.privateIp });
        else routes.push({ table: num, dst: r.destination, type: 'blackhole' });
        continue;
      }
      const p = r.target.type === 'peering' ? t.peerings.get(r.target.peeringId) : undefined;
      if (!p || p.status !== 'active') {
        routes.push({ table: num, dst: r.destination, type: 'blackhole' });
      } else {
        const pa = peerAddrs.get(p.id)!;
        const via = p.requesterVpcId === vpcId ? pa.accepter : pa.requester;
        routes.push({ table: num, dst: r.destination, type: 'unicast', dev: N.peeringPort(p.id), via });
      }
    }
    if (!table.routes.some((r) => r.destination === '0.0.0.0/0')) routes.push({ table: num, dst: 'default', type: 'unreachable' });
  }
  const acls = aclRuleset(
    subnets.map((cs) => ({ bridge: N.bridgeName(cs.subnet.id), rules: t.aclOf.get(cs.subnet.id)?.rules ?? null, logged: logged.has(cs.subnet.id) })),
  );
  const vpc = t.vpcs.get(vpcId);
  const dns = vpc && dnsSupport(vpc) && subnets.length > 0;
  if (dns) {
    // The resolver's addresses: each subnet's .253 on its bridge, and AWS's link-local one on the
    // first bridge (a local address answers on every interface). Not on lo: a router's loopback
    // stays down, or 127/8 would become local and the elastic IPs (127.0.1.x) martians.
    addrs.push({ dev: N.bridgeName(subnets[0].subnet.id), cidr: `${RESOLVER_IP}/32` });
    for (const cs of subnets) addrs.push({ dev: N.bridgeName(cs.subnet.id), cidr: `${subnetResolver(cs.subnet.cidr)}/32` });
  }
  const dnsInput = dns
    ? { bridges: subnets.map((cs) => N.bridgeName(cs.subnet.id)), addresses: [RESOLVER_IP, ...subnets.map((cs) => subnetResolver(cs.subnet.cidr))] }
    : undefined;
  const nft = routerRuleset(dnsInput) + (gport ? `\n${routerEdgeRules(gport, mapped.get(vpcId) ?? [])}` : '') + (acls ? `\n${acls}` : '');
  const portsText = portsRuleset(ports);
  return {
    name,
    role: 'router',
    resourceId: vpcId,
    create,
    configure,
    addrs,
    routes: dedupe(routes),
    rules,
    nft,
    ports: portsText,
    nftHash: hash(nft + portsText),
    setup: ROUTER_SETUP,
  };
}

/** A subnet's own CIDR may also be a route table's local-range entry; keep the first of equal keys. */
function dedupe(routes: RouteSpec[]): RouteSpec[] {
  const seen = new Set<string>();
  return routes.filter((r) => {
    const k = `${r.table} ${r.dst}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function serverSpec(t: Topology, prefix: string, server: Server, seenCache: Map<string, string[]>, flows: boolean): NsSpec {
  const name = N.serverNs(prefix, server.id);
  const cs = t.subnets.get(server.subnetId)!;
  const up = server.status === 'running';
  // A rule naming a group admits the members as this server's routing resolves their
  // addresses; that depends only on the server's route table, so it is computed once per table.
  const membersSeen = (groupId: string): string[] => {
    const key = `${cs.subnet.routeTableId}|${groupId}`;
    let ips = seenCache.get(key);
    if (!ips) {
      ips = [];
      for (const id of t.members.get(groupId) ?? []) {
        const ip = t.serverIp.get(id)!;
        if (deliverQuietly(t, server, ip)?.id === id) ips.push(intToIp(ip));
      }
      ips.sort();
      seenCache.set(key, ips);
    }
    return ips;
  };
  const groupRules = server.securityGroupIds.flatMap((g) => t.groups.get(g)?.rules ?? []);
  // A load balancer's endpoint forwards its kernel listeners' flows (l4.ts).
  const nftText = server.id.startsWith('lb-')
    ? loadBalancerRuleset(groupRules, membersSeen, PUBLIC_LINK, flows)
    : serverRuleset(groupRules, membersSeen, flows);
  return {
    name,
    role: 'server',
    resourceId: server.id,
    create: [],
    configure: [
      { name: 'lo', up: true },
      { name: 'eth0', up },
    ],
    addrs: [{ dev: 'eth0', cidr: `${server.privateIp}/${parseCidr(cs.subnet.cidr).prefix}` }],
    routes: up ? [{ table: 'main', dst: 'default', type: 'unicast', dev: 'eth0', via: cs.subnet.gatewayIp }] : [],
    rules: [],
    nft: nftText,
    nftHash: hash(nftText),
  };
}
