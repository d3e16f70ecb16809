/**
 * Layer-7 policies, in Octavia's model: ordered by position on an HTTP listener, each with an
 * action (to a pool, to a URL, to a URL prefix, or reject) and rules that must all match. The
 * first policy whose rules all match takes the request; the listener's default pool takes the
 * rest. Rules are kept inside their policy (Octavia's API shows them under it too).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, S, StringEnum } from './kit.js';

export const L7_ACTIONS = ['REDIRECT_TO_POOL', 'REDIRECT_TO_URL', 'REDIRECT_PREFIX', 'REJECT'] as const;
export type L7Action = (typeof L7_ACTIONS)[number];
export const L7_RULE_TYPES = ['HOST_NAME', 'PATH', 'HEADER', 'COOKIE', 'FILE_TYPE'] as const;
export type L7RuleType = (typeof L7_RULE_TYPES)[number];
export const L7_COMPARE_TYPES = ['EQUAL_TO', 'STARTS_WITH', 'ENDS_WITH', 'CONTAINS', 'REGEX'] as const;
export type L7CompareType = (typeof L7_COMPARE_TYPES)[number];
/** Octavia's redirect codes; 302 when none is given. */
export const L7_REDIRECT_CODES = [301, 302, 303, 307, 308] as const;
/** The most policies a listener and rules a policy may have. */
export const MAX_L7_POLICIES = 50;
export const MAX_L7_RULES = 50;

export const L7Rule = Type.Object(
  {
    id: S(),
    type: StringEnum(L7_RULE_TYPES),
    compareType: StringEnum(L7_COMPARE_TYPES),
    key: Nullable(S({ description: 'The header or cookie name (HEADER and COOKIE rules)' })),
    value: S(),
    invert: Type.Boolean({ description: 'The rule matches when the comparison does not' }),
  },
  { title: 'L7Rule' },
);
export type L7Rule = Static<typeof L7Rule>;

/** A rule as one line, as the CLI takes it and plans show it: `not HEADER:x-env EQUAL_TO beta`. */
export function l7RuleText(r: { type: string; compareType: string; key?: string | null; value: string; invert?: boolean }): string {
  return `${r.invert ? 'not ' : ''}${r.type.toUpperCase()}${r.key ? `:${r.key.toLowerCase()}` : ''} ${r.compareType.toUpperCase()} ${r.value}`;
}

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
    rules: Type.Array(L7Rule),
    createdAt: S(),
  },
  { $id: 'L7Policy' },
);
export type L7Policy = Static<typeof L7Policy>;
