/**
 * The load balancer's rules that need no store (Octavia's): protocols, algorithms and
 * persistence as typed in any case, persistence that fits its pool, weights, and health
 * monitors whose timeout is below their delay. Pure; each refusal names the value at fault.
 */
import { invalid } from '../../core/errors.js';
import {
  ALGORITHMS,
  PERSISTENCE_TYPES,
  type Algorithm,
  type HealthMonitor,
  type LbProtocol,
  type ListenerProtocol,
  type PersistenceType,
  type Pool,
} from '../../core/model/index.js';

/** HTTP or TCP, in any case. */
export function protocolOf(value: unknown, field: string): LbProtocol {
  const p = typeof value === 'string' ? value.toUpperCase() : value;
  if (p !== 'HTTP' && p !== 'TCP') throw invalid(`${field}: '${String(value)}' must be HTTP or TCP`);
  return p;
}

/** HTTP, TCP or TERMINATED_HTTPS (HTTPS too, AWS's word for it), in any case. */
export function listenerProtocolOf(value: unknown, field: string): ListenerProtocol {
  const p = typeof value === 'string' ? value.toUpperCase() : value;
  if (p === 'HTTP' || p === 'TCP' || p === 'TERMINATED_HTTPS') return p;
  if (p === 'HTTPS') return 'TERMINATED_HTTPS';
  throw invalid(`${field}: '${String(value)}' must be HTTP, TCP or TERMINATED_HTTPS`);
}

/** One of ALGORITHMS, in any case. */
export function algorithmOf(value: unknown, field = 'algorithm'): Algorithm {
  const a = (typeof value === 'string' ? value.toUpperCase() : value) as Algorithm;
  if (!ALGORITHMS.includes(a)) throw invalid(`${field}: '${String(value)}' must be one of ${ALGORITHMS.join(', ')}`);
  return a;
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

/** A pool's session persistence: none, or a type that fits its algorithm and protocol (APP_COOKIE with a cookie name). */
export function checkPersistence(algorithm: Algorithm, protocol: LbProtocol, type: string | null | undefined, cookieName?: string): Pool['sessionPersistence'] {
  // A cookie name is checked whether or not it is used, and refused where it would not be.
  if (cookieName !== undefined && !COOKIE_NAME.test(cookieName)) throw invalid(`cookieName: '${cookieName}' must be a cookie name (1-64 token characters)`);
  const t = typeof type === 'string' && type !== '' && type.toUpperCase() !== 'NONE' ? (type.toUpperCase() as PersistenceType) : null;
  if (cookieName !== undefined && t !== 'APP_COOKIE') throw invalid(`cookieName: '${cookieName}' is only for APP_COOKIE persistence, not ${t ?? 'none'}`);
  if (t === null) return null;
  if (!PERSISTENCE_TYPES.includes(t)) throw invalid(`persistence: '${type}' must be one of ${PERSISTENCE_TYPES.join(', ')}`);
  if (algorithm === 'SOURCE_IP') throw invalid(`persistence: '${t}' cannot be combined with the SOURCE_IP algorithm, which already pins a client`);
  if (t !== 'SOURCE_IP' && protocol !== 'HTTP') throw invalid(`persistence: '${t}' needs an HTTP pool, not ${protocol}`);
  if (t === 'APP_COOKIE') {
    if (!cookieName) throw invalid(`cookieName: '${cookieName ?? ''}' is required for APP_COOKIE and must be a cookie name`);
    return { type: t, cookieName };
  }
  return { type: t };
}

/** A member's weight: 0 (drain) to 256. */
export function checkWeight(weight: unknown): number {
  if (!Number.isInteger(weight) || (weight as number) < 0 || (weight as number) > 256)
    throw invalid(`weight: '${weight}' must be a whole number from 0 to 256`);
  return weight as number;
}

/** "200", "200,202", "200-299": Octavia's expected_codes (the engine matches them). */
export function checkExpectedCodes(text: string): void {
  for (const p of text.split(',').map((x) => x.trim())) {
    const m = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(p);
    if (!m) throw invalid(`expectedCodes: '${text}' must be codes or ranges such as 200, 200,202 or 200-299`);
    if (Number(m[1]) > Number(m[2] ?? m[1])) throw invalid(`expectedCodes: '${p}' is an empty range`);
  }
}

export function checkMonitor(h: Omit<HealthMonitor, 'id' | 'name' | 'projectId' | 'poolId' | 'createdAt'>): void {
  const int = (v: number, field: string, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw invalid(`${field}: '${v}' must be a whole number from ${lo} to ${hi}`);
  };
  if (h.type !== 'TCP' && h.type !== 'HTTP') throw invalid(`type: '${h.type}' must be TCP or HTTP`);
  int(h.delay, 'delay', 1, 3600);
  int(h.timeout, 'timeout', 1, 3600);
  if (h.timeout >= h.delay) throw invalid(`timeout: ${h.timeout} s must be below the delay of ${h.delay} s`);
  int(h.maxRetries, 'maxRetries', 1, 10);
  int(h.maxRetriesDown, 'maxRetriesDown', 1, 10);
  if (!h.urlPath.startsWith('/') || /\s/.test(h.urlPath)) throw invalid(`urlPath: '${h.urlPath}' must be a path starting with /`);
  checkExpectedCodes(h.expectedCodes);
}
