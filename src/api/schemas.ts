/**
 * Request and response schemas (TypeBox → JSON Schema). Fastify validates requests with them,
 * serializes responses with them, and the OpenAPI document is made from them.
 */
import { Type, type TSchema } from '@sinclair/typebox';

const S = Type.String;
const Name = S({ minLength: 1, maxLength: 63, description: 'Unique per project and kind' });
const Ref = (what: string) => S({ minLength: 1, description: `${what}: a name or an id` });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ErrorBody = Type.Object({ code: S(), message: S() }, { $id: 'Error' });

export const Project = Type.Object({ id: S(), name: S(), createdAt: S() }, { $id: 'Project' });

export const Vpc = Type.Object(
  { id: S(), name: S(), projectId: S(), cidr: S(), status: S(), mainRouteTableId: S(), createdAt: S() },
  { $id: 'Vpc' },
);

export const Subnet = Type.Object(
  {
    id: S(), name: S(), projectId: S(), vpcId: S(), cidr: S(), gatewayIp: S(), routeTableId: S(),
    explicitRouteTable: Type.Boolean(), availableIpCount: Type.Integer(), status: S(), createdAt: S(),
  },
  { $id: 'Subnet' },
);

const PortRange = Type.Object({ from: Type.Integer(), to: Type.Integer() });
export const Rule = Type.Object(
  {
    id: S(),
    direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress')]),
    protocol: Type.Union([Type.Literal('icmp'), Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('all')]),
    portRange: Nullable(PortRange),
    remote: Type.Union([Type.Object({ cidr: S() }), Type.Object({ groupId: S() })]),
    description: Type.Optional(S()),
  },
  { $id: 'SecurityGroupRule' },
);

export const SecurityGroup = Type.Object(
  { id: S(), name: S(), projectId: S(), description: S(), isDefault: Type.Boolean(), rules: Type.Array(Type.Ref(Rule)), createdAt: S() },
  { $id: 'SecurityGroup' },
);

export const Server = Type.Object(
  {
    id: S(), name: S(), projectId: S(), vpcId: S(), subnetId: S(), privateIp: S(), securityGroupIds: Type.Array(S()),
    app: Nullable(S()), loopbackIp: S(), status: S(), createdAt: S(),
  },
  { $id: 'Server' },
);

const Target = Type.Union([
  Type.Object({ type: Type.Literal('local') }),
  Type.Object({ type: Type.Literal('peering'), peeringId: S() }),
  Type.Object({ type: Type.Literal('blackhole') }),
]);
export const RouteTable = Type.Object(
  {
    id: S(), name: S(), projectId: S(), vpcId: S(), main: Type.Boolean(),
    routes: Type.Array(Type.Object({ destination: S(), target: Target, state: S() })),
    subnetIds: Type.Array(S()), createdAt: S(),
  },
  { $id: 'RouteTable' },
);

export const Peering = Type.Object(
  { id: S(), name: S(), projectId: S(), requesterVpcId: S(), accepterVpcId: S(), accepterProjectId: S(), status: S(), createdAt: S() },
  { $id: 'Peering' },
);

const HopSchema = Type.Object({ kind: S(), resourceId: S(), resourceName: S(), detail: S(), ok: Type.Boolean() });
export const TraceResult = Type.Object(
  {
    source: Type.Object({ serverId: S(), name: S(), ip: S() }),
    destination: S(),
    protocol: S(),
    port: Nullable(Type.Integer()),
    destinationServer: Nullable(Type.Object({ serverId: S(), name: S() })),
    forward: Type.Array(HopSchema),
    return: Type.Array(HopSchema),
    reachable: Type.Boolean(),
    routers: Type.Integer(),
    blockedBy: Nullable(Type.Object({ direction: S(), kind: S(), resourceId: S(), resourceName: S(), reason: S() })),
    text: S({ description: 'The trace as people read it, one line per hop' }),
    probe: Type.Optional(Type.Object({ reachable: Type.Boolean(), agrees: Type.Boolean(), output: S() })),
  },
  { $id: 'TraceResult' },
);

export const PingResult = Type.Object(
  { reachable: Type.Boolean(), transmitted: Type.Integer(), received: Type.Integer(), output: S(), dataplane: S() },
  { $id: 'PingResult' },
);

export const LoadBalancer = Type.Object(
  { id: S(), name: S(), projectId: S(), vpcId: S(), subnetId: S(), vip: S(), publicIp: Nullable(S()), provisioningStatus: S(), createdAt: S() },
  { $id: 'LoadBalancer' },
);
export const Listener = Type.Object(
  { id: S(), name: S(), projectId: S(), loadBalancerId: S(), protocol: S(), port: Type.Integer(), defaultPoolId: Nullable(S()), createdAt: S() },
  { $id: 'Listener' },
);
export const Pool = Type.Object(
  {
    id: S(), name: S(), projectId: S(), loadBalancerId: S(), protocol: S(), algorithm: S(),
    sessionPersistence: Nullable(Type.Object({ type: S(), cookieName: Type.Optional(S()) })), createdAt: S(),
  },
  { $id: 'Pool' },
);
export const Member = Type.Object(
  {
    id: S(), name: S(), projectId: S(), poolId: S(), serverId: Nullable(S()), address: S(), port: Type.Integer(), weight: Type.Integer(),
    adminStateUp: Type.Boolean(), createdAt: S(),
    operatingStatus: Type.Optional(S({ description: 'ONLINE, ERROR (failing its health check or unreachable), OFFLINE (admin down or server stopped), NO_MONITOR' })),
    statusReason: Type.Optional(Nullable(S())),
  },
  { $id: 'Member' },
);
export const HealthMonitor = Type.Object(
  {
    id: S(), name: S(), projectId: S(), poolId: S(), type: S(), delay: Type.Integer(), timeout: Type.Integer(), maxRetries: Type.Integer(),
    maxRetriesDown: Type.Integer(), urlPath: S(), expectedCodes: S(), createdAt: S(),
  },
  { $id: 'HealthMonitor' },
);

export const Inputs = {
  project: Type.Object({ name: Name }, { additionalProperties: false }),
  vpc: Type.Object({ name: Name, cidr: S({ description: 'e.g. 192.168.6.0/24' }) }, { additionalProperties: false }),
  subnet: Type.Object(
    { name: Name, vpc: Ref('VPC'), cidr: S(), routeTable: Type.Optional(Ref('route table')) },
    { additionalProperties: false },
  ),
  server: Type.Object(
    {
      name: Name,
      subnet: Ref('subnet'),
      ip: Type.Optional(S({ description: 'private IP; the lowest free one when absent' })),
      securityGroups: Type.Optional(Type.Array(S(), { description: "names or ids; the project's default group when absent" })),
      app: Type.Optional(Nullable(S())),
    },
    { additionalProperties: false },
  ),
  serverUpdate: Type.Object({ name: Type.Optional(Name), securityGroups: Type.Optional(Type.Array(S())) }, { additionalProperties: false }),
  securityGroup: Type.Object({ name: Name, description: Type.Optional(S()) }, { additionalProperties: false }),
  securityGroupUpdate: Type.Object({ name: Type.Optional(Name), description: Type.Optional(S()) }, { additionalProperties: false }),
  rule: Type.Object(
    {
      direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress')]),
      protocol: Type.Union([Type.Literal('icmp'), Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('all')]),
      ports: Type.Optional(S({ description: '8080 or 8000-8100; tcp and udp only' })),
      remote: S({ description: 'a CIDR, or a security group name or id' }),
      description: Type.Optional(S()),
    },
    { additionalProperties: false },
  ),
  routeTable: Type.Object({ name: Name, vpc: Ref('VPC') }, { additionalProperties: false }),
  rename: Type.Object({ name: Type.Optional(Name) }, { additionalProperties: false }),
  association: Type.Object({ subnet: Ref('subnet') }, { additionalProperties: false }),
  route: Type.Object({ destination: S(), target: S({ description: 'a peering (name or id) or blackhole' }) }, { additionalProperties: false }),
  peering: Type.Object(
    { name: Name, vpc: Ref('requester VPC'), peerVpc: Ref('accepter VPC'), peerProject: Type.Optional(Ref('accepter project')) },
    { additionalProperties: false },
  ),
  loadBalancer: Type.Object(
    {
      name: Name,
      subnet: Ref('subnet'),
      vip: Type.Optional(S({ description: 'private VIP; the lowest free address when absent' })),
      publicIp: Type.Optional(Type.Union([Type.Boolean(), S()], { description: 'true for one from 127.0.1.0/24, or the address wanted' })),
    },
    { additionalProperties: false },
  ),
  listener: Type.Object(
    { name: Name, loadBalancer: Ref('load balancer'), protocol: S({ description: 'HTTP or TCP' }), port: Type.Integer({ minimum: 1, maximum: 65535 }), defaultPool: Type.Optional(Ref('pool')) },
    { additionalProperties: false },
  ),
  listenerUpdate: Type.Object({ name: Type.Optional(Name), defaultPool: Type.Optional(Nullable(S())) }, { additionalProperties: false }),
  pool: Type.Object(
    {
      name: Name,
      loadBalancer: Ref('load balancer'),
      protocol: S({ description: 'HTTP or TCP' }),
      algorithm: S({ description: 'ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP' }),
      persistence: Type.Optional(Nullable(S({ description: 'SOURCE_IP, HTTP_COOKIE or APP_COOKIE' }))),
      cookieName: Type.Optional(S()),
    },
    { additionalProperties: false },
  ),
  poolUpdate: Type.Object(
    { name: Type.Optional(Name), algorithm: Type.Optional(S()), persistence: Type.Optional(Nullable(S())), cookieName: Type.Optional(S()) },
    { additionalProperties: false },
  ),
  member: Type.Object(
    {
      name: Type.Optional(Name),
      pool: Ref('pool'),
      server: Type.Optional(Ref('server')),
      address: Type.Optional(S()),
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
      weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 256 })),
    },
    { additionalProperties: false },
  ),
  memberUpdate: Type.Object(
    { name: Type.Optional(Name), weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 256 })), adminStateUp: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  healthMonitor: Type.Object(
    {
      name: Type.Optional(Name),
      pool: Ref('pool'),
      type: S({ description: 'TCP or HTTP' }),
      delay: Type.Optional(Type.Integer()),
      timeout: Type.Optional(Type.Integer()),
      maxRetries: Type.Optional(Type.Integer({ description: 'rise' })),
      maxRetriesDown: Type.Optional(Type.Integer({ description: 'fall' })),
      urlPath: Type.Optional(S()),
      expectedCodes: Type.Optional(S()),
    },
    { additionalProperties: false },
  ),
  healthMonitorUpdate: Type.Object(
    {
      name: Type.Optional(Name),
      delay: Type.Optional(Type.Integer()),
      timeout: Type.Optional(Type.Integer()),
      maxRetries: Type.Optional(Type.Integer()),
      maxRetriesDown: Type.Optional(Type.Integer()),
      urlPath: Type.Optional(S()),
      expectedCodes: Type.Optional(S()),
    },
    { additionalProperties: false },
  ),
  trace: Type.Object(
    {
      server: Ref('source server'),
      destination: S(),
      protocol: Type.Optional(Type.Union([Type.Literal('icmp'), Type.Literal('tcp'), Type.Literal('udp')])),
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
      probe: Type.Optional(Type.Boolean({ description: 'also send a real probe (linux data plane)' })),
    },
    { additionalProperties: false },
  ),
  ping: Type.Object(
    { server: Ref('source server'), destination: S(), count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) },
    { additionalProperties: false },
  ),
};

export const SHARED_SCHEMAS = [ErrorBody, Project, Vpc, Subnet, Rule, SecurityGroup, Server, RouteTable, Peering, TraceResult, PingResult, LoadBalancer, Listener, Pool, Member, HealthMonitor];
