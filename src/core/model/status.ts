/**
 * What the daemon reports about the running system rather than stored intent: the data
 * plane's status and plans, a load balancer's status tree with live counters, access-log
 * records, a server workload's logs and exec results.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, S, StringEnum } from './kit.js';
import { HealthMonitor, Listener, Member, OPERATING_STATUSES, LoadBalancer, Pool } from './load-balancer.js';

export const DATAPLANE_KINDS = ['virtual', 'linux', 'ovn'] as const;
export type DataplaneKind = (typeof DATAPLANE_KINDS)[number];

export const ResourceError = Type.Object({ resourceId: S(), message: S() });
export type ResourceError = Static<typeof ResourceError>;

export const DataplaneStatus = Type.Object({
  kind: StringEnum(DATAPLANE_KINDS),
  reason: S({ description: 'Why this driver was chosen' }),
  errors: Type.Array(ResourceError, { description: 'Per-resource problems the driver could not fix yet (empty when converged)' }),
  converged: Type.Boolean(),
  changes: Type.Optional(
    Type.Object(
      { seen: Type.Integer(), done: Type.Integer() },
      {
        description:
          'Changes the data plane has seen, and how many of them a finished pass has put in place: a change made when seen was N is in effect once done reaches N',
      },
    ),
  ),
});
export type DataplaneStatus = Static<typeof DataplaneStatus>;

export const Status = Type.Object({
  version: S(),
  dataplane: DataplaneStatus,
  notes: Type.Array(S(), { description: 'What this installation does not enforce, or does otherwise than it would like' }),
});
export type Status = Static<typeof Status>;

/** One step of a data-plane plan: "<object> in <ns> has been <action>". */
export const PlanStep = Type.Object({ ns: S(), object: S(), action: StringEnum(['created', 'updated', 'deleted']) });
export type PlanStep = Static<typeof PlanStep>;

export const Plan = Type.Object({ steps: Type.Array(PlanStep) });

/** A chassis of the ovn data plane, as the southbound database reports it. */
export const Chassis = Type.Object({
  name: S(),
  state: StringEnum(['up', 'down'], { description: "down: it has not taken the northbound database's last change (it stopped reporting)" }),
  encapIp: Nullable(S()),
  hostname: Nullable(S()),
  servers: Type.Array(S(), { description: 'the servers placed on it' }),
  lastHeartbeat: Nullable(S({ description: 'when it last took a change of the northbound database' })),
  local: Type.Boolean({ description: 'simulated on this machine (nimbus chassis add)' }),
});
export type Chassis = Static<typeof Chassis>;
export const ChassisInput = Type.Object({ name: S({ maxLength: 15, pattern: '^[a-z][a-z0-9-]*$' }) }, { additionalProperties: false });
export const SyncReport = Type.Object({ steps: Type.Array(PlanStep), errors: Type.Array(ResourceError), ms: Type.Number() });
export type SyncReport = Static<typeof SyncReport>;

export const ExecResult = Type.Object({ code: Type.Integer(), stdout: S(), stderr: S() });
export type ExecResult = Static<typeof ExecResult>;

/** One access-log line of a load balancer: per request (HTTP) or per connection (TCP). */
export const AccessRecord = Type.Object({
  time: S(),
  client: S(),
  listener: S(),
  pool: Nullable(S()),
  member: Nullable(S()),
  method: Type.Optional(S()),
  path: Type.Optional(S()),
  status: Nullable(Type.Integer({ description: 'The HTTP status; null for a TCP connection (see result)' })),
  result: Type.Optional(
    StringEnum(['closed', 'no member'], { description: 'How a TCP connection ended: relayed and closed, or refused for want of a member' }),
  ),
  bytesIn: Type.Integer(),
  bytesOut: Type.Integer(),
  durationMs: Type.Number({ description: 'From the first byte of the request to the last of the response' }),
  upstreamMs: Nullable(Type.Number({ description: 'From sending the request to the first byte of the response' })),
  policy: Type.Optional(S({ description: 'The L7 policy that decided the request, when one did' })),
});
export type AccessRecord = Static<typeof AccessRecord>;

/** An access-log line with the member's name, as the API answers it. */
export const LbAccessRecord = Type.Composite([AccessRecord, Type.Object({ memberName: Nullable(S()), policyName: Type.Optional(Nullable(S())) })]);
export type LbAccessRecord = Static<typeof LbAccessRecord>;
export const LbLogs = Type.Object({ requests: Type.Array(LbAccessRecord) });

export const ListenerCounters = Type.Object({
  connections: Type.Integer(),
  refused: Type.Integer({ description: 'connections closed at once: over the connection limit' }),
  active: Type.Integer(),
  requests: Type.Record(S(), Type.Integer(), { description: 'responses by status class (2xx, 5xx, ...)' }),
  policies: Type.Optional(Type.Record(S(), Type.Integer(), { description: 'requests each L7 policy decided, by policy id' })),
  bytesIn: Type.Integer(),
  bytesOut: Type.Integer(),
});
export type ListenerCounters = Static<typeof ListenerCounters>;

export const MemberCounters = Type.Object({
  requests: Type.Integer(),
  connectFailures: Type.Integer(),
  active: Type.Integer(),
  up: Type.Integer(),
  redispatched: Type.Integer({ description: 'requests pinned to this member (persistence) sent to another because it could not take them' }),
  packets: Type.Optional(Type.Integer({ description: 'kernel listeners: packets both ways' })),
  bytes: Type.Optional(Type.Integer({ description: 'kernel listeners: bytes both ways' })),
});
export type MemberCounters = Static<typeof MemberCounters>;

/** A load balancer with its listeners, pools and members, each with its live status. */
export const LbStatusTree = Type.Composite([
  LoadBalancer,
  Type.Object({
    operatingStatus: StringEnum(OPERATING_STATUSES),
    workerRunning: Type.Boolean(),
    errors: Type.Array(S()),
    listeners: Type.Array(
      Type.Composite([
        Listener,
        Type.Object({
          counters: Nullable(Type.Object({ requests: Type.Record(S(), Type.Integer()), active: Type.Integer(), connections: Type.Optional(Type.Integer()) })),
          policies: Type.Array(
            Type.Object({
              id: S(),
              name: S(),
              position: Type.Integer(),
              action: S(),
              to: S({ description: 'where it sends a request: a pool, a redirect, 403, a fixed response' }),
              rules: Type.Array(S(), { description: 'its rules, all of which must match, as text' }),
              requests: Type.Integer({ description: 'requests it decided since the engine started' }),
            }),
            { description: 'its L7 policies in order, each with the requests it decided' },
          ),
          engine: StringEnum(['kernel', 'user-space'], {
            description: "what serves it: nftables rules in the load balancer's namespace, or the user-space proxy",
          }),
          engineReason: S(),
        }),
      ]),
    ),
    pools: Type.Array(
      Type.Composite([
        Pool,
        Type.Object({ operatingStatus: StringEnum(OPERATING_STATUSES), healthMonitor: Nullable(HealthMonitor), members: Type.Array(Member) }),
      ]),
    ),
    memberCounters: Type.Record(
      S(),
      Type.Object({ requests: Type.Integer(), active: Type.Integer(), packets: Type.Optional(Type.Integer()), bytes: Type.Optional(Type.Integer()) }),
      {
        description:
          'requests (TCP: connections) each member has served since its worker started (kernel listeners: since their rules were made), those open now, and for kernel listeners packets and bytes both ways',
      },
    ),
  }),
]);
export type LbStatusTree = Static<typeof LbStatusTree>;

/** One request a server's built-in web app logged. */
export const WorkloadRequest = Type.Object({
  time: S(),
  client: S(),
  method: S(),
  path: S(),
  forwardedFor: Nullable(S()),
  forwardedProto: Type.Optional(Nullable(S({ description: 'X-Forwarded-Proto as the server got it: https behind a TERMINATED_HTTPS listener' }))),
  userAgent: Nullable(S()),
});
export type WorkloadRequest = Static<typeof WorkloadRequest>;
export const ServerLogs = Type.Object({ requests: Type.Array(WorkloadRequest), output: S() });
export type ServerLogs = Static<typeof ServerLogs>;
