/**
 * What callers send to create or change a resource. The API validates requests with these
 * schemas, the typed client and the services take their static types, and later the topology
 * file's schema is made from them. References to other resources are names or ids.
 *
 * Enumerations the services normalize (a load balancer's protocol, algorithm, persistence)
 * are plain strings here: `http` and `HTTP` are both accepted, and the service's refusal
 * names the allowed values.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Name, Nullable, Port, Ref, S, StringEnum } from './kit.js';
import { DIRECTIONS, PROTOCOLS } from './network.js';
import { TRACE_PROTOCOLS } from './analyzer.js';

const Weight = Type.Integer({ minimum: 0, maximum: 256 });
const strict = { additionalProperties: false } as const;

export const Inputs = {
  project: Type.Object({ name: Name }, strict),
  vpc: Type.Object({ name: Name, cidr: S({ description: 'e.g. 192.168.6.0/24' }) }, strict),
  subnet: Type.Object({ name: Name, vpc: Ref('VPC'), cidr: S(), routeTable: Type.Optional(Ref('route table')) }, strict),
  server: Type.Object(
    {
      name: Name,
      subnet: Ref('subnet'),
      ip: Type.Optional(S({ description: 'private IP; the lowest free one when absent' })),
      securityGroups: Type.Optional(Type.Array(S(), { description: "names or ids; the project's default group when absent" })),
      app: Type.Optional(Nullable(S({ description: 'web, web:PORT or a command line' }))),
      runAsRoot: Type.Optional(Type.Boolean({ description: 'run its workload and exec as root (admin only)' })),
    },
    strict,
  ),
  serverUpdate: Type.Object({ name: Type.Optional(Name), securityGroups: Type.Optional(Type.Array(S())) }, strict),
  securityGroup: Type.Object({ name: Name, description: Type.Optional(S()) }, strict),
  securityGroupUpdate: Type.Object({ name: Type.Optional(Name), description: Type.Optional(S()) }, strict),
  rule: Type.Object(
    {
      direction: StringEnum(DIRECTIONS),
      protocol: StringEnum(PROTOCOLS),
      ports: Type.Optional(S({ description: '8080 or 8000-8100; tcp and udp only' })),
      remote: S({ description: 'a CIDR, or a security group name or id' }),
      description: Type.Optional(S()),
    },
    strict,
  ),
  routeTable: Type.Object({ name: Name, vpc: Ref('VPC') }, strict),
  rename: Type.Object({ name: Type.Optional(Name) }, strict),
  association: Type.Object({ subnet: Ref('subnet') }, strict),
  route: Type.Object({ destination: S(), target: S({ description: 'a peering (name or id) or blackhole' }) }, strict),
  peering: Type.Object({ name: Name, vpc: Ref('requester VPC'), peerVpc: Ref('accepter VPC'), peerProject: Type.Optional(Ref('accepter project')) }, strict),
  loadBalancer: Type.Object(
    {
      name: Name,
      subnet: Ref('subnet'),
      vip: Type.Optional(S({ description: 'private VIP; the lowest free address when absent' })),
      publicIp: Type.Optional(Type.Union([Type.Boolean(), S()], { description: 'true for one from 127.0.1.0/24, or the address wanted' })),
    },
    strict,
  ),
  listener: Type.Object(
    { name: Name, loadBalancer: Ref('load balancer'), protocol: S({ description: 'HTTP or TCP' }), port: Port(), defaultPool: Type.Optional(Ref('pool')) },
    strict,
  ),
  listenerUpdate: Type.Object({ name: Type.Optional(Name), defaultPool: Type.Optional(Nullable(S())) }, strict),
  pool: Type.Object(
    {
      name: Name,
      loadBalancer: Ref('load balancer'),
      protocol: S({ description: 'HTTP or TCP' }),
      algorithm: S({ description: 'ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP' }),
      persistence: Type.Optional(Nullable(S({ description: 'SOURCE_IP, HTTP_COOKIE or APP_COOKIE' }))),
      cookieName: Type.Optional(S()),
    },
    strict,
  ),
  poolUpdate: Type.Object(
    { name: Type.Optional(Name), algorithm: Type.Optional(S()), persistence: Type.Optional(Nullable(S())), cookieName: Type.Optional(S()) },
    strict,
  ),
  member: Type.Object(
    {
      name: Type.Optional(Name),
      pool: Ref('pool'),
      server: Type.Optional(Ref('server')),
      address: Type.Optional(S()),
      port: Port(),
      weight: Type.Optional(Weight),
    },
    strict,
  ),
  memberUpdate: Type.Object({ name: Type.Optional(Name), weight: Type.Optional(Weight), adminStateUp: Type.Optional(Type.Boolean()) }, strict),
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
    strict,
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
    strict,
  ),
  trace: Type.Object(
    {
      server: Ref('source server'),
      destination: S(),
      protocol: Type.Optional(StringEnum(TRACE_PROTOCOLS)),
      port: Type.Optional(Port()),
      probe: Type.Optional(Type.Boolean({ description: 'also send a real probe (linux data plane)' })),
    },
    strict,
  ),
  ping: Type.Object({ server: Ref('source server'), destination: S(), count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }, strict),
  exec: Type.Object({ argv: Type.Array(S(), { minItems: 1 }) }, strict),
};

/** `?cascade=true`: delete what the resource holds with it (Octavia's cascade for load balancers). */
export const CascadeQuery = Type.Object({ cascade: Type.Optional(StringEnum(['true', 'false'])) }, { additionalProperties: false });
export type CascadeQuery = Static<typeof CascadeQuery>;

/** A resource named by kind, id and name (what a cascade would delete). */
export const ResourceRef = Type.Object({ kind: S(), id: S(), name: S() });
export type ResourceRef = Static<typeof ResourceRef>;

export type ProjectInput = Static<typeof Inputs.project>;
export type VpcInput = Static<typeof Inputs.vpc>;
export type SubnetInput = Static<typeof Inputs.subnet>;
export type ServerInput = Static<typeof Inputs.server>;
export type ServerUpdate = Static<typeof Inputs.serverUpdate>;
export type SecurityGroupInput = Static<typeof Inputs.securityGroup>;
export type SecurityGroupUpdate = Static<typeof Inputs.securityGroupUpdate>;
export type RuleInput = Static<typeof Inputs.rule>;
export type RouteTableInput = Static<typeof Inputs.routeTable>;
export type Rename = Static<typeof Inputs.rename>;
export type RouteInput = Static<typeof Inputs.route>;
export type PeeringInput = Static<typeof Inputs.peering>;
export type LoadBalancerInput = Static<typeof Inputs.loadBalancer>;
export type ListenerInput = Static<typeof Inputs.listener>;
export type ListenerUpdate = Static<typeof Inputs.listenerUpdate>;
export type PoolInput = Static<typeof Inputs.pool>;
export type PoolUpdate = Static<typeof Inputs.poolUpdate>;
export type MemberInput = Static<typeof Inputs.member>;
export type MemberUpdate = Static<typeof Inputs.memberUpdate>;
export type HealthMonitorInput = Static<typeof Inputs.healthMonitor>;
export type HealthMonitorUpdate = Static<typeof Inputs.healthMonitorUpdate>;
export type TraceInput = Static<typeof Inputs.trace>;
export type PingInput = Static<typeof Inputs.ping>;
export type ExecInput = Static<typeof Inputs.exec>;
