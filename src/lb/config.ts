/**
 * The engine's whole input: plain data, knowing nothing of VPCs. The daemon derives it from
 * the load balancer's resources and the data plane.
 */
import type { AlgorithmName } from './balancers/registry.js';
import type { CheckSpec } from './health/checker.js';
import { createHash } from 'node:crypto';

export interface MemberConfig {
  id: string;
  host: string;
  port: number;
  weight: number;
  /** Admin up, and (virtual data plane) reachable according to the analyzer. */
  enabled: boolean;
  /**
   * Why the member is gone, when the daemon knows it is (its server stopped, its workload
   * down, unreachable): its exchanges in flight are cut at once instead of waiting for the
   * member data timeout. Absent for a member set admin down, whose exchanges finish.
   */
  gone?: string;
}

export type PersistenceConfig = { type: 'SOURCE_IP' } | { type: 'HTTP_COOKIE' } | { type: 'APP_COOKIE'; cookieName: string } | null;

export interface PoolConfig {
  id: string;
  algorithm: AlgorithmName;
  persistence: PersistenceConfig;
  members: MemberConfig[];
  health: CheckSpec | null;
  /** Member timeouts of its own (absent: the listener's). */
  timeouts?: PoolTimeouts;
}

/** Octavia's listener timeouts (milliseconds), and HAProxy's `timeout http-request`. */
export interface ListenerTimeouts {
  /** A client silent this long is closed (between requests too: the keep-alive timeout). */
  clientData: number;
  /** Connecting to a member gives up after this; another member is tried. */
  memberConnect: number;
  /** A member silent this long in an exchange is dropped: 504. */
  memberData: number;
  /** A request head must arrive whole within this of its first byte (slowloris): 408. */
  httpRequest: number;
  /** A TCP listener connects to a member once the client has sent its first bytes, or after this (0: at once). */
  tcpInspect?: number;
}

export const DEFAULT_TIMEOUTS: ListenerTimeouts = { clientData: 50_000, memberConnect: 5_000, memberData: 50_000, httpRequest: 10_000, tcpInspect: 0 };

/** A pool's own member timeouts: they win over its listener's. */
export type PoolTimeouts = Partial<Pick<ListenerTimeouts, 'memberConnect' | 'memberData'>>;

/** The timeouts a session uses towards `pool`'s members: the listener's, with the pool's own over them. */
export function withPool(t: ListenerTimeouts, pool: { timeouts?: PoolTimeouts } | null): ListenerTimeouts {
  const own = pool?.timeouts;
  return own && (own.memberConnect !== undefined || own.memberData !== undefined) ? { ...t, ...own } : t;
}

/** One rule of an L7 policy (Octavia's l7rule): what it reads, how it compares, and whether it is inverted. */
export interface RuleConfig {
  type: 'HOST_NAME' | 'PATH' | 'HEADER' | 'COOKIE' | 'FILE_TYPE' | 'QUERY_STRING' | 'SOURCE_IP';
  compare: 'EQUAL_TO' | 'STARTS_WITH' | 'ENDS_WITH' | 'CONTAINS' | 'REGEX';
  /** The header or cookie name (lower case), the query parameter's name (as sent), or null (QUERY_STRING: the whole query). SOURCE_IP: value is a CIDR. */
  key: string | null;
  value: string;
  invert: boolean;
}

/** An L7 policy: the first of a listener's (in order) whose rules all match takes the request. */
export interface PolicyConfig {
  id: string;
  action: 'REDIRECT_TO_POOL' | 'REDIRECT_TO_URL' | 'REDIRECT_PREFIX' | 'REJECT' | 'FIXED_RESPONSE';
  /** REDIRECT_TO_POOL: the pool. */
  poolId?: string;
  /** REDIRECT_TO_URL: the location; REDIRECT_PREFIX: what the request's path and query are appended to. */
  url?: string;
  prefix?: string;
  /** Redirects: the status. */
  code?: number;
  /** FIXED_RESPONSE: the answer. */
  fixed?: { status: number; contentType: string; body: string };
  rules: RuleConfig[];
}

export interface ListenerConfig {
  id: string;
  protocol: 'HTTP' | 'TCP';
  port: number;
  poolId: string | null;
  /** Addresses the engine binds itself (the VIP inside the load balancer's namespace). */
  bind: string[];
  /** DEFAULT_TIMEOUTS when absent. */
  timeouts?: ListenerTimeouts;
  /** Connections open at once beyond which new ones are closed at once (Octavia's connection_limit; -1 or absent: none). */
  connectionLimit?: number;
  /** HTTP: the L7 policies in order (absent: none, and nothing is matched per request). */
  policies?: PolicyConfig[];
  /** HTTP over TLS (a TERMINATED_HTTPS listener): the certificates, the first served when the client's SNI names none of the others. */
  tls?: { certificates: TlsCertificate[] };
}

/** A certificate as an engine serves it: PEM of the certificate followed by its chain, and of its key. */
export interface TlsCertificate {
  id: string;
  cert: string;
  key: string;
}

export interface EngineConfig {
  listeners: ListenerConfig[];
  pools: PoolConfig[];
}

/** The cookie Nimbus inserts for HTTP_COOKIE persistence. */
export const LB_COOKIE = 'NIMBUSLB';
/** The User-Agent of health checks on both engines: what a member's log tells them apart by. */
export const HEALTH_CHECK_AGENT = 'nimbus-health-check';

/** A configuration's digest: what a worker reports it holds, and what the daemon compares with what it sent. */
export function configDigest(config: EngineConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 32);
}
