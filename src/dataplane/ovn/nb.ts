/**
 * What OVN's northbound database should hold for a snapshot of the store (pure), and the one
 * transaction that brings what it holds there (pure). The mapping is ML2/OVN's (OVN-NOTES.md):
 *
 *   VPC             Logical_Router, named by the VPC's id
 *   subnet          Logical_Switch (its id) + Logical_Router_Port rp-<subnet> with the gateway IP
 *                   + a switch port of type router, sp-<subnet>
 *   endpoint        Logical_Switch_Port (the server's, load balancer's, NAT gateway's or DNS
 *                   resolver's id; a resolver's also holds 169.254.169.253, routed to it), its MAC
 *                   and IP as addresses and port security, bound to its chassis (requested-chassis),
 *                   disabled while the server is stopped
 *   security group  Port_Group pg_<id> with ACLs at priority 1002, allow-related (stateful);
 *                   every endpoint with groups is also in pg_<prefix>_drop, whose ACLs (1001)
 *                   drop the IP traffic no group allows, both ways
 *   TCP listener    Load_Balancer lb_<listener id>, VIP:port to its admitted members, attached to
 *                   the switches of its clients (its VPC's and its peers'): DNAT on the client's chassis;
 *                   with a health monitor, a Load_Balancer_Health_Check that each backend's chassis runs
 *                   from the subnet's reserved second-to-last address (ip_port_mappings)
 *   peering         a router port on each side (169.254.0.0/16, a /30 per peering), peers of
 *                   each other; each subnet's route table becomes policies matching its router
 *                   port (OVN routers have one table: a policy per route, by prefix length); a
 *                   policy on each peering port drops what is not for the VPC's own subnets, so
 *                   nothing transits (OVN does not forbid it, pitfall 8)
 *   network ACL     inbound: Port_Group pg_nacl_<subnet> holding the subnet's switch port towards
 *                   its router (sp-<subnet>, a unit of its own), with stateless ACLs in the rules'
 *                   order (naclIngressAcls); outbound: the router's policies on the subnet's router
 *                   port, which take its route-table policies in (naclEgressPolicies). Traffic
 *                   within a subnet passes neither, as in a cloud
 *
 * Each row Nimbus owns carries `nimbus-owner` (the installation's prefix), `nimbus-key` and a
 * digest of what it holds in external_ids. A unit whose digest differs is deleted and made
 * again in the same transaction: a router with its ports, routes and policies; a switch (its
 * ports with it); a switch port; a port group with its ACLs. A port group's members are set
 * whenever they differ. Rows of non-root tables are referenced from their parent in the
 * transaction that makes them, or OVSDB collects them.
 */
import { createHash } from 'node:crypto';
import { containsCidr, intToIp, parseCidr } from '../../core/cidr.js';
import type { AclRule, SecurityGroupRule, Server, Subnet } from '../../core/model/index.js';
import { aclOfSubnet } from '../../core/acl.js';
import type { InternetGateway, RouteTarget } from '../../core/model/index.js';
import { mappings } from '../linux/edge.js';
import { gatewayAddresses } from '../linux/names.js';
import { RESOLVER_IP } from '../../core/dns.js';
import type { ResolverEndpoint } from './resolver.js';
import { compile, type Snapshot } from '../../net/topology.js';
import { deliverQuietly } from '../../net/trace.js';
import { map, named, set, uuid, type Atom, type Operation, type Row } from './ovsdb.js';

export const NB = 'OVN_Northbound';

export type UnitTable = 'Logical_Router' | 'Load_Balancer' | 'Logical_Switch' | 'Logical_Switch_Port' | 'Port_Group';

interface Child {
  table:
    | 'Logical_Router_Port'
    | 'Logical_Router_Policy'
    | 'Logical_Router_Static_Route'
    | 'Logical_Switch_Port'
    | 'ACL'
    | 'Load_Balancer_Health_Check'
    | 'NAT'
    | 'Gateway_Chassis';
  row: Row;
  /** The parent's column that refers to it; none: another child refers to it by `name`. */
  column: string | null;
  /** Its name in the transaction, for a child that another child (made after it) refers to. */
  name?: string;
}

/** The edge on this plane: where internet gateways are bound, and the links' addresses. */
export interface OvnEdge {
  /** The chassis whose bridges reach the internet's namespace (null: none, so no gateway is made). */
  chassis: string | null;
}

/** The internet gateways attached to a VPC that exists, by id. */
export function attachedGateways(s: Snapshot): InternetGateway[] {
  const vpcs = new Set(s.vpcs.map((v) => v.id));
  return (s.internetGateways ?? []).filter((g) => g.vpcId && vpcs.has(g.vpcId)).sort((a, b) => a.id.localeCompare(b.id));
}

/** An elastic IP (127.0.1.N) as the gateway's link and OVN's NAT know it: 100.64.1.N (OVN drops 127/8 as a martian). */
export const ovnPublic = (publicIp: string) => `100.64.1.${publicIp.split('.')[3]}`;

/** An internet gateway's names: its router port, its external switch's localnet network and the bridge it maps to. */
export const gatewayNames = (igwId: string) => {
  const s = igwId.slice(igwId.indexOf('-') + 1, igwId.indexOf('-') + 9);
  return { routerPort: `gp-${igwId}`, network: `ext${s}`, bridge: `brx${s}`, chassisEnd: `x${s}` };
};

export interface Unit {
  table: UnitTable;
  key: string;
  row: Row;
  children: Child[];
  /** A switch port's switch (its key). */
  parent?: string;
  /** A port group's members (switch ports' keys). */
  members?: string[];
  /** A switch's load balancers (their keys): attached as its clients' (OVN-NOTES pitfall 5). */
  lbs?: string[];
  /** More external_ids: what a joined host's chassis agent reads of a switch port (chassis-agent.ts). */
  labels?: Record<string, string>;
  digest: string;
}

/** A TCP listener served by OVN's own load balancer: its VIP and port, the admitted members, the subnets of its clients. */
export interface TcpVip {
  key: string;
  vip: string;
  backends: string[];
  clientSubnets: string[];
  /**
   * The pool's health monitor as OVN's own check (Load_Balancer_Health_Check, done by the
   * backend's chassis), and for each backend's IP the switch port and source address it is
   * checked from (ip_port_mappings).
   */
  health?: { interval: number; timeout: number; successCount: number; failureCount: number; mappings: Record<string, string> };
}

export interface ObservedUnit {
  table: UnitTable;
  key: string;
  uuid: string;
  digest: string;
  /** A port group's member ports (uuids); a switch's ports (uuids). */
  ports?: string[];
  /** A switch's load balancers (uuids). */
  lbs?: string[];
}

export const OWNER = 'nimbus-owner';

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** A locally administered MAC address taken from an id. */
export function macOf(id: string): string {
  const h = createHash('sha256').update(id).digest();
  return ['0a', ...[0, 1, 2, 3, 4].map((i) => h[i].toString(16).padStart(2, '0'))].join(':');
}

/** A port group's name: an identifier (ACL matches refer to it, pitfall 9). */
export const pgName = (id: string) => `pg_${id.replace(/[^A-Za-z0-9]/g, '_')}`;
export const dropGroup = (prefix: string) => `pg_${prefix}_drop`;
/** The port group of the endpoints whose subnets a route table serves. */
export const rtGroup = (tableId: string) => `pg_rt_${tableId.replace(/[^A-Za-z0-9]/g, '_')}`;

/** Link addresses of each active peering: a /30 in 169.254.0.0/16 chosen from its id, the next free one on a clash. */
export function peeringLinks(peeringIds: string[]): Map<string, { requester: string; accepter: string }> {
  const out = new Map<string, { requester: string; accepter: string }>();
  const taken = new Set<number>();
  for (const id of [...peeringIds].sort()) {
    let block = parseInt(hash(id).slice(0, 4), 16) % 16384;
    while (taken.has(block)) block = (block + 1) % 16384;
    taken.add(block);
    const base = parseCidr('169.254.0.0/16').net + block * 4;
    out.set(id, { requester: intToIp(base + 1), accepter: intToIp(base + 2) });
  }
  return out;
}

/** An ACL's match for one rule of a group (its direction: to-lport for ingress, from-lport for egress). */
export function ruleMatch(rule: SecurityGroupRule, group: string): string {
  const ingress = rule.direction === 'ingress';
  const parts = [ingress ? `outport == @${group}` : `inport == @${group}`, 'ip4'];
  const remote = ingress ? 'ip4.src' : 'ip4.dst';
  if ('cidr' in rule.remote) {
    if (rule.remote.cidr !== '0.0.0.0/0') parts.push(`${remote} == ${rule.remote.cidr}`);
  } else parts.push(`${remote} == $${pgName(rule.remote.groupId)}_ip4`);
  return [...parts, ...protocolMatch(rule)].join(' && ');
}

/** A rule's protocol, ICMP type and code, or destination ports, as OVN expressions (none for all). */
function protocolMatch(rule: Pick<AclRule, 'protocol' | 'icmp' | 'portRange'>): string[] {
  if (rule.protocol === 'icmp') {
    if (!rule.icmp) return ['icmp4'];
    return ['icmp4', `icmp4.type == ${rule.icmp.type}`, ...(rule.icmp.code !== undefined ? [`icmp4.code == ${rule.icmp.code}`] : [])];
  }
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') return [];
  const p = rule.portRange;
  const proto = rule.protocol;
  if (!p || (p.from <= 1 && p.to >= 65535)) return [proto];
  return [proto, p.from === p.to ? `${proto}.dst == ${p.from}` : `${proto}.dst >= ${p.from} && ${proto}.dst <= ${p.to}`];
}

/** What one ACL rule matches, as an OVN expression (its remote end: the source inbound, the destination outbound). */
function aclRuleMatch(r: AclRule): string {
  const parts: string[] = [];
  if (r.cidr !== '0.0.0.0/0') parts.push(`${r.direction === 'ingress' ? 'ip4.src' : 'ip4.dst'} == ${r.cidr}`);
  parts.push(...protocolMatch(r));
  return parts.length ? parts.join(' && ') : 'ip4';
}

/** A network ACL's port group: its ACLs on the subnet's switch port towards the router. */
export const naclGroup = (subnetId: string) => `pg_nacl_${subnetId.replace(/[^A-Za-z0-9]/g, '_')}`;

/**
 * A network ACL's inbound rules on one subnet, as OVN ACLs on the subnet's switch port towards
 * its router (pure): what enters the subnet comes in through that port (from-lport). OVN keeps
 * such traffic out of conntrack (it skips router ports), so `allow-stateless` and `drop` judge
 * each packet alone, as an ACL must. The rules keep their order as priorities (the lowest number
 * highest), and `*` drops below them; the security groups' ACLs match servers' ports only.
 */
export function naclIngressAcls(rules: AclRule[], subnetPort: string): Row[] {
  const edge = `inport == "${subnetPort}" && ip4`;
  const ordered = rules.filter((r) => r.direction === 'ingress').sort((a, b) => a.number - b.number);
  const out: Row[] = ordered.map((r, i) => {
    const m = aclRuleMatch(r);
    return {
      priority: 32766 - i,
      direction: 'from-lport',
      match: m === 'ip4' ? edge : `${edge} && ${m}`,
      action: r.action === 'allow' ? 'allow-stateless' : 'drop',
    };
  });
  out.push({ priority: 32766 - ordered.length, direction: 'from-lport', match: edge, action: 'drop' });
  return out;
}

/** A router policy: priority, match, action (and its next hops). */
export type Policy = { priority: number; match: string; action: 'drop' | 'reroute' | 'allow'; nexthops?: string[] };

/** Priorities per outbound rule: room for the subnet's route policies (one per prefix length) under it. */
const RULE_BLOCK = 40;

/**
 * A network ACL's outbound rules on one subnet, as its router's policies (pure), which replace
 * the subnet's route-table policies (`routes`, priority 1000 + prefix length). These leave the
 * subnet through its router port where its switch would see replies after conntrack and let
 * them pass unjudged, so the router judges them. Router policies stop at their first match: a
 * rule's block holds, for an allow, each route policy narrowed to what the rule matches, then
 * `allow` for the rest (the router's routes); for a deny, one drop. `*` drops below them all.
 */
export function naclEgressPolicies(rules: AclRule[], routerPort: string, routes: Policy[]): Policy[] {
  const edge = `inport == "${routerPort}" && ip4`;
  const ordered = rules.filter((r) => r.direction === 'egress').sort((a, b) => a.number - b.number);
  const out: Policy[] = [];
  let base = 32700;
  for (const r of ordered) {
    const m = aclRuleMatch(r);
    const match = m === 'ip4' ? edge : `${edge} && ${m}`;
    if (r.action === 'deny') out.push({ priority: base, match, action: 'drop' });
    else {
      for (const p of routes) out.push({ ...p, priority: base - 1 - (1032 - p.priority), match: m === 'ip4' ? p.match : `${p.match} && ${m}` });
      out.push({ priority: base - RULE_BLOCK + 1, match, action: 'allow' });
    }
    if (m === 'ip4') return out;
    base -= RULE_BLOCK;
  }
  out.push({ priority: base, match: edge, action: 'drop' });
  return out;
}

function ids(prefix: string, key: string, digest: string, labels: Record<string, string> = {}): Row[string] {
  return map({ ...labels, [OWNER]: prefix, 'nimbus-key': key, 'nimbus-digest': digest });
}

/** Finishes a unit: its digest over what it holds, written into its row. */
function unit(prefix: string, u: Omit<Unit, 'digest'>): Unit {
  const digest = hash(JSON.stringify(u.labels ? [u.row, u.children, u.parent ?? null, u.labels] : [u.row, u.children, u.parent ?? null]));
  return { ...u, digest, row: { ...u.row, external_ids: ids(prefix, u.key, digest, u.labels) } };
}

/** The external_ids a joined host's chassis agent plugs a server by (chassis-agent.ts): its address with the subnet's length, its gateway, its name. */
export const AGENT_LABELS = { cidr: 'nimbus-cidr', gateway: 'nimbus-gateway', name: 'nimbus-name', resolv: 'nimbus-resolv' } as const;

/**
 * The northbound units for `snapshot`; `chassisOf` says where each endpoint is bound (null:
 * nowhere yet).
 */
export function desiredNb(
  snapshot: Snapshot,
  prefix: string,
  chassisOf: (endpoint: Server) => string | null,
  vips: TcpVip[] = [],
  resolvers: ResolverEndpoint[] = [],
  edge: OvnEdge = { chassis: null },
  /** Chassis of joined hosts (not this machine's): their servers' ports carry what the host's agent plugs them by. */
  remote: ReadonlySet<string> = new Set(),
  /** A server's resolv.conf, which a joined host's agent writes for it. */
  resolvOf: (e: Server) => string | undefined = () => undefined,
): Unit[] {
  const units: Unit[] = [];
  const vpcs = new Map(snapshot.vpcs.map((v) => [v.id, v]));
  const subnets = snapshot.subnets.filter((s) => vpcs.has(s.vpcId));
  const active = snapshot.peerings.filter((p) => p.status === 'active' && vpcs.has(p.requesterVpcId) && vpcs.has(p.accepterVpcId));
  const links = peeringLinks(active.map((p) => p.id));
  const tables = new Map(snapshot.routeTables.map((t) => [t.id, t]));
  // The edge: each attached internet gateway is a port of its VPC's router bound to the gateway chassis.
  const gateways = edge.chassis ? attachedGateways(snapshot) : [];
  const gatewayAddrs = gatewayAddresses(gateways.map((g) => g.id));
  const endpointVpc = new Map(snapshot.servers.map((e) => [e.id, e.vpcId]));
  const mapped = mappings(snapshot.elasticIps ?? [], (id) => endpointVpc.get(id));
  const nats = new Map((snapshot.natGateways ?? []).map((n) => [n.id, n]));

  for (const vpc of snapshot.vpcs) {
    const own = subnets.filter((s) => s.vpcId === vpc.id);
    const children: Child[] = [];
    for (const s of own) {
      const len = s.cidr.split('/')[1];
      children.push({
        table: 'Logical_Router_Port',
        column: 'ports',
        row: { name: `rp-${s.id}`, mac: macOf(`rp-${s.id}`), networks: set([`${s.gatewayIp}/${len}`]) },
      });
    }
    const peerPorts: { name: string; peering: string }[] = [];
    for (const p of active) {
      const side = p.requesterVpcId === vpc.id ? 'requester' : p.accepterVpcId === vpc.id ? 'accepter' : null;
      if (!side) continue;
      const link = links.get(p.id)!;
      const name = `pp-${p.id}-${vpc.id}`;
      const peer = `pp-${p.id}-${side === 'requester' ? p.accepterVpcId : p.requesterVpcId}`;
      children.push({ table: 'Logical_Router_Port', column: 'ports', row: { name, mac: macOf(name), networks: set([`${link[side]}/30`]), peer } });
      peerPorts.push({ name, peering: p.id });
    }
    // Each subnet's route table: a policy per route through a peering (or a blackhole), matched on the subnet's
    // router port. OVN routes before it applies policies, so every such destination also has a static route
    // (through a peering's link, or discard); a subnet whose table lacks a destination gets its longest covering
    // route's verdict for it, or a drop, so the router's one table never answers for a subnet's own.
    const igw = gateways.find((g) => g.vpcId === vpc.id);
    if (igw) {
      const names = gatewayNames(igw.id);
      const gc = `gc_${igw.id.replace(/[^A-Za-z0-9]/g, '_')}`;
      children.push({
        table: 'Gateway_Chassis',
        column: null,
        name: gc,
        row: { name: `${names.routerPort}-${edge.chassis}`, chassis_name: edge.chassis!, priority: 1 },
      });
      children.push({
        table: 'Logical_Router_Port',
        column: 'ports',
        row: {
          name: names.routerPort,
          mac: macOf(names.routerPort),
          networks: set([`${gatewayAddrs.get(igw.id)!.router}/30`]),
          gateway_chassis: set([named(gc)]),
        },
      });
      // Each elastic IP of the VPC: translated both ways on the gateway chassis (AWS's 1:1 NAT at the internet
      // gateway), as the link knows it (edge.ts ovnPublic: OVN drops 127/8).
      for (const m of mapped.filter((x) => x.vpcId === vpc.id))
        children.push({ table: 'NAT', column: 'nat', row: { type: 'dnat_and_snat', external_ip: ovnPublic(m.publicIp), logical_ip: m.privateIp } });
    }
    const hop = (target: RouteTarget): string | null => {
      if (target.type === 'internetGateway') return igw && target.gatewayId === igw.id ? gatewayAddrs.get(igw.id)!.internet : null;
      if (target.type === 'natGateway') {
        const nat = nats.get(target.natGatewayId);
        return nat && nat.status === 'available' && nat.vpcId === vpc.id ? nat.privateIp : null;
      }
      if (target.type !== 'peering') return null;
      const p = active.find((x) => x.id === target.peeringId);
      const link = p && links.get(p.id);
      return p && link ? (p.requesterVpcId === vpc.id ? link.accepter : link.requester) : null;
    };
    const routesOf = new Map(
      own.map((s) => [s.id, (tables.get(s.routeTableId) ?? tables.get(vpc.mainRouteTableId))?.routes.filter((r) => r.target.type !== 'local') ?? []]),
    );
    const union = new Map<string, string>();
    for (const routes of routesOf.values())
      for (const r of routes)
        if (!union.has(r.destination) || (union.get(r.destination) === 'discard' && hop(r.target))) union.set(r.destination, hop(r.target) ?? 'discard');
    for (const [dest, nexthop] of [...union].sort())
      children.push({ table: 'Logical_Router_Static_Route', column: 'static_routes', row: { ip_prefix: dest, nexthop } });
    for (const s of own) {
      const routes = routesOf.get(s.id)!;
      const policies: Policy[] = [];
      for (const dest of [...union.keys()].sort()) {
        const d = parseCidr(dest);
        // The subnet's own route to it, or its longest route that covers it.
        const covering = routes
          .map((r) => ({ r, c: parseCidr(r.destination) }))
          .filter(({ c }) => containsCidr(c, d))
          .sort((x, y) => y.c.prefix - x.c.prefix)[0];
        const nexthop = covering ? hop(covering.r.target) : null;
        const match = `inport == "rp-${s.id}" && ip4.dst == ${dest}`;
        const priority = 1000 + d.prefix;
        policies.push(nexthop ? { priority, match, action: 'reroute', nexthops: [nexthop] } : { priority, match, action: 'drop' });
      }
      // The VPC's own addresses stay its router's (the table's local route), under a wider route that covers them (0.0.0.0/0).
      const v = parseCidr(vpc.cidr);
      if ([...union.keys()].some((dest) => parseCidr(dest).prefix < v.prefix && containsCidr(parseCidr(dest), v)))
        policies.push({ priority: 1000 + v.prefix, match: `inport == "rp-${s.id}" && ip4.dst == ${vpc.cidr}`, action: 'allow' });
      // A network ACL's outbound rules take the route policies into their own (naclEgressPolicies).
      const acl = aclOfSubnet(snapshot.networkAcls ?? [], s);
      for (const p of acl ? naclEgressPolicies(acl.rules, `rp-${s.id}`, policies) : policies) {
        const { nexthops, ...row } = p;
        children.push({ table: 'Logical_Router_Policy', column: 'policies', row: nexthops ? { ...row, nexthops: set(nexthops) } : row });
      }
    }
    // What arrives over a peering goes to this VPC's own subnets, nowhere else (no transit).
    if (peerPorts.length > 0) {
      const mine = own.map((s) => s.cidr);
      for (const pp of peerPorts)
        children.push({
          table: 'Logical_Router_Policy',
          column: 'policies',
          row: {
            priority: 30000,
            match: mine.length ? `inport == "${pp.name}" && ip4 && !(ip4.dst == {${mine.join(', ')}})` : `inport == "${pp.name}"`,
            action: 'drop',
          },
        });
    }
    // The VPC's DNS resolver answers at AWS's address too: the router sends it to the resolver's endpoint.
    const resolver = resolvers.find((r) => r.vpcId === vpc.id && r.aws);
    if (resolver)
      children.push({ table: 'Logical_Router_Static_Route', column: 'static_routes', row: { ip_prefix: `${RESOLVER_IP}/32`, nexthop: resolver.privateIp } });
    units.push(unit(prefix, { table: 'Logical_Router', key: vpc.id, row: { name: vpc.id }, children }));
  }

  // Each internet gateway's link: a switch with the gateway's router port and a localnet port, which the
  // gateway chassis maps to its bridge towards the internet's namespace.
  for (const g of gateways) {
    const names = gatewayNames(g.id);
    units.push(
      unit(prefix, {
        table: 'Logical_Switch',
        key: `ext:${g.id}`,
        row: { name: `ext-${g.id}` },
        children: [
          {
            table: 'Logical_Switch_Port',
            column: 'ports',
            row: { name: `ln-${g.id}`, type: 'localnet', addresses: set(['unknown']), options: map({ network_name: names.network }) },
          },
          {
            table: 'Logical_Switch_Port',
            column: 'ports',
            row: { name: `xp-${g.id}`, type: 'router', addresses: set(['router']), options: map({ 'router-port': names.routerPort }) },
          },
        ],
      }),
    );
  }

  // TCP listeners: OVN's load balancer, its DNAT done on the client's chassis, attached to every client switch.
  for (const v of vips.filter((x) => x.backends.length > 0)) {
    const row: Row = { name: `lb_${v.key.replace(/[^A-Za-z0-9]/g, '_')}`, protocol: 'tcp', vips: map({ [v.vip]: v.backends.join(',') }) };
    const children: Child[] = [];
    if (v.health) {
      // OVN's own check takes a backend out within its failure count; the control plane still takes out those of a down chassis (pitfall 6).
      row.ip_port_mappings = map(v.health.mappings);
      const h = v.health;
      children.push({
        table: 'Load_Balancer_Health_Check',
        column: 'health_check',
        row: {
          vip: v.vip,
          options: map({
            interval: String(h.interval),
            timeout: String(h.timeout),
            success_count: String(h.successCount),
            failure_count: String(h.failureCount),
          }),
        },
      });
    }
    units.push(unit(prefix, { table: 'Load_Balancer', key: v.key, row, children }));
  }
  const served = vips.filter((x) => x.backends.length > 0);
  for (const s of subnets) {
    units.push(
      unit(prefix, {
        table: 'Logical_Switch',
        key: s.id,
        row: { name: s.id },
        children: [],
      }),
    );
    units.at(-1)!.lbs = served
      .filter((v) => v.clientSubnets.includes(s.id))
      .map((v) => v.key)
      .sort();
    // Its port towards the router: a unit of its own, so that a network ACL's port group can name it.
    const port = `sp-${s.id}`;
    units.push(
      unit(prefix, {
        table: 'Logical_Switch_Port',
        key: port,
        parent: s.id,
        row: { name: port, type: 'router', addresses: set(['router']), options: map({ 'router-port': `rp-${s.id}` }) },
        children: [],
      }),
    );
    const acl = aclOfSubnet(snapshot.networkAcls ?? [], s);
    if (acl) {
      const children = naclIngressAcls(acl.rules, port).map((row): Child => ({ table: 'ACL', column: 'acls', row }));
      units.push({ ...unit(prefix, { table: 'Port_Group', key: `nacl:${s.id}`, row: { name: naclGroup(s.id) }, children }), members: [port] });
    }
  }

  const subnetIds = new Set(subnets.map((s) => s.id));
  const subnetById = new Map(subnets.map((s) => [s.id, s]));
  const groupMembers = new Map<string, string[]>();
  const guarded: string[] = [];
  const aws = new Set(resolvers.filter((r) => r.aws).map((r) => r.id));
  for (const e of [...snapshot.servers, ...resolvers]) {
    if (!subnetIds.has(e.subnetId)) continue;
    const chassis = chassisOf(e);
    const mac = macOf(e.id);
    const ips = aws.has(e.id) ? `${e.privateIp} ${RESOLVER_IP}` : e.privateIp;
    const options: Record<string, string> = chassis ? { 'requested-chassis': chassis } : {};
    units.push(
      unit(prefix, {
        table: 'Logical_Switch_Port',
        key: e.id,
        parent: e.subnetId,
        // A stopped server's port is disabled: OVN drops what it sends and what is sent to it (its eth0 stays).
        row: {
          name: e.id,
          addresses: set([`${mac} ${ips}`]),
          // A NAT gateway forwards others' packets (AWS turns its source/destination check off): its MAC only.
          port_security: set([nats.has(e.id) ? mac : `${mac} ${ips}`]),
          options: map(options),
          enabled: e.status === 'running',
        },
        children: [],
        ...(chassis && remote.has(chassis) ? { labels: agentLabels(e, subnetById.get(e.subnetId)!, resolvOf(e as Server)) } : {}),
      }),
    );
    for (const g of e.securityGroupIds) groupMembers.set(g, [...(groupMembers.get(g) ?? []), e.id]);
    if (e.securityGroupIds.length > 0) guarded.push(e.id);
  }

  // A rule naming a group admits its members as the receiving (or sending) server's routing resolves their
  // addresses, as the linux plane and the analyzer do: VPCs may reuse addresses, so OVN's address set of the
  // group (every member's IP, wherever it is) would admit a stranger that shares a member's address. Such a
  // rule becomes one ACL per route table among the group's servers, matched on that table's port group, with
  // the addresses seen from it.
  const topo = compile(snapshot);
  const tableOf = (e: Server) => topo.subnets.get(e.subnetId)?.subnet.routeTableId ?? '';
  const byTable = new Map<string, string[]>();
  const endpoints = snapshot.servers.filter((e) => subnetIds.has(e.subnetId));
  for (const e of endpoints) byTable.set(tableOf(e), [...(byTable.get(tableOf(e)) ?? []), e.id]);
  const tablesUsed = new Set<string>();
  for (const g of snapshot.securityGroups) {
    const name = pgName(g.id);
    const servers = endpoints.filter((e) => e.securityGroupIds.includes(g.id));
    const children: Child[] = [];
    for (const r of g.rules) {
      const direction = r.direction === 'ingress' ? 'to-lport' : 'from-lport';
      if ('cidr' in r.remote) {
        children.push({ table: 'ACL', column: 'acls', row: { priority: 1002, direction, match: ruleMatch(r, name), action: 'allow-related' } });
        continue;
      }
      const remoteGroup = r.remote.groupId;
      const port = r.direction === 'ingress' ? 'outport' : 'inport';
      for (const table of [...new Set(servers.map(tableOf))].sort()) {
        const from = servers.find((e) => tableOf(e) === table)!;
        const seen: string[] = [];
        for (const id of topo.members.get(remoteGroup) ?? []) {
          const ip = topo.serverIp.get(id);
          if (ip !== undefined && deliverQuietly(topo, from, ip)?.id === id) seen.push(intToIp(ip));
        }
        if (seen.length === 0) continue;
        tablesUsed.add(table);
        const match = ruleMatch(r, name).replace(`$${pgName(remoteGroup)}_ip4`, `{${seen.sort().join(', ')}}`) + ` && ${port} == @${rtGroup(table)}`;
        children.push({ table: 'ACL', column: 'acls', row: { priority: 1002, direction, match, action: 'allow-related' } });
      }
    }
    units.push({ ...unit(prefix, { table: 'Port_Group', key: g.id, row: { name }, children }), members: (groupMembers.get(g.id) ?? []).sort() });
  }
  for (const table of [...tablesUsed].sort())
    units.push({
      ...unit(prefix, { table: 'Port_Group', key: `rt:${table}`, row: { name: rtGroup(table) }, children: [] }),
      members: (byTable.get(table) ?? []).sort(),
    });
  const drop = dropGroup(prefix);
  units.push({
    ...unit(prefix, {
      table: 'Port_Group',
      key: drop,
      row: { name: drop },
      children: [
        { table: 'ACL', column: 'acls', row: { priority: 1001, direction: 'to-lport', match: `outport == @${drop} && ip`, action: 'drop' } },
        { table: 'ACL', column: 'acls', row: { priority: 1001, direction: 'from-lport', match: `inport == @${drop} && ip`, action: 'drop' } },
      ],
    }),
    members: guarded.sort(),
  });
  return units;
}

/** The steps of a plan, as people read them. */
export interface NbStep {
  action: 'create' | 'replace' | 'delete' | 'members';
  table: UnitTable;
  key: string;
}

export interface NbPlan {
  steps: NbStep[];
  ops: Operation[];
}

/** Pure: the one transaction that turns `observed` into `desired` (no operation when they agree). */
export function planNb(desired: Unit[], observed: ObservedUnit[]): NbPlan {
  const seen = new Map(observed.map((o) => [`${o.table}/${o.key}`, o]));
  const wanted = new Map(desired.map((u) => [`${u.table}/${u.key}`, u]));
  const steps: NbStep[] = [];
  const ops: Operation[] = [];
  /** Units made (again) in this transaction: their named uuid. */
  const made = new Map<string, string>();
  let n = 0;
  const fresh = (u: Unit) => {
    const o = seen.get(`${u.table}/${u.key}`);
    return !o || o.digest !== u.digest;
  };
  // A switch made again takes its ports with it: they are made again too.
  const remadeSwitches = new Set(desired.filter((u) => u.table === 'Logical_Switch' && fresh(u)).map((u) => u.key));
  const remake = (u: Unit) => fresh(u) || (u.table === 'Logical_Switch_Port' && remadeSwitches.has(u.parent!));

  // Deletions first: what is not wanted, and what is made again.
  for (const o of observed) {
    const u = wanted.get(`${o.table}/${o.key}`);
    if (u && !remake(u)) continue;
    if (!u) steps.push({ action: 'delete', table: o.table, key: o.key });
    if (o.table === 'Logical_Switch_Port') {
      // A port is a child of its switch: taken out of it (OVSDB then collects it), unless the switch goes too.
      const sw = observed.find((x) => x.table === 'Logical_Switch' && x.ports?.includes(o.uuid));
      const swGoes = sw && (!wanted.has(`Logical_Switch/${sw.key}`) || remadeSwitches.has(sw.key));
      if (sw && !swGoes)
        ops.push({ op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', uuid(sw.uuid)]], mutations: [['ports', 'delete', set([uuid(o.uuid)])]] });
    } else ops.push({ op: 'delete', table: o.table, where: [['_uuid', '==', uuid(o.uuid)]] });
  }

  const insertChildren = (u: Unit): Row => {
    const cols: Record<string, Atom[]> = {};
    for (const c of u.children) {
      const name = c.name ?? `c${n++}`;
      ops.push({ op: 'insert', table: c.table, row: c.row, 'uuid-name': name });
      if (c.column) (cols[c.column] ??= []).push(named(name));
    }
    return Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, set(v)]));
  };

  for (const table of ['Logical_Router', 'Load_Balancer', 'Logical_Switch', 'Logical_Switch_Port', 'Port_Group'] as const)
    for (const u of desired.filter((x) => x.table === table)) {
      if (!remake(u)) continue;
      steps.push({ action: seen.has(`${u.table}/${u.key}`) ? 'replace' : 'create', table: u.table, key: u.key });
      const name = `u${n++}`;
      made.set(`${u.table}/${u.key}`, name);
      if (table === 'Logical_Switch_Port') {
        ops.push({ op: 'insert', table, row: u.row, 'uuid-name': name });
        const parent = made.get(`Logical_Switch/${u.parent}`);
        const sw = seen.get(`Logical_Switch/${u.parent}`);
        if (parent) {
          // The switch is made in this transaction: its insert lists the port (below, by mutating it once made).
          ops.push({ op: 'mutate', table: 'Logical_Switch', where: [['name', '==', u.parent!]], mutations: [['ports', 'insert', set([named(name)])]] });
        } else if (sw)
          ops.push({ op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', uuid(sw.uuid)]], mutations: [['ports', 'insert', set([named(name)])]] });
        continue;
      }
      const refs = insertChildren(u);
      const row: Row = { ...u.row, ...refs };
      if (table === 'Port_Group') row.ports = set(refsTo(u.members, 'Logical_Switch_Port', seen, made));
      if (table === 'Logical_Switch' && u.lbs?.length) row.load_balancer = set(refsTo(u.lbs, 'Load_Balancer', seen, made));
      ops.push({ op: 'insert', table, row, 'uuid-name': name });
    }

  // Kept units' references, when they differ: switches' load balancers (one made again has a new uuid), port groups' members.
  for (const k of KEPT_REFS)
    for (const u of desired) {
      if (u.table !== k.table || remake(u)) continue;
      const o = seen.get(`${u.table}/${u.key}`)!;
      const want = refsTo(k.keys(u), k.of, seen, made);
      const before = k.had(o) ?? [];
      if (want.length === before.length && want.every((r) => r[0] === 'uuid' && before.includes(r[1]))) continue;
      steps.push({ action: 'members', table: u.table, key: u.key });
      ops.push({ op: 'update', table: k.table, where: [['_uuid', '==', uuid(o.uuid)]], row: { [k.column]: set(want) } });
    }
  return { steps, ops };
}

/** The references a kept unit holds to other units, set again when they differ (a unit made again has a new uuid). */
const KEPT_REFS: {
  table: 'Logical_Switch' | 'Port_Group';
  column: 'load_balancer' | 'ports';
  keys: (u: Unit) => string[] | undefined;
  of: UnitTable;
  had: (o: ObservedUnit) => string[] | undefined;
}[] = [
  { table: 'Logical_Switch', column: 'load_balancer', keys: (u) => u.lbs, of: 'Load_Balancer', had: (o) => o.lbs },
  { table: 'Port_Group', column: 'ports', keys: (u) => u.members, of: 'Logical_Switch_Port', had: (o) => o.ports },
];

/** References to units of `table` by key: the uuid of one kept, the named uuid of one made in this transaction. */
function refsTo(
  keys: string[] | undefined,
  table: UnitTable,
  seen: Map<string, ObservedUnit>,
  made: Map<string, string>,
): (['uuid', string] | ['named-uuid', string])[] {
  const out: (['uuid', string] | ['named-uuid', string])[] = [];
  for (const key of keys ?? []) {
    const m = made.get(`${table}/${key}`);
    const o = seen.get(`${table}/${key}`);
    if (m) out.push(named(m));
    else if (o) out.push(uuid(o.uuid));
  }
  return out;
}

function agentLabels(e: { name: string; privateIp: string }, s: Subnet, resolv: string | undefined): Record<string, string> {
  return {
    [AGENT_LABELS.cidr]: `${e.privateIp}/${s.cidr.split('/')[1]}`,
    [AGENT_LABELS.gateway]: s.gatewayIp,
    [AGENT_LABELS.name]: e.name,
    ...(resolv !== undefined ? { [AGENT_LABELS.resolv]: resolv } : {}),
  };
}
