/**
 * An L7 policy and its rules as text for people (the CLI's tables, topology plans, the
 * console): kept free of schema code, so that the console's bundle can take it.
 */

/** A rule as one line, as the CLI takes it and plans show it: `not HEADER:x-env EQUAL_TO beta`. */
export function l7RuleText(r: { type: string; compareType: string; key?: string | null; value: string; invert?: boolean }): string {
  // Header and cookie names are compared without case; a query parameter's name as sent.
  const key = r.key ? `:${/^query_string$/i.test(r.type) ? r.key : r.key.toLowerCase()}` : '';
  return `${r.invert ? 'not ' : ''}${r.type.toUpperCase()}${key} ${r.compareType.toUpperCase()} ${r.value}`;
}

/** Where a policy sends a request, for people: `pool web`, `403`, `301 https://x/`, `503 text/plain, 12 bytes`. */
export function l7PolicyTarget(
  p: {
    action: string;
    redirectHttpCode: number | null;
    redirectUrl: string | null;
    redirectPrefix: string | null;
    fixedResponse?: { statusCode: number; contentType: string; body: string } | null;
  },
  poolName: string | null,
): string {
  if (p.action === 'REDIRECT_TO_POOL') return `pool ${poolName ?? '-'}`;
  if (p.action === 'REJECT') return '403';
  if (p.action === 'FIXED_RESPONSE') {
    const f = p.fixedResponse;
    return `${f?.statusCode} ${f?.body ? `${f.contentType}, ${new TextEncoder().encode(f.body).length} bytes` : '(no body)'}`;
  }
  return `${p.redirectHttpCode} ${p.redirectUrl ?? `${p.redirectPrefix}<path>`}`;
}
