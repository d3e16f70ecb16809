/**
 * The load balancer's resources, after OpenStack Octavia (which Huawei's ELB follows too):
 * load balancers, listeners, pools, members and health monitors, with Octavia's statuses.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, S, StringEnum } from './kit.js';
import { LISTENER_LIMITS, POOL_LIMITS, type ListenerLimit, type PoolLimit } from './listener-limits.js';

/** A pool's protocol (and a listener's, but for TERMINATED_HTTPS). */
export const LB_PROTOCOLS = ['HTTP', 'TCP'] as const;
export type LbProtocol = (typeof LB_PROTOCOLS)[number];
/** Octavia's listener protocols Nimbus serves: TERMINATED_HTTPS ends TLS at the load balancer and sends HTTP to an HTTP pool. */
export const LISTENER_PROTOCOLS = ['HTTP', 'TCP', 'TERMINATED_HTTPS'] as const;
export type ListenerProtocol = (typeof LISTENER_PROTOCOLS)[number];
/** The pool protocol a listener of `protocol` sends to. */
export const poolProtocolOf = (protocol: ListenerProtocol): LbProtocol => (protocol === 'TCP' ? 'TCP' : 'HTTP');
export const ALGORITHMS = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
export const PERSISTENCE_TYPES = ['SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE'] as const;
export type PersistenceType = (typeof PERSISTENCE_TYPES)[number];
export const HEALTH_MONITOR_TYPES = ['TCP', 'HTTP'] as const;
export type HealthMonitorType = (typeof HEALTH_MONITOR_TYPES)[number];

/** Octavia's operating status. */
export const OPERATING_STATUSES = ['ONLINE', 'DEGRADED', 'OFFLINE', 'ERROR', 'NO_MONITOR'] as const;
export type OperatingStatus = (typeof OPERATING_STATUSES)[number];
/** Octavia's provisioning status (stored as ACTIVE; the API reports the pending ones while a change is on its way to the worker). */
/** DELETED: only in the answer to a delete (Octavia's), once the load balancer no longer serves. */
export const PROVISIONING_STATUSES = ['ACTIVE', 'PENDING_CREATE', 'PENDING_UPDATE', 'ERROR', 'DELETED'] as const;
export type ProvisioningStatus = (typeof PROVISIONING_STATUSES)[number];

/** The most worker processes one load balancer may have. */
export const MAX_LB_WORKERS = 16;

export const LoadBalancer = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    vpcId: S(),
    subnetId: S(),
    vip: S({ description: 'The private front end, an address of its subnet' }),
    publicIp: Nullable(S({ description: 'The public front end: a loopback address of the host, 127.0.1.x' })),
    provisioningStatus: StringEnum(PROVISIONING_STATUSES),
    workers: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_LB_WORKERS, description: "Worker processes serving its listeners (HAProxy's nbthread); absent: 1" }),
    ),
    createdAt: S(),
  },
  { $id: 'LoadBalancer' },
);
export type LoadBalancer = Static<typeof LoadBalancer>;

export { LISTENER_LIMITS, POOL_LIMITS, type ListenerLimit, type PoolLimit };

const limit = (k: ListenerLimit) =>
  Type.Optional(
    Type.Integer({
      minimum: LISTENER_LIMITS[k].min,
      maximum: LISTENER_LIMITS[k].max,
      description: `${LISTENER_LIMITS[k].description} (default ${LISTENER_LIMITS[k].default})`,
    }),
  );

/** The listener settings an input may carry (absent: Octavia's defaults). */
export const ListenerLimits = Type.Object({
  connectionLimit: limit('connectionLimit'),
  timeoutClientData: limit('timeoutClientData'),
  timeoutMemberConnect: limit('timeoutMemberConnect'),
  timeoutMemberData: limit('timeoutMemberData'),
  timeoutHttpRequest: limit('timeoutHttpRequest'),
  timeoutTcpInspect: limit('timeoutTcpInspect'),
});

const poolLimit = (k: PoolLimit) =>
  Type.Optional(Nullable(Type.Integer({ minimum: POOL_LIMITS[k].min, maximum: POOL_LIMITS[k].max, description: POOL_LIMITS[k].description })));

/** A pool's own member timeouts an input may carry (null: the listener's). */
export const PoolLimits = Type.Object({
  timeoutMemberConnect: poolLimit('timeoutMemberConnect'),
  timeoutMemberData: poolLimit('timeoutMemberData'),
});

export const Listener = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    loadBalancerId: S(),
    protocol: StringEnum(LISTENER_PROTOCOLS),
    port: Type.Integer(),
    defaultPoolId: Nullable(S()),
    certificateId: Type.Optional(
      Nullable(
        S({ description: "TERMINATED_HTTPS: the certificate served when the client's SNI names none of the others (Octavia's default_tls_container_ref)" }),
      ),
    ),
    sniCertificateIds: Type.Optional(
      Type.Array(S(), { description: "TERMINATED_HTTPS: more certificates, chosen by the client's SNI (Octavia's sni_container_refs)" }),
    ),
    ...ListenerLimits.properties,
    createdAt: S(),
  },
  { $id: 'Listener' },
);
export type Listener = Static<typeof Listener>;

export const SessionPersistence = Type.Object({ type: StringEnum(PERSISTENCE_TYPES), cookieName: Type.Optional(S()) });
export type SessionPersistence = Static<typeof SessionPersistence>;

export const Pool = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    loadBalancerId: S(),
    protocol: StringEnum(LB_PROTOCOLS),
    algorithm: StringEnum(ALGORITHMS),
    sessionPersistence: Nullable(SessionPersistence),
    ...PoolLimits.properties,
    createdAt: S(),
  },
  { $id: 'Pool' },
);
export type Pool = Static<typeof Pool>;

const memberFields = {
  id: S(),
  name: S(),
  projectId: S(),
  poolId: S(),
  serverId: Nullable(S()),
  address: S(),
  port: Type.Integer(),
  weight: Type.Integer(),
  adminStateUp: Type.Boolean(),
  createdAt: S(),
};

/** A member as stored. */
export const StoredMember = Type.Object(memberFields);
export type Member = Static<typeof StoredMember>;

/** A member as the API shows it: with its live status (what the health checks and the admission say). */
export const Member = Type.Object(
  {
    ...memberFields,
    operatingStatus: Type.Optional(
      StringEnum(OPERATING_STATUSES, {
        description: 'ONLINE, ERROR (failing its health check or unreachable), OFFLINE (admin down or server stopped), NO_MONITOR',
      }),
    ),
    statusReason: Type.Optional(Nullable(S())),
  },
  { $id: 'Member' },
);
export type MemberView = Static<typeof Member>;

export const HealthMonitor = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    poolId: S(),
    type: StringEnum(HEALTH_MONITOR_TYPES),
    delay: Type.Integer(),
    timeout: Type.Integer(),
    maxRetries: Type.Integer({ description: "Consecutive successes that bring a member up (Octavia's max_retries)" }),
    maxRetriesDown: Type.Integer({ description: "Consecutive failures that take a member down (Octavia's max_retries_down)" }),
    urlPath: S(),
    expectedCodes: S(),
    createdAt: S(),
  },
  { $id: 'HealthMonitor' },
);
export type HealthMonitor = Static<typeof HealthMonitor>;

/**
 * Why a member takes no traffic whatever its health: admin down and a stopped server make it
 * OFFLINE (Octavia's word for "taken out on purpose"); unreachable, or a workload that cannot
 * stay up, makes it ERROR.
 */
export const ADMISSION_CODES = ['ADMIN_DOWN', 'SERVER_STOPPED', 'UNREACHABLE', 'WORKLOAD_DOWN'] as const;
export type AdmissionCode = (typeof ADMISSION_CODES)[number];
export interface Refusal {
  code: AdmissionCode;
  /** For people: the status reason shown beside the member. */
  message: string;
}
