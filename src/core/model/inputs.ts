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

/** Every string an input takes is bounded (AWS bounds descriptions at 255). */
const Description = () => S({ maxLength: 255 });
const Short = (description?: string) => S({ maxLength: 64, ...(description ? { description } : {}) });
const Text = (max: number, description?: string) => S({ maxLength: max, ...(description ? { description } : {}) });
import { DIRECTIONS, PROTOCOLS } from './network.js';
import { TRACE_PROTOCOLS } from './analyzer.js';
import { ListenerLimits, MAX_LB_WORKERS, PoolLimits } from './load-balancer.js';
import { MAX_L7_RULES } from './l7.js';

const LbWorkers = Type.Integer({
  minimum: 1,
  maximum: MAX_LB_WORKERS,
  description: 'worker processes (1-16): with 2 or more, a worker that dies loses only its own connections and new ones are never refused',
});

const Weight = Type.Integer({ minimum: 0, maximum: 256 });
const strict = { additionalProperties: false } as const;

/** One rule of an L7 policy (Octavia's l7rule). */
const L7RuleInput = Type.Object(
  {
    type: Short('HOST_NAME, PATH, HEADER, COOKIE, FILE_TYPE, QUERY_STRING or SOURCE_IP'),
    compareType: Short('EQUAL_TO, STARTS_WITH, ENDS_WITH, CONTAINS or REGEX (SOURCE_IP: EQUAL_TO, the client within the CIDR)'),
    key: Type.Optional(Short('the header, cookie or query parameter name')),
    value: Text(255),
    invert: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** FIXED_RESPONSE: what the load balancer answers itself. */
const FixedResponseInput = Type.Object(
  {
    statusCode: Type.Integer({ description: '2XX, 4XX or 5XX' }),
    contentType: Type.Optional(Short('text/plain (default), text/css, text/html, application/javascript or application/json')),
    body: Type.Optional(Text(1024, 'at most 1024 bytes')),
  },
  { additionalProperties: false },
);

export const Inputs = {
  project: Type.Object({ name: Name }, strict),
  vpc: Type.Object(
    {
      name: Name,
      cidr: Short('e.g. 192.168.6.0/24'),
      enableDnsSupport: Type.Optional(Type.Boolean({ description: "the VPC's resolver answers (default true)" })),
      enableDnsHostnames: Type.Optional(Type.Boolean({ description: 'servers and load balancers have names NAME.VPC.PROJECT.nimbus.internal (default true)' })),
    },
    strict,
  ),
  vpcUpdate: Type.Object(
    {
      name: Type.Optional(Name),
      enableDnsSupport: Type.Optional(Type.Boolean({ description: "the VPC's resolver answers" })),
      enableDnsHostnames: Type.Optional(Type.Boolean({ description: 'servers and load balancers have names in the VPC' })),
    },
    strict,
  ),
  peeringDns: Type.Object(
    {
      allow: Type.Boolean({
        description: "let the other side resolve the names of the caller's side(s) of the peering (AWS's AllowDnsResolutionFromRemoteVpc)",
      }),
    },
    strict,
  ),
  subnet: Type.Object({ name: Name, vpc: Ref('VPC'), cidr: Short(), routeTable: Type.Optional(Ref('route table')) }, strict),
  server: Type.Object(
    {
      name: Name,
      subnet: Ref('subnet'),
      ip: Type.Optional(Short('private IP; the lowest free one when absent')),
      securityGroups: Type.Optional(
        Type.Array(Short(), { maxItems: 5, description: "names or ids (at most 5, as in EC2); the project's default group when absent" }),
      ),
      app: Type.Optional(Nullable(Text(1024, 'web, web:PORT or a command line'))),
      image: Type.Optional(
        S({ maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$', description: 'the image it runs, e.g. ami-0abc or debian-12 (recorded, not booted)' }),
      ),
      chassis: Type.Optional(S({ maxLength: 15, description: 'the chassis it runs on (ovn data plane); the least loaded one when absent' })),
    },
    strict,
  ),
  serverUpdate: Type.Object(
    {
      name: Type.Optional(Name),
      securityGroups: Type.Optional(Type.Array(Short(), { maxItems: 5 })),
      chassis: Type.Optional(S({ maxLength: 15, description: 'moves a stopped server to this chassis (ovn data plane); it keeps its IP' })),
    },
    strict,
  ),
  securityGroup: Type.Object({ name: Name, description: Type.Optional(Description()) }, strict),
  securityGroupUpdate: Type.Object({ name: Type.Optional(Name), description: Type.Optional(Description()) }, strict),
  rule: Type.Object(
    {
      direction: StringEnum(DIRECTIONS),
      protocol: StringEnum(PROTOCOLS),
      ports: Type.Optional(Short('8080, 8000-8100, or 0-65535 for all; tcp and udp only')),
      icmp: Type.Optional(Short('an ICMP type, optionally with a code: 8 (echo request) or 3/4; icmp only, every type when absent')),
      remote: Short('a CIDR, or a security group name or id'),
      description: Type.Optional(Description()),
    },
    strict,
  ),
  routeTable: Type.Object({ name: Name, vpc: Ref('VPC') }, strict),
  networkAcl: Type.Object({ name: Name, vpc: Ref('VPC') }, strict),
  aclRule: Type.Object(
    {
      number: Type.Integer({ minimum: 1, maximum: 32766, description: 'evaluated lowest first (1-32766)' }),
      direction: StringEnum(DIRECTIONS),
      action: StringEnum(['allow', 'deny']),
      protocol: StringEnum(PROTOCOLS),
      ports: Type.Optional(Short('8080, 1024-65535, or 0-65535 for all; tcp and udp only')),
      icmp: Type.Optional(Short('an ICMP type, optionally with a code: 8 or 3/4; icmp only, every type when absent')),
      cidr: Short('the remote end: 0.0.0.0/0 for everywhere'),
    },
    strict,
  ),
  rename: Type.Object({ name: Type.Optional(Name) }, strict),
  association: Type.Object({ subnet: Ref('subnet') }, strict),
  flowLog: Type.Object(
    {
      name: Name,
      vpc: Type.Optional(Ref('VPC to watch')),
      subnet: Type.Optional(Ref('subnet to watch')),
      server: Type.Optional(Ref('server to watch')),
      trafficType: Type.Optional(S({ description: 'ALL (the default), ACCEPT or REJECT' })),
      maxAggregationInterval: Type.Optional(Type.Integer({ description: 'seconds: 60 or 600 (the default, as in AWS)' })),
    },
    strict,
  ),
  route: Type.Object({ destination: Short(), target: Short('a peering, internet gateway or NAT gateway (name or id), or blackhole') }, strict),
  internetGateway: Type.Object({ name: Name, vpc: Type.Optional(Ref('VPC to attach it to')) }, strict),
  gatewayAttachment: Type.Object({ vpc: Ref('VPC') }, strict),
  gatewayDetachment: Type.Object({ vpc: Type.Optional(Ref('VPC it is attached to')) }, strict),
  elasticIp: Type.Object({ name: Name, publicIp: Type.Optional(Short('the address wanted, from 127.0.1.0/24')) }, strict),
  addressAssociation: Type.Object({ server: Ref('server') }, strict),
  natGateway: Type.Object(
    {
      name: Name,
      subnet: Ref('subnet (a public one)'),
      elasticIp: Ref('elastic IP (allocation id, name or address)'),
      ip: Type.Optional(Short('its address in the subnet')),
    },
    strict,
  ),
  peering: Type.Object({ name: Name, vpc: Ref('requester VPC'), peerVpc: Ref('accepter VPC'), peerProject: Type.Optional(Ref('accepter project')) }, strict),
  loadBalancer: Type.Object(
    {
      name: Name,
      subnet: Ref('subnet'),
      vip: Type.Optional(Short('private VIP; the lowest free address when absent')),
      publicIp: Type.Optional(Type.Union([Type.Boolean(), Short()], { description: 'true for one from 127.0.1.0/24, or the address wanted' })),
      workers: Type.Optional(LbWorkers),
    },
    strict,
  ),
  loadBalancerUpdate: Type.Object({ name: Type.Optional(Name), workers: Type.Optional(LbWorkers) }, strict),
  listener: Type.Object(
    {
      name: Name,
      loadBalancer: Ref('load balancer'),
      protocol: Short('HTTP, TCP or TERMINATED_HTTPS'),
      port: Port(),
      defaultPool: Type.Optional(Ref('pool')),
      certificate: Type.Optional(Ref('TERMINATED_HTTPS: the default certificate')),
      sniCertificates: Type.Optional(Type.Array(Ref('a certificate chosen by SNI'), { maxItems: 24 })),
      ...ListenerLimits.properties,
    },
    strict,
  ),
  listenerUpdate: Type.Object(
    {
      name: Type.Optional(Name),
      defaultPool: Type.Optional(Nullable(Short())),
      certificate: Type.Optional(Ref('TERMINATED_HTTPS: the default certificate')),
      sniCertificates: Type.Optional(Type.Array(Ref('a certificate chosen by SNI'), { maxItems: 24 })),
      ...ListenerLimits.properties,
    },
    strict,
  ),
  certificate: Type.Object(
    {
      name: Name,
      certificatePem: Type.Optional(Text(65536, 'PEM: the certificate (import)')),
      privateKeyPem: Type.Optional(Text(65536, 'PEM: its private key, unencrypted (import); kept sealed, never returned')),
      chainPem: Type.Optional(Text(65536, 'PEM: intermediate certificates (import)')),
      selfSigned: Type.Optional(
        Type.Object(
          {
            dnsNames: Type.Array(Text(253), { minItems: 1, maxItems: 20, description: 'the names it is valid for (the first is its subject)' }),
            days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'valid for (default 365)' })),
          },
          strict,
        ),
      ),
    },
    strict,
  ),
  pool: Type.Object(
    {
      name: Name,
      loadBalancer: Ref('load balancer'),
      protocol: Short('HTTP or TCP'),
      algorithm: Short('ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP'),
      persistence: Type.Optional(Nullable(Short('SOURCE_IP, HTTP_COOKIE or APP_COOKIE'))),
      cookieName: Type.Optional(Short()),
      ...PoolLimits.properties,
    },
    strict,
  ),
  poolUpdate: Type.Object(
    {
      name: Type.Optional(Name),
      algorithm: Type.Optional(Short()),
      persistence: Type.Optional(Nullable(Short())),
      cookieName: Type.Optional(Short()),
      ...PoolLimits.properties,
    },
    strict,
  ),
  member: Type.Object(
    {
      name: Type.Optional(Name),
      pool: Ref('pool'),
      server: Type.Optional(Ref('server')),
      address: Type.Optional(Short()),
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
      type: Short('TCP or HTTP'),
      delay: Type.Optional(Type.Integer()),
      timeout: Type.Optional(Type.Integer()),
      maxRetries: Type.Optional(Type.Integer({ description: 'rise' })),
      maxRetriesDown: Type.Optional(Type.Integer({ description: 'fall' })),
      urlPath: Type.Optional(Text(255)),
      expectedCodes: Type.Optional(Short()),
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
      urlPath: Type.Optional(Text(255)),
      expectedCodes: Type.Optional(Short()),
    },
    strict,
  ),
  l7Policy: Type.Object(
    {
      name: Type.Optional(Name),
      listener: Ref('listener'),
      action: Short('REDIRECT_TO_POOL, REDIRECT_TO_URL, REDIRECT_PREFIX, REJECT or FIXED_RESPONSE'),
      position: Type.Optional(Type.Integer({ description: 'Where it goes, 1 first (absent: last); the ones from there move down' })),
      redirectPool: Type.Optional(Ref('pool')),
      redirectUrl: Type.Optional(Text(2048)),
      redirectPrefix: Type.Optional(Text(2048)),
      redirectHttpCode: Type.Optional(Type.Integer({ description: '301, 302 (default), 303, 307 or 308' })),
      fixedResponse: Type.Optional(FixedResponseInput),
      rules: Type.Optional(Type.Array(L7RuleInput, { maxItems: MAX_L7_RULES })),
    },
    strict,
  ),
  l7PolicyUpdate: Type.Object(
    {
      name: Type.Optional(Name),
      action: Type.Optional(Short()),
      position: Type.Optional(Type.Integer()),
      redirectPool: Type.Optional(Nullable(Ref('pool'))),
      redirectUrl: Type.Optional(Nullable(Text(2048))),
      redirectPrefix: Type.Optional(Nullable(Text(2048))),
      redirectHttpCode: Type.Optional(Nullable(Type.Integer())),
      fixedResponse: Type.Optional(Nullable(FixedResponseInput)),
    },
    strict,
  ),
  l7Rule: L7RuleInput,
  trace: Type.Object(
    {
      server: Ref('source server'),
      destination: Short(),
      protocol: Type.Optional(StringEnum(TRACE_PROTOCOLS)),
      port: Type.Optional(Port()),
      sourceIp: Type.Optional(
        S({ maxLength: 15, description: "the source address the packet carries (the server's own when absent); the VPC drops any other at the server's port" }),
      ),
      probe: Type.Optional(Type.Boolean({ description: 'also send a real probe (linux data plane)' })),
    },
    strict,
  ),
  ping: Type.Object({ server: Ref('source server'), destination: Short(), count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }, strict),
  exec: Type.Object({ argv: Type.Array(Text(4096), { minItems: 1, maxItems: 256 }) }, strict),
};

/** `?cascade=true`: delete what the resource holds with it (Octavia's cascade for load balancers). */
export const CascadeQuery = Type.Object({ cascade: Type.Optional(StringEnum(['true', 'false'])) }, { additionalProperties: false });
export type CascadeQuery = Static<typeof CascadeQuery>;

/** A resource named by kind, id and name (what a cascade would delete). */
export const ResourceRef = Type.Object({ kind: S(), id: S(), name: S() });
export type ResourceRef = Static<typeof ResourceRef>;

export type ProjectInput = Static<typeof Inputs.project>;
export type VpcInput = Static<typeof Inputs.vpc>;
export type VpcUpdate = Static<typeof Inputs.vpcUpdate>;
export type SubnetInput = Static<typeof Inputs.subnet>;
export type ServerInput = Static<typeof Inputs.server>;
export type ServerUpdate = Static<typeof Inputs.serverUpdate>;
export type SecurityGroupInput = Static<typeof Inputs.securityGroup>;
export type SecurityGroupUpdate = Static<typeof Inputs.securityGroupUpdate>;
export type RuleInput = Static<typeof Inputs.rule>;
export type RouteTableInput = Static<typeof Inputs.routeTable>;
export type NetworkAclInput = Static<typeof Inputs.networkAcl>;
export type AclRuleInput = Static<typeof Inputs.aclRule>;
export type FlowLogInput = Static<typeof Inputs.flowLog>;
export type Rename = Static<typeof Inputs.rename>;
export type RouteInput = Static<typeof Inputs.route>;
export type PeeringInput = Static<typeof Inputs.peering>;
export type LoadBalancerInput = Static<typeof Inputs.loadBalancer>;
export type LoadBalancerUpdate = Static<typeof Inputs.loadBalancerUpdate>;
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
export type L7PolicyInput = Static<typeof Inputs.l7Policy>;
export type L7PolicyUpdate = Static<typeof Inputs.l7PolicyUpdate>;
export type L7RuleInput = Static<typeof Inputs.l7Rule>;
export type CertificateInput = Static<typeof Inputs.certificate>;
