/**
 * L7 policies and their rules (Octavia's l7policy and l7rule), on HTTP listeners. Positions
 * are 1..n without gaps: a policy put at a position moves the ones from there down, one
 * deleted moves the ones after it up (Octavia's behaviour); a position past the end is the end.
 */
import safeRegex from 'safe-regex2';
import { checkMutable } from './mutable.js';
import { NimbusError, invalid } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { L7Policy, L7PolicyInput, L7PolicyUpdate, L7Rule, L7RuleInput, Listener, Pool } from '../../core/model/index.js';
import {
  FIXED_RESPONSE_TYPES,
  L7_ACTIONS,
  L7_COMPARE_TYPES,
  L7_REDIRECT_CODES,
  L7_RULE_TYPES,
  MAX_FIXED_BODY,
  MAX_L7_POLICIES,
  MAX_L7_RULES,
  type FixedResponse,
} from '../../core/model/index.js';
import ipaddr from 'ipaddr.js';
import type { Store } from '../../store/db.js';
import { checkName, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';

const oneOf = <T extends string>(field: string, value: unknown, allowed: readonly T[]): T => {
  const v = typeof value === 'string' ? value.toUpperCase() : value;
  if (!allowed.includes(v as T)) throw invalid(`${field}: '${String(value)}' must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`);
  return v as T;
};

/** A header or cookie name: an HTTP token (RFC 9110). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A value: printable ASCII without spaces or quotes (a regular expression says `\s` for a space). */
const VALUE = /^[\x21\x23-\x26\x28-\x7e]+$/;

/** A rule as stored, from its input, with Octavia's checks; a regular expression must compile and be linear-time safe. */
export function checkRule(input: L7RuleInput): L7Rule {
  const type = oneOf('type', input.type, L7_RULE_TYPES);
  const compareType = oneOf('compareType', input.compareType, L7_COMPARE_TYPES);
  if (type === 'FILE_TYPE' && compareType !== 'EQUAL_TO' && compareType !== 'REGEX')
    throw invalid(`compareType: '${compareType}' is not for FILE_TYPE rules, which compare with EQUAL_TO or REGEX`);
  if (type === 'SOURCE_IP') {
    // The client's address within a CIDR (AWS's source-ip condition): one comparison, no key.
    if (compareType !== 'EQUAL_TO') throw invalid(`compareType: '${compareType}' is not for SOURCE_IP rules: EQUAL_TO (the client within the CIDR)`);
    if (input.key) throw invalid(`key: '${input.key}' is not for SOURCE_IP rules`);
    return { id: newId('l7Rule'), type, compareType, key: null, value: cidrOf(input.value), invert: input.invert ?? false };
  }
  const keyed = type === 'HEADER' || type === 'COOKIE';
  if (keyed && (!input.key || !TOKEN.test(input.key)))
    throw invalid(`key: '${input.key ?? ''}' must name the ${type === 'HEADER' ? 'header' : 'cookie'} (an HTTP token)`);
  // A query parameter's name as sent (not decoded); none: the whole query string.
  if (type === 'QUERY_STRING' && input.key && !QUERY_KEY.test(input.key))
    throw invalid(`key: '${input.key}' must be a query parameter's name (printable, without '=', '&', '#', spaces or quotes)`);
  if (!keyed && type !== 'QUERY_STRING' && input.key) throw invalid(`key: '${input.key}' is only for HEADER, COOKIE and QUERY_STRING rules`);
  if (!VALUE.test(input.value)) throw invalid(`value: '${input.value}' must be printable ASCII without spaces or quotes`);
  if (compareType === 'REGEX') {
    try {
      new RegExp(input.value);
    } catch (err) {
      throw invalid(`value: '${input.value}' is not a regular expression: ${(err as Error).message}`);
    }
    // Nested repetition can take exponential time to fail on a crafted request: refused (safe-regex2's star height).
    if (!safeRegex(input.value)) throw invalid(`value: '${input.value}' may take exponential time on a crafted request (nested repetition): refused`);
  }
  const key = keyed ? input.key!.toLowerCase() : type === 'QUERY_STRING' && input.key ? input.key : null;
  return { id: newId('l7Rule'), type, compareType, key, value: input.value, invert: input.invert ?? false };
}

/** A query parameter's name as it appears in a query string. */
const QUERY_KEY = /^[\x21\x24\x25\x28-\x3c\x3e-\x7e]+$/;

/** An address or a CIDR, as a normalized CIDR (an address alone is /32 or /128). */
function cidrOf(value: string): string {
  try {
    if (value.includes('/')) {
      const [addr, bits] = ipaddr.parseCIDR(value);
      return `${addr.toString()}/${bits}`;
    }
    const addr = ipaddr.parse(value);
    return `${addr.toString()}/${addr.kind() === 'ipv4' ? 32 : 128}`;
  } catch {
    throw invalid(`value: '${value}' must be an IP address or a CIDR (SOURCE_IP rules)`);
  }
}

/** A fixed response, checked (AWS's rules): 2XX, 4XX or 5XX, one of its content types, a body of at most 1024 bytes. */
function checkFixed(input: { statusCode: number; contentType?: string; body?: string }): FixedResponse {
  const code = input.statusCode;
  if (!Number.isInteger(code) || !((code >= 200 && code < 300) || (code >= 400 && code < 600)))
    throw invalid(`fixedResponse.statusCode: '${code}' must be 2XX, 4XX or 5XX (redirects have their actions)`);
  const contentType = (input.contentType ?? 'text/plain').toLowerCase() as FixedResponse['contentType'];
  if (!FIXED_RESPONSE_TYPES.includes(contentType))
    throw invalid(
      `fixedResponse.contentType: '${input.contentType}' must be ${FIXED_RESPONSE_TYPES.slice(0, -1).join(', ')} or ${FIXED_RESPONSE_TYPES.at(-1)}`,
    );
  const body = input.body ?? '';
  if (Buffer.byteLength(body) > MAX_FIXED_BODY) throw invalid(`fixedResponse.body: ${Buffer.byteLength(body)} bytes; at most ${MAX_FIXED_BODY}`);
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(body)) throw invalid('fixedResponse.body: control characters other than tab and newline are refused');
  if (body && (code === 204 || code === 205)) throw invalid(`fixedResponse.body: a ${code} answer has no body`);
  return { statusCode: code, contentType, body };
}

function checkUrl(field: string, v: string | null | undefined): string {
  let u: URL;
  try {
    u = new URL(v ?? '');
  } catch {
    throw invalid(`${field}: '${v ?? ''}' must be an http or https URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`${field}: '${v}' must be an http or https URL`);
  if (/[\s"']/.test(v!)) throw invalid(`${field}: '${v}' must not contain spaces or quotes`);
  return v!;
}

/** The action's own fields, checked: each action takes its target and no other. */
function actionFields(
  ctx: Ctx,
  listener: Listener,
  action: L7Policy['action'],
  input: {
    redirectPool?: string | null;
    redirectUrl?: string | null;
    redirectPrefix?: string | null;
    redirectHttpCode?: number | null;
    fixedResponse?: { statusCode: number; contentType?: string; body?: string } | null;
  },
): Pick<L7Policy, 'redirectPoolId' | 'redirectUrl' | 'redirectPrefix' | 'redirectHttpCode' | 'fixedResponse'> {
  const out = {
    redirectPoolId: null as string | null,
    redirectUrl: null as string | null,
    redirectPrefix: null as string | null,
    redirectHttpCode: null as number | null,
    fixedResponse: null as FixedResponse | null,
  };
  const stray = (field: string, v: unknown) => {
    if (v !== undefined && v !== null) throw invalid(`${field}: not taken by action ${action}`);
  };
  if (action === 'REDIRECT_TO_POOL') {
    if (!input.redirectPool) throw invalid('redirectPool: REDIRECT_TO_POOL needs the pool to send to');
    const pool = resolve<Pool>(ctx, 'pool', input.redirectPool, 'redirectPool');
    if (pool.loadBalancerId !== listener.loadBalancerId)
      throw new NimbusError('InvalidPool.ProtocolMismatch', `pool '${pool.name}' belongs to another load balancer`);
    if (pool.protocol !== 'HTTP')
      throw new NimbusError('InvalidPool.ProtocolMismatch', `pool '${pool.name}' is ${pool.protocol}; an HTTP listener's policy sends to HTTP pools`);
    out.redirectPoolId = pool.id;
  } else stray('redirectPool', input.redirectPool);
  if (action === 'REDIRECT_TO_URL') out.redirectUrl = checkUrl('redirectUrl', input.redirectUrl);
  else stray('redirectUrl', input.redirectUrl);
  if (action === 'REDIRECT_PREFIX') out.redirectPrefix = checkUrl('redirectPrefix', input.redirectPrefix);
  else stray('redirectPrefix', input.redirectPrefix);
  if (action === 'REDIRECT_TO_URL' || action === 'REDIRECT_PREFIX') {
    const code = input.redirectHttpCode ?? 302;
    if (!(L7_REDIRECT_CODES as readonly number[]).includes(code)) throw invalid(`redirectHttpCode: '${code}' must be 301, 302, 303, 307 or 308`);
    out.redirectHttpCode = code;
  } else stray('redirectHttpCode', input.redirectHttpCode);
  if (action === 'FIXED_RESPONSE') {
    if (!input.fixedResponse) throw invalid('fixedResponse: FIXED_RESPONSE needs the answer (statusCode, contentType, body)');
    out.fixedResponse = checkFixed(input.fixedResponse);
  } else stray('fixedResponse', input.fixedResponse);
  return out;
}

/** A listener's policies in order. */
export function policiesOf(store: Store, listenerId: string): L7Policy[] {
  return store.list<L7Policy>('l7Policy', { parentId: listenerId }).sort((a, b) => a.position - b.position);
}

/** Gives the listener's policies positions 1..n in the order given (saving the ones that moved). */
function renumber(ctx: Ctx, ordered: L7Policy[]): void {
  ordered.forEach((p, i) => {
    if (p.position !== i + 1) saveUpdate(ctx, 'l7Policy', { ...p, position: i + 1 });
  });
}

function placed(position: number | undefined, count: number): number {
  if (position === undefined) return count + 1;
  if (!Number.isInteger(position) || position < 1) throw invalid(`position: '${position}' must be a whole number from 1`);
  return Math.min(position, count + 1);
}

export function listL7Policies(ctx: Ctx, listenerId?: string): L7Policy[] {
  if (listenerId) return policiesOf(ctx.store, listenerId);
  return ctx.store.list<L7Policy>('l7Policy', { projectId: ctx.projectId }).sort((a, b) => a.listenerId.localeCompare(b.listenerId) || a.position - b.position);
}

export const getL7Policy = (ctx: Ctx, ref: string) => resolve<L7Policy>(ctx, 'l7Policy', ref);

export function createL7Policy(ctx: Ctx, input: L7PolicyInput): L7Policy {
  return write(ctx, () => {
    const listener = resolve<Listener>(ctx, 'listener', input.listener, 'listener');
    checkMutable(ctx, listener.loadBalancerId);
    if (listener.protocol === 'TCP')
      throw new NimbusError(
        'InvalidListener.Protocol',
        `listener '${listener.name}' is ${listener.protocol}: L7 policies are for HTTP and TERMINATED_HTTPS listeners`,
      );
    const others = policiesOf(ctx.store, listener.id);
    if (others.length >= MAX_L7_POLICIES) throw new NimbusError('L7PolicyLimitExceeded', `listener '${listener.name}' has ${MAX_L7_POLICIES} L7 policies`);
    const action = oneOf('action', input.action, L7_ACTIONS);
    const position = placed(input.position, others.length);
    const policy: L7Policy = {
      id: newId('l7Policy'),
      name: checkName(ctx, 'l7Policy', input.name ?? `${listener.name}-policy-${others.length + 1}`),
      projectId: ctx.projectId,
      listenerId: listener.id,
      position,
      action,
      ...actionFields(ctx, listener, action, input),
      rules: (input.rules ?? []).map(checkRule),
      createdAt: now(),
    };
    saveNew(ctx, 'l7Policy', policy, listener.id);
    others.splice(position - 1, 0, policy);
    renumber(ctx, others);
    return policy;
  });
}

export function updateL7Policy(ctx: Ctx, ref: string, input: L7PolicyUpdate): L7Policy {
  return write(ctx, () => {
    const p = getL7Policy(ctx, ref);
    const listener = resolve<Listener>(ctx, 'listener', p.listenerId);
    checkMutable(ctx, listener.loadBalancerId);
    const next: L7Policy = { ...p };
    if (input.name !== undefined) next.name = checkName(ctx, 'l7Policy', input.name, p.id);
    if (input.action !== undefined) next.action = oneOf('action', input.action, L7_ACTIONS);
    const target = {
      redirectPool: input.redirectPool !== undefined ? input.redirectPool : (p.redirectPoolId ?? undefined),
      redirectUrl: input.redirectUrl !== undefined ? input.redirectUrl : (p.redirectUrl ?? undefined),
      redirectPrefix: input.redirectPrefix !== undefined ? input.redirectPrefix : (p.redirectPrefix ?? undefined),
      redirectHttpCode: input.redirectHttpCode !== undefined ? input.redirectHttpCode : (p.redirectHttpCode ?? undefined),
      fixedResponse: input.fixedResponse !== undefined ? input.fixedResponse : (p.fixedResponse ?? undefined),
    };
    // A new action drops the fields of the old one that it does not take.
    if (input.action !== undefined && next.action !== p.action) {
      if (input.redirectPool === undefined) target.redirectPool = undefined;
      if (input.redirectUrl === undefined) target.redirectUrl = undefined;
      if (input.redirectPrefix === undefined) target.redirectPrefix = undefined;
      if (input.redirectHttpCode === undefined) target.redirectHttpCode = undefined;
      if (input.fixedResponse === undefined) target.fixedResponse = undefined;
    }
    Object.assign(next, actionFields(ctx, listener, next.action, target));
    saveUpdate(ctx, 'l7Policy', next);
    if (input.position !== undefined) {
      const rest = policiesOf(ctx.store, p.listenerId).filter((x) => x.id !== p.id);
      rest.splice(placed(input.position, rest.length) - 1, 0, next);
      renumber(ctx, rest);
    }
    return getL7Policy(ctx, p.id);
  });
}

export function deleteL7Policy(ctx: Ctx, ref: string): L7Policy {
  return write(ctx, () => {
    const p = getL7Policy(ctx, ref);
    checkMutable(ctx, resolve<Listener>(ctx, 'listener', p.listenerId).loadBalancerId);
    saveDelete(ctx, 'l7Policy', p);
    renumber(ctx, policiesOf(ctx.store, p.listenerId));
    return p;
  });
}

export function addL7Rule(ctx: Ctx, ref: string, input: L7RuleInput): L7Rule {
  return write(ctx, () => {
    const p = getL7Policy(ctx, ref);
    checkMutable(ctx, resolve<Listener>(ctx, 'listener', p.listenerId).loadBalancerId);
    if (p.rules.length >= MAX_L7_RULES) throw new NimbusError('L7PolicyLimitExceeded', `L7 policy '${p.name}' has ${MAX_L7_RULES} rules`);
    const rule = checkRule(input);
    saveUpdate(ctx, 'l7Policy', { ...p, rules: [...p.rules, rule] });
    return rule;
  });
}

export function deleteL7Rule(ctx: Ctx, ref: string, ruleId: string): L7Rule {
  return write(ctx, () => {
    const p = getL7Policy(ctx, ref);
    checkMutable(ctx, resolve<Listener>(ctx, 'listener', p.listenerId).loadBalancerId);
    const rule = p.rules.find((r) => r.id === ruleId);
    if (!rule) throw new NimbusError('InvalidL7RuleID.NotFound', `L7 policy '${p.name}' has no rule '${ruleId}'`);
    saveUpdate(ctx, 'l7Policy', { ...p, rules: p.rules.filter((r) => r !== rule) });
    return rule;
  });
}
