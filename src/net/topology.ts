/**
 * The analyzer's input: a snapshot of the desired state (plain data, any number of
 * projects), compiled once into indexes so that a trace is a few map lookups and a
 * longest-prefix match. Pure: no I/O, no clock.
 */
import { maskOf, parseCidr, ipToInt } from '../core/cidr.js';
import { aclOfSubnet, untouchedDefault } from '../core/acl.js';
import type {
  StoredAcl,
  FlowLog,
  ElasticIp,
  InternetGateway,
  InternetHost,
  NatGateway,
  Peering,
  RouteTarget,
  SecurityGroup,
  SecurityGroupRule,
  Server,
  Subnet,
  Vpc,
} from '../core/model/index.js';

/** A route table as the analyzer needs it (the store's shape). */
export interface SnapshotRouteTable {
  id: string;
  name: string;
  vpcId: string;
  main: boolean;
  routes: { destination: string; target: RouteTarget }[];
}

export interface Snapshot {
  vpcs: Vpc[];
  subnets: Subnet[];
  servers: Server[];
  securityGroups: SecurityGroup[];
  routeTables: SnapshotRouteTable[];
  peerings: Peering[];
  /** The edge (absent: none). NAT gateways are also in `servers`, as endpoints of their subnets. */
  internetGateways?: InternetGateway[];
  elasticIps?: ElasticIp[];
  natGateways?: NatGateway[];
  internetHosts?: InternetHost[];
  /** Network ACLs (absent: none, everything allowed at the subnets' edges). */
  networkAcls?: StoredAcl[];
  /** Flow logs (absent: none); the linux plane counts flows where they watch. */
  flowLogs?: FlowLog[];
}

export interface CompiledRoute {
  destination: string;
  net: number;
  mask: number;
  prefix: number;
  target: RouteTarget;
}

export interface CompiledTable {
  table: SnapshotRouteTable;
  /** Longest prefix first, so the first match wins. */
  routes: CompiledRoute[];
}

export interface CompiledSubnet {
  subnet: Subnet;
  net: number;
  mask: number;
}

export interface CompiledRule {
  rule: SecurityGroupRule;
  group: SecurityGroup;
  net: number;
  mask: number;
  groupId: string | null;
}

export interface Topology {
  vpcs: Map<string, Vpc>;
  subnets: Map<string, CompiledSubnet>;
  subnetsByVpc: Map<string, CompiledSubnet[]>;
  servers: Map<string, Server>;
  /** vpcId → private IP (as integer) → server. */
  serverByIp: Map<string, Map<number, Server>>;
  serverIp: Map<string, number>;
  tables: Map<string, CompiledTable>;
  peerings: Map<string, Peering>;
  groups: Map<string, SecurityGroup>;
  /** serverId → its groups' rules, split by direction. */
  ingress: Map<string, CompiledRule[]>;
  egress: Map<string, CompiledRule[]>;
  /** groupId → ids of member servers. */
  members: Map<string, Set<string>>;
  /** The internet gateway attached to each VPC. */
  gatewayOfVpc: Map<string, InternetGateway>;
  gateways: Map<string, InternetGateway>;
  nats: Map<string, NatGateway>;
  /** Associated elastic IPs by public address, and by the endpoint (server or NAT gateway) they map to. */
  eipByPublic: Map<number, ElasticIp>;
  eipOf: Map<string, ElasticIp>;
  /** Internet hosts by address. */
  internetHosts: Map<number, InternetHost>;
  /** subnetId → the network ACL at its edge (its own or its VPC's default); absent: none, or a default as made (it allows everything). */
  aclOf: Map<string, StoredAcl>;
}

function compileRules(groupIds: string[], groups: Map<string, SecurityGroup>, direction: 'ingress' | 'egress'): CompiledRule[] {
  const out: CompiledRule[] = [];
  for (const gid of groupIds) {
    const group = groups.get(gid);
    if (!group) continue;
    for (const rule of group.rules) {
      if (rule.direction !== direction) continue;
      if ('cidr' in rule.remote) {
        const c = parseCidr(rule.remote.cidr);
        out.push({ rule, group, net: c.net, mask: maskOf(c.prefix), groupId: null });
      } else {
        out.push({ rule, group, net: 0, mask: 0, groupId: rule.remote.groupId });
      }
    }
  }
  return out;
}

export function compile(s: Snapshot): Topology {
  const t: Topology = {
    vpcs: new Map(s.vpcs.map((v) => [v.id, v])),
    subnets: new Map(),
    subnetsByVpc: new Map(),
    servers: new Map(),
    serverByIp: new Map(),
    serverIp: new Map(),
    tables: new Map(),
    peerings: new Map(s.peerings.map((p) => [p.id, p])),
    groups: new Map(s.securityGroups.map((g) => [g.id, g])),
    ingress: new Map(),
    egress: new Map(),
    members: new Map(),
    gatewayOfVpc: new Map(),
    gateways: new Map((s.internetGateways ?? []).map((g) => [g.id, g])),
    nats: new Map((s.natGateways ?? []).map((n) => [n.id, n])),
    eipByPublic: new Map(),
    eipOf: new Map(),
    internetHosts: new Map((s.internetHosts ?? []).map((h) => [ipToInt(h.ip), h])),
    aclOf: new Map(),
  };
  for (const g of s.internetGateways ?? []) if (g.vpcId) t.gatewayOfVpc.set(g.vpcId, g);
  for (const e of s.elasticIps ?? []) {
    const holder = e.serverId ?? e.natGatewayId;
    if (!holder) continue;
    t.eipByPublic.set(ipToInt(e.publicIp), e);
    t.eipOf.set(holder, e);
  }
  for (const subnet of s.subnets) {
    const acl = aclOfSubnet(s.networkAcls ?? [], subnet);
    if (acl && !untouchedDefault(acl)) t.aclOf.set(subnet.id, acl);
    const c = parseCidr(subnet.cidr);
    const cs = { subnet, net: c.net, mask: maskOf(c.prefix) };
    t.subnets.set(subnet.id, cs);
    let list = t.subnetsByVpc.get(subnet.vpcId);
    if (!list) t.subnetsByVpc.set(subnet.vpcId, (list = []));
    list.push(cs);
  }
  for (const table of s.routeTables) {
    const routes = table.routes.map((r) => {
      const c = parseCidr(r.destination);
      return { destination: r.destination, net: c.net, mask: maskOf(c.prefix), prefix: c.prefix, target: r.target };
    });
    routes.sort((a, b) => b.prefix - a.prefix);
    t.tables.set(table.id, { table, routes });
  }
  for (const server of s.servers) {
    t.servers.set(server.id, server);
    const ip = ipToInt(server.privateIp);
    t.serverIp.set(server.id, ip);
    let byIp = t.serverByIp.get(server.vpcId);
    if (!byIp) t.serverByIp.set(server.vpcId, (byIp = new Map()));
    byIp.set(ip, server);
    for (const gid of server.securityGroupIds) {
      let m = t.members.get(gid);
      if (!m) t.members.set(gid, (m = new Set()));
      m.add(server.id);
    }
    t.ingress.set(server.id, compileRules(server.securityGroupIds, t.groups, 'ingress'));
    t.egress.set(server.id, compileRules(server.securityGroupIds, t.groups, 'egress'));
  }
  return t;
}

/** The route of a table that an address matches, longest prefix first. */
export function lookup(table: CompiledTable, ip: number): CompiledRoute | undefined {
  for (const r of table.routes) if ((ip & r.mask) >>> 0 === r.net) return r;
  return undefined;
}

export function subnetHolding(t: Topology, vpcId: string, ip: number): CompiledSubnet | undefined {
  const list = t.subnetsByVpc.get(vpcId);
  if (!list) return undefined;
  for (const s of list) if ((ip & s.mask) >>> 0 === s.net) return s;
  return undefined;
}
