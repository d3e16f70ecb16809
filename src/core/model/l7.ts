/**
 * Layer-7 policies, in Octavia's model: ordered by position on an HTTP listener, each with an
 * action (to a pool, to a URL, to a URL prefix, or reject) and rules that must all match. The
 * first policy whose rules all match takes the request; the listener's default pool takes the
 * rest. Rules are kept inside their policy (Octavia's API shows them under it too).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, S, StringEnum } from './kit.js';

/** Octavia's four actions, and AWS's fixed response (an answer of the load balancer's own). */
export const L7_ACTIONS = ['REDIRECT_TO_POOL', 'REDIRECT_TO_URL', 'REDIRECT_PREFIX', 'REJECT', 'FIXED_RESPONSE'] as const;
export type L7Action = (typeof L7_ACTIONS)[number];
/** Octavia's five rule types, and AWS's query-string and source-ip conditions. */
export const L7_RULE_TYPES = ['HOST_NAME', 'PATH', 'HEADER', 'COOKIE', 'FILE_TYPE', 'QUERY_STRING', 'SOURCE_IP'] as const;
export type L7RuleType = (typeof L7_RULE_TYPES)[number];
export const L7_COMPARE_TYPES = ['EQUAL_TO', 'STARTS_WITH', 'ENDS_WITH', 'CONTAINS', 'REGEX'] as const;
export type L7CompareType = (typeof L7_COMPARE_TYPES)[number];
/** Octavia's redirect codes; 302 when none is given. */
export const L7_REDIRECT_CODES = [301, 302, 303, 307, 308] as const;
/** The most policies a listener and rules a policy may have. */
export const MAX_L7_POLICIES = 50;
export const MAX_L7_RULES = 50;
/** A fixed response's content types (AWS's). */
export const FIXED_RESPONSE_TYPES = ['text/plain', 'text/css', 'text/html', 'application/javascript', 'application/json'] as const;
/** A fixed response's body: at most this many bytes (AWS's 1024). */
export const MAX_FIXED_BODY = 1024;

export const FixedResponse = Type.Object({
  statusCode: Type.Integer({ description: '2XX, 4XX or 5XX' }),
  contentType: StringEnum(FIXED_RESPONSE_TYPES),
  body: S({ description: 'At most 1024 bytes' }),
});
export type FixedResponse = Static<typeof FixedResponse>;

export const L7Rule = Type.Object(
  {
    id: S(),
    type: StringEnum(L7_RULE_TYPES),
    compareType: StringEnum(L7_COMPARE_TYPES),
    key: Nullable(S({ description: 'The header, cookie or query parameter name (HEADER, COOKIE; QUERY_STRING: absent, the whole query)' })),
    value: S(),
    invert: Type.Boolean({ description: 'The rule matches when the comparison does not' }),
  },
  { title: 'L7Rule' },
);
export type L7Rule = Static<typeof L7Rule>;

export { l7RuleText, l7PolicyTarget } from './l7-text.js';

export const L7Policy = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    listenerId: S(),
    position: Type.Integer({ minimum: 1, description: 'Policies apply in this order, 1 first' }),
    action: StringEnum(L7_ACTIONS),
    redirectPoolId: Nullable(S()),
    redirectUrl: Nullable(S()),
    redirectPrefix: Nullable(S()),
    redirectHttpCode: Nullable(Type.Integer({ description: 'REDIRECT_TO_URL and REDIRECT_PREFIX: 301, 302, 303, 307 or 308' })),
    fixedResponse: Type.Optional(Nullable(FixedResponse)),
    rules: Type.Array(L7Rule),
    createdAt: S(),
  },
  { $id: 'L7Policy' },
);
export type L7Policy = Static<typeof L7Policy>;
