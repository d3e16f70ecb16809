/**
 * L7 policies on the built-in engine: a listener's policies compiled once per configuration
 * into one function of a request. The first policy (in order) whose rules all match decides:
 * a pool, a redirect or a rejection; null leaves the request to the listener's default pool.
 * A policy without rules matches nothing. A missing header or cookie matches no comparison
 * (and so matches an inverted one). Host names compare without case and without the port.
 * Regular expressions were refused at creation when they may take exponential time.
 */
import ipaddr from 'ipaddr.js';
import type { PolicyConfig, RuleConfig } from './config.js';

/** What a policy decided: a pool to send to, or an answer of the load balancer's own (a redirect, 403, or a fixed response). */
export type Verdict = { policy: string; pool: string } | { policy: string; status: number; location?: string; fixed?: { contentType: string; body: string } };

/** The parts of a request the rules read. */
export interface RequestView {
  host(): string | undefined;
  /** The path and query as the client sent them (origin form). */
  target(): string;
  header(name: string): string | undefined;
  cookie(name: string): string | undefined;
  /** The client's address (the PROXY header's, for the public IP's connections). */
  client(): string;
}

/** A target's query string (after '?', '' when none). */
export function queryOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? '' : target.slice(q + 1);
}

/** The value of the first parameter `key` of a query string, as sent (HAProxy's url_param); undefined when absent. */
export function queryParam(query: string, key: string): string | undefined {
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if ((eq < 0 ? part : part.slice(0, eq)) === key) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

/** Whether `ip` is within `cidr` (an IPv4-mapped IPv6 address counts as IPv4). */
function within(cidr: [ipaddr.IPv4 | ipaddr.IPv6, number]): (ip: string) => boolean {
  return (ip) => {
    try {
      let a = ipaddr.parse(ip);
      if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
      return a.kind() === cidr[0].kind() && a.match(cidr);
    } catch {
      return false;
    }
  };
}

/** The path of a target (an absolute-form target's too), without its query. */
export function pathOf(target: string): string {
  let start = 0;
  if (target.charCodeAt(0) !== 47) {
    const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
    start = authority ? authority[0].length : 0;
  }
  const q = target.indexOf('?', start);
  const path = target.slice(start, q < 0 ? undefined : q);
  return path || '/';
}

/** A path's file type: what follows the last dot of its last segment ('' when none). */
export function fileTypeOf(path: string): string {
  const last = path.slice(path.lastIndexOf('/') + 1);
  const dot = last.lastIndexOf('.');
  return dot < 0 ? '' : last.slice(dot + 1);
}

function comparer(r: RuleConfig, fold: boolean): (s: string) => boolean {
  const v = fold ? r.value.toLowerCase() : r.value;
  switch (r.compare) {
    case 'EQUAL_TO':
      return (s) => s === v;
    case 'STARTS_WITH':
      return (s) => s.startsWith(v);
    case 'ENDS_WITH':
      return (s) => s.endsWith(v);
    case 'CONTAINS':
      return (s) => s.includes(v);
    case 'REGEX': {
      const re = new RegExp(r.value, fold ? 'i' : '');
      return (s) => re.test(s);
    }
  }
}

function rule(r: RuleConfig): (req: RequestView) => boolean {
  if (r.type === 'SOURCE_IP') {
    const inside = within(ipaddr.parseCIDR(r.value));
    return (req) => inside(req.client()) !== r.invert;
  }
  const host = r.type === 'HOST_NAME';
  const cmp = comparer(r, host);
  const read: (req: RequestView) => string | undefined =
    r.type === 'HOST_NAME'
      ? (req) => req.host()?.replace(/:\d+$/, '').toLowerCase()
      : r.type === 'PATH'
        ? (req) => pathOf(req.target())
        : r.type === 'FILE_TYPE'
          ? (req) => fileTypeOf(pathOf(req.target()))
          : r.type === 'HEADER'
            ? (req) => req.header(r.key!)
            : r.type === 'QUERY_STRING'
              ? r.key === null
                ? (req) => queryOf(req.target())
                : (req) => queryParam(queryOf(req.target()), r.key!)
              : (req) => req.cookie(r.key!);
  return (req) => {
    const s = read(req);
    const hit = s !== undefined && cmp(s);
    return r.invert ? !hit : hit;
  };
}

/** The listener's policies as one function, or null when it has none (nothing is matched per request). */
export function compilePolicies(policies: PolicyConfig[] | undefined): ((req: RequestView) => Verdict | null) | null {
  if (!policies || policies.length === 0) return null;
  const compiled = policies
    .filter((p) => p.rules.length > 0)
    .map((p) => {
      const rules = p.rules.map(rule);
      const verdict = (req: RequestView): Verdict => {
        if (p.action === 'REDIRECT_TO_POOL') return { policy: p.id, pool: p.poolId! };
        if (p.action === 'REJECT') return { policy: p.id, status: 403 };
        if (p.action === 'FIXED_RESPONSE') return { policy: p.id, status: p.fixed!.status, fixed: { contentType: p.fixed!.contentType, body: p.fixed!.body } };
        if (p.action === 'REDIRECT_TO_URL') return { policy: p.id, status: p.code ?? 302, location: p.url! };
        // REDIRECT_PREFIX: the prefix, then the request's path and query (HAProxy's `redirect prefix`).
        const target = req.target();
        const origin = target.charCodeAt(0) === 47 ? target : pathOf(target) + (target.includes('?') ? target.slice(target.indexOf('?')) : '');
        return { policy: p.id, status: p.code ?? 302, location: p.prefix!.replace(/\/+$/, '') + origin };
      };
      return { rules, verdict };
    });
  return (req) => {
    for (const p of compiled) if (p.rules.every((r) => r(req))) return p.verdict(req);
    return null;
  };
}
