/**
 * What the path analyzer answers (net/trace.ts computes it) and what ping reports.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, S, StringEnum } from './kit.js';

export const TRACE_PROTOCOLS = ['icmp', 'tcp', 'udp'] as const;
export type TraceProtocol = (typeof TRACE_PROTOCOLS)[number];

export const HOP_KINDS = [
  'source',
  'port-security',
  'network-acl',
  'security-group-egress',
  'route',
  'peering',
  'internet-gateway',
  'nat-gateway',
  'internet',
  'delivery',
  'security-group-ingress',
  'stateful',
] as const;
export type HopKind = (typeof HOP_KINDS)[number];

export const Hop = Type.Object({
  kind: StringEnum(HOP_KINDS),
  resourceId: S({ description: 'The id of the resource this hop happens at' }),
  resourceName: S({ description: 'Its name, for people' }),
  detail: S({ description: 'What happened, one line' }),
  ok: Type.Boolean(),
});
export type Hop = Static<typeof Hop>;

const traceFields = {
  source: Type.Object({ serverId: S(), name: S(), ip: S() }),
  destination: S(),
  protocol: StringEnum(TRACE_PROTOCOLS),
  port: Nullable(Type.Integer()),
  destinationServer: Nullable(Type.Object({ serverId: S(), name: S() })),
  forward: Type.Array(Hop),
  return: Type.Array(Hop),
  reachable: Type.Boolean(),
  routers: Type.Integer({ description: 'The routers crossed one way (a TTL of 64 arrives as 64 - routers)' }),
  blockedBy: Nullable(
    Type.Object({ direction: StringEnum(['forward', 'return']), kind: StringEnum(HOP_KINDS), resourceId: S(), resourceName: S(), reason: S() }),
  ),
};

/** The analyzer's verdict with every hop of both directions. */
export const Trace = Type.Object(traceFields);
export type TraceResult = Static<typeof Trace>;

export const ProbeResult = Type.Object({ reachable: Type.Boolean(), agrees: Type.Boolean(), output: S() });

/** The trace as the API answers it: with its text, and a real probe's outcome when asked. */
export const TraceResponse = Type.Object(
  { ...traceFields, text: S({ description: 'The trace as people read it, one line per hop' }), probe: Type.Optional(ProbeResult) },
  { $id: 'TraceResult' },
);
export type TraceResponse = Static<typeof TraceResponse>;

export const PingResult = Type.Object(
  { reachable: Type.Boolean(), transmitted: Type.Integer(), received: Type.Integer(), output: S(), dataplane: S() },
  { $id: 'PingResult' },
);
export type PingResult = Static<typeof PingResult>;
