/**
 * The network's resources as the API shows them (camelCase JSON): projects, VPCs, subnets,
 * security groups, servers, route tables and peerings. Each is a schema; its type is derived
 * from it, so the API's validation, its OpenAPI document and the code cannot disagree. The
 * store keeps each resource as one JSON document; fields derived from other resources (a
 * route's state) are filled in on read.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, S, StringEnum } from './kit.js';

export const Project = Type.Object(
  {
    id: S(),
    name: S(),
    createdAt: S(),
    quotas: Type.Optional(Type.Record(S(), Type.Integer(), { description: 'Limits set by an admin; the defaults apply to the others' })),
  },
  { $id: 'Project' },
);
export type Project = Static<typeof Project>;

export const Vpc = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    cidr: S(),
    status: StringEnum(['available']),
    mainRouteTableId: S(),
    enableDnsSupport: Type.Optional(Type.Boolean({ description: "The VPC's resolver answers at 169.254.169.253 and each subnet's .253 (absent: true)" })),
    enableDnsHostnames: Type.Optional(Type.Boolean({ description: 'Servers and load balancers have names NAME.VPC.PROJECT.nimbus.internal (absent: true)' })),
    createdAt: S(),
  },
  { $id: 'Vpc' },
);
export type Vpc = Static<typeof Vpc>;

export const Subnet = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    vpcId: S(),
    cidr: S(),
    gatewayIp: S(),
    routeTableId: S({ description: "The route table the subnet is associated with; the VPC's main table when none is chosen" }),
    explicitRouteTable: Type.Boolean({ description: 'Whether routeTableId is an explicit association (false: it follows the main table)' }),
    networkAclId: Type.Optional(S({ description: "The network ACL at the subnet's edge; absent: the VPC's default ACL" })),
    availableIpCount: Type.Integer(),
    status: StringEnum(['available']),
    createdAt: S(),
  },
  { $id: 'Subnet' },
);
export type Subnet = Static<typeof Subnet>;

export const PROTOCOLS = ['icmp', 'tcp', 'udp', 'all'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const DIRECTIONS = ['ingress', 'egress'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const PortRange = Type.Object({ from: Type.Integer(), to: Type.Integer() });
export type PortRange = Static<typeof PortRange>;

export const ACL_ACTIONS = ['allow', 'deny'] as const;
export type AclAction = (typeof ACL_ACTIONS)[number];

/** A numbered, stateless rule of a network ACL: the lowest number that matches decides; none matches: denied. */
export const AclRule = Type.Object(
  {
    number: Type.Integer({ minimum: 1, maximum: 32766, description: 'Evaluated lowest first; the first match decides' }),
    direction: StringEnum(DIRECTIONS),
    action: StringEnum(ACL_ACTIONS),
    protocol: StringEnum(PROTOCOLS),
    portRange: Nullable(PortRange),
    icmp: Type.Optional(
      Type.Object({ type: Type.Integer(), code: Type.Optional(Type.Integer()) }, { description: 'The ICMP type (and code); every ICMP message when absent' }),
    ),
    cidr: S({ description: 'The remote end: the source of inbound traffic, the destination of outbound' }),
  },
  { $id: 'AclRule' },
);
export type AclRule = Static<typeof AclRule>;

export const NetworkAcl = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    vpcId: S(),
    isDefault: Type.Boolean({ description: "The VPC's default ACL: every subnet not associated with another uses it" }),
    rules: Type.Array(Type.Ref(AclRule)),
    subnetIds: Type.Array(S(), { description: 'The subnets at whose edge it stands (filled in on read)' }),
    createdAt: S(),
  },
  { $id: 'NetworkAcl' },
);
export type NetworkAcl = Static<typeof NetworkAcl>;
/** A network ACL as stored: its subnets are read from the subnets. */
export type StoredAcl = Omit<NetworkAcl, 'subnetIds'>;

export const SecurityGroupRule = Type.Object(
  {
    id: S(),
    direction: StringEnum(DIRECTIONS),
    protocol: StringEnum(PROTOCOLS),
    portRange: Nullable(PortRange),
    icmp: Type.Optional(
      Type.Object(
        { type: Type.Integer(), code: Type.Optional(Type.Integer()) },
        { description: 'The ICMP type (and code) admitted; every ICMP message when absent' },
      ),
    ),
    remote: Type.Union([Type.Object({ cidr: S() }), Type.Object({ groupId: S() })], {
      description: 'A CIDR, or the id of a security group whose members are the remote end',
    }),
    description: Type.Optional(S()),
  },
  { $id: 'SecurityGroupRule' },
);
export type SecurityGroupRule = Static<typeof SecurityGroupRule>;

export const SecurityGroup = Type.Object(
  { id: S(), name: S(), projectId: S(), description: S(), isDefault: Type.Boolean(), rules: Type.Array(Type.Ref(SecurityGroupRule)), createdAt: S() },
  { $id: 'SecurityGroup' },
);
export type SecurityGroup = Static<typeof SecurityGroup>;

/** Stored: running or stopped. Shown: error too, when a running server's workload cannot stay up (statusReason says why). */
export const SERVER_STATUSES = ['running', 'stopped', 'error'] as const;
export type ServerStatus = 'running' | 'stopped';

export const Server = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    vpcId: S(),
    subnetId: S(),
    privateIp: S(),
    securityGroupIds: Type.Array(S()),
    app: Nullable(S()),
    image: Type.Optional(S({ description: 'The image it was launched from, as given (recorded: every server runs the host system)' })),
    loopbackIp: S({ description: 'Where its workload listens on the virtual data plane (a loopback address of its own)' }),
    status: StringEnum(SERVER_STATUSES),
    statusReason: Type.Optional(S()),
    chassis: Type.Optional(S({ description: 'The chassis the server runs on (the ovn data plane); absent on the others' })),
    createdAt: S(),
  },
  { $id: 'Server' },
);
export type Server = Static<typeof Server>;

export const RouteTarget = Type.Union([
  Type.Object({ type: Type.Literal('local') }),
  Type.Object({ type: Type.Literal('peering'), peeringId: S() }),
  Type.Object({ type: Type.Literal('blackhole') }),
  Type.Object({ type: Type.Literal('internetGateway'), gatewayId: S() }),
  Type.Object({ type: Type.Literal('natGateway'), natGatewayId: S() }),
]);
export type RouteTarget = Static<typeof RouteTarget>;

export const Route = Type.Object({
  destination: S(),
  target: RouteTarget,
  state: StringEnum(['active', 'blackhole'], {
    description:
      'blackhole when its target is a blackhole, a peering that is not active, an internet gateway not attached to the VPC or a NAT gateway not available',
  }),
});
export type Route = Static<typeof Route>;

export const RouteTable = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    vpcId: S(),
    main: Type.Boolean(),
    routes: Type.Array(Route),
    subnetIds: Type.Array(S(), { description: 'Subnets using this table (explicitly, or through the main table)' }),
    createdAt: S(),
  },
  { $id: 'RouteTable' },
);
export type RouteTable = Static<typeof RouteTable>;

export const PEERING_STATUSES = ['pending-acceptance', 'active', 'rejected', 'failed', 'deleted'] as const;
export type PeeringStatus = (typeof PEERING_STATUSES)[number];

export const Peering = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    requesterVpcId: S(),
    accepterVpcId: S(),
    accepterProjectId: S(),
    status: StringEnum(PEERING_STATUSES),
    requesterDns: Type.Optional(Type.Boolean({ description: "The accepter's side may resolve the requester VPC's names (both must allow)" })),
    accepterDns: Type.Optional(Type.Boolean({ description: "The requester's side may resolve the accepter VPC's names (both must allow)" })),
    createdAt: S(),
  },
  { $id: 'Peering' },
);
export type Peering = Static<typeof Peering>;

/** An internet gateway (AWS's, Huawei's "EIP bandwidth" edge): attached to one VPC or none. */
export const InternetGateway = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    vpcId: Nullable(S({ description: 'The VPC it is attached to' })),
    state: StringEnum(['detached', 'attached']),
    createdAt: S(),
  },
  { $id: 'InternetGateway' },
);
export type InternetGateway = Static<typeof InternetGateway>;

/**
 * An elastic IP: a public address from the host's loopback pool (127.0.1.0/24), associated 1:1
 * with a server or held by a NAT gateway. A load balancer's public IP is listed as one too
 * (`loadBalancerId`), read-only: it goes with its load balancer.
 */
export const ElasticIp = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    publicIp: S(),
    associationId: Nullable(S()),
    serverId: Nullable(S({ description: 'The server it is associated with' })),
    natGatewayId: Nullable(S({ description: 'The NAT gateway that holds it' })),
    loadBalancerId: Type.Optional(S({ description: "Set on a load balancer's public IP, listed as an EIP" })),
    privateIp: Nullable(S({ description: 'The private address it translates to' })),
    createdAt: S(),
  },
  { $id: 'ElasticIp' },
);
export type ElasticIp = Static<typeof ElasticIp>;

export const NAT_GATEWAY_STATUSES = ['pending', 'available', 'deleting', 'deleted', 'failed'] as const;

/** A NAT gateway: an address in a (public) subnet, with an EIP it translates outbound connections to. */
export const NatGateway = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    vpcId: S(),
    subnetId: S(),
    allocationId: S({ description: 'Its elastic IP' }),
    publicIp: S(),
    privateIp: S({ description: 'Its ENI address in the subnet' }),
    status: StringEnum(NAT_GATEWAY_STATUSES),
    createdAt: S(),
  },
  { $id: 'NatGateway' },
);
export type NatGateway = Static<typeof NatGateway>;
