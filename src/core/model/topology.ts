/**
 * The topology file: a whole lab of one project in one YAML document. Its schema is made from
 * the API's own input schemas (inputs.ts): an entry takes the fields its API request takes,
 * less the reference to its parent, which the nesting gives. `nimbus schema topology` prints
 * it as JSON Schema for editors.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Inputs } from './inputs.js';
import { Name, S, StringEnum } from './kit.js';

const strict = { additionalProperties: false } as const;
const list = <T extends Parameters<typeof Type.Array>[0]>(item: T, description: string) => Type.Optional(Type.Array(item, { description, maxItems: 1000 }));

const SubnetEntry = Type.Omit(Inputs.subnet, ['vpc', 'routeTable'], strict);
const VpcEntry = Type.Object({ ...Inputs.vpc.properties, subnets: list(SubnetEntry, 'its subnets') }, { ...strict, description: 'a VPC and its subnets' });
const GroupEntry = Type.Object(
  { ...Inputs.securityGroup.properties, rules: list(Inputs.rule, "its rules ('remote' names a CIDR or a group of the file)") },
  { ...strict, description: "a security group and its rules; 'default' names the project's default group (its rules only)" },
);
const RouteEntry = Type.Object(
  {
    vpc: Type.Optional(S({ maxLength: 255, description: "the VPC whose main route table holds the route (or 'routeTable')" })),
    routeTable: Type.Optional(S({ maxLength: 255, description: 'a route table by name' })),
    ...Inputs.route.properties,
  },
  { ...strict, description: 'a route of a route table' },
);
const RouteTableEntry = Type.Object(
  {
    ...Inputs.routeTable.properties,
    subnets: Type.Optional(Type.Array(S({ minLength: 1, maxLength: 128 }), { maxItems: 200, description: 'the subnets associated with it (by name)' })),
  },
  { ...strict, description: "a route table besides its VPC's main one, and the subnets that use it" },
);
const AclEntry = Type.Object(
  {
    ...Inputs.networkAcl.properties,
    subnets: Type.Optional(Type.Array(S({ minLength: 1, maxLength: 128 }), { maxItems: 200, description: 'the subnets behind it (by name)' })),
    rules: list(Inputs.aclRule, 'its numbered rules (none: it denies everything)'),
    default: Type.Optional(
      Type.Boolean({ description: "the VPC's default ACL: its rules only (it is never made or deleted, nor are subnets put behind it; name it as you like)" }),
    ),
  },
  { ...strict, description: "a network ACL, its rules and the subnets behind it; or, with default, the rules of its VPC's default ACL" },
);
const ElasticIpEntry = Type.Object(
  { ...Inputs.elasticIp.properties, server: Type.Optional(S({ minLength: 1, maxLength: 128, description: 'the server it is associated with' })) },
  { ...strict, description: 'an elastic IP, associated with a server when one is named' },
);
const MemberEntry = Type.Omit(Inputs.member, ['pool'], strict);
const MonitorEntry = Type.Omit(Inputs.healthMonitor, ['pool'], strict);
const PoolEntry = Type.Object(
  {
    ...Type.Omit(Inputs.pool, ['loadBalancer']).properties,
    members: list(MemberEntry, "its members: a server (or an address) and a port; 'name' is optional"),
    healthMonitor: Type.Optional(MonitorEntry),
  },
  { ...strict, description: 'a pool, its members and its health monitor' },
);
const PolicyEntry = Type.Object(
  { ...Type.Omit(Inputs.l7Policy, ['listener', 'position']).properties, name: Name },
  { ...strict, description: "an L7 policy (Octavia's): in the order written, the first whose rules all match takes the request" },
);
const ListenerEntry = Type.Object(
  { ...Type.Omit(Inputs.listener, ['loadBalancer']).properties, policies: list(PolicyEntry, 'its L7 policies, in order (HTTP listeners)') },
  { ...strict, description: 'a listener and its L7 policies' },
);
const LbEntry = Type.Object(
  { ...Inputs.loadBalancer.properties, listeners: list(ListenerEntry, 'its listeners'), pools: list(PoolEntry, 'its pools') },
  { ...strict, description: 'a load balancer, its listeners and its pools' },
);

export const TopologyFile = Type.Object(
  {
    name: Type.Optional(Name),
    vpcs: list(VpcEntry, 'VPCs with their subnets'),
    securityGroups: list(GroupEntry, 'security groups with their rules'),
    servers: list(Inputs.server, 'servers'),
    peerings: list(Type.Omit(Inputs.peering, ['peerProject'], strict), 'peerings between two VPCs of the file (active at once)'),
    routeTables: list(RouteTableEntry, 'route tables and their subnets'),
    networkAcls: list(AclEntry, 'network ACLs, their rules and their subnets'),
    internetGateways: list(Inputs.internetGateway, 'internet gateways (attached to the VPC named)'),
    elasticIps: list(ElasticIpEntry, 'elastic IPs'),
    natGateways: list(Inputs.natGateway, 'NAT gateways, each in a subnet with an elastic IP'),
    flowLogs: list(Inputs.flowLog, 'flow logs, each on a VPC, a subnet or a server'),
    routes: list(RouteEntry, 'routes'),
    loadBalancers: list(LbEntry, 'load balancers'),
  },
  {
    ...strict,
    $id: 'https://nimbus.dev/schemas/topology.json',
    title: 'Nimbus topology file',
    description:
      "A project's VPCs, subnets, route tables, network ACLs, security groups, servers, the edge (internet gateways, elastic IPs, NAT gateways), peerings, routes and load balancers, by name",
  },
);
export type TopologyFile = Static<typeof TopologyFile>;

export const PLAN_ACTIONS = ['create', 'update', 'replace', 'delete', 'adopt'] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

/** One step of a topology plan, as people read it: `create server web-1 (servers[2])`. */
export const TopologyStep = Type.Object({
  action: StringEnum(PLAN_ACTIONS),
  kind: S(),
  name: S(),
  path: S({ description: "where in the file ('' for a resource the file no longer names)" }),
  why: S(),
});
export type TopologyStep = Static<typeof TopologyStep>;

export const TopologyPlan = Type.Object({ name: S(), steps: Type.Array(TopologyStep) });
export type TopologyPlan = Static<typeof TopologyPlan>;

export const TopologyInput = Type.Object(
  {
    file: S({ maxLength: 1_000_000, description: 'the topology file: YAML (or JSON)' }),
    name: Type.Optional(S({ maxLength: 255, description: "what owns its resources when the file has no 'name:' (the CLI sends the file's name)" })),
  },
  strict,
);
export type TopologyInput = Static<typeof TopologyInput>;
