/**
 * Who is calling, checked before anything else on every request (the attach upgrade too):
 * - the Host header must name this daemon (a loopback name, or one it was told with
 *   --allow-host or --host): a web page that rebinds a DNS name to 127.0.0.1 gets nothing;
 * - a token (Authorization: Bearer) must be known: an admin's or a project's. Only
 *   `GET /openapi.json` and `GET /healthz` are open.
 * Browsers cannot send the Authorization header cross-site without a CORS preflight, and the
 * API grants none, so a web page cannot drive it; bodies must be application/json as well.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { NimbusError } from '../core/errors.js';
import { authenticate, type Principal } from '../resources/token/service.js';
import type { AppDeps } from './context.js';
import { CONSOLE_OPEN_PATHS, SESSION_COOKIE, cookieOf } from './console.js';

export const OPEN_PATHS = new Set(['GET /openapi.json', 'GET /healthz']);
/** The AWS-compatible endpoint checks its own credentials (a SigV4 signature) on every request: aws-route.ts. */
const SELF_AUTHENTICATED = new Set(['POST /']);
const CONSOLE_OPEN = new Set(CONSOLE_OPEN_PATHS);
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** The host part of a Host header ('127.0.0.1:7700' → '127.0.0.1', '[::1]:7700' → '[::1]'). */
export function hostName(header: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(header.trim().toLowerCase());
  return m ? m[1] : '';
}

export function checkHost(headers: IncomingHttpHeaders, allowed: ReadonlySet<string>): void {
  const host = headers.host ?? '';
  const name = hostName(host);
  if (!name || (!LOOPBACK_NAMES.has(name) && !allowed.has(name))) {
    throw new NimbusError('HostNotAllowed', `Host '${host}' does not name this daemon; allow a name with 'nimbus serve --allow-host NAME'`);
  }
}

/** The principal of a request's token (or of the web console's session cookie), or AuthFailure. */
export function principalOf(deps: AppDeps, headers: IncomingHttpHeaders): Principal {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  const session = !m && deps.sessions ? cookieOf(headers.cookie, SESSION_COOKIE) : null;
  if (session) {
    const p = deps.sessions!.principal(session);
    // A session lives only as long as the token it was opened with (revoked, or its project deleted: ended at once).
    if (p && !deps.store.get(p.tokenId, 'token')) deps.sessions!.logout(session);
    if (!p || !deps.store.get(p.tokenId, 'token'))
      throw new NimbusError('AuthFailure', "the console session has ended: run 'nimbus console' for a new login URL");
    return p;
  }
  if (!m)
    throw new NimbusError('AuthFailure', "no token: send Authorization: Bearer <token> (the CLI finds a local daemon's token itself; or set NIMBUS_TOKEN)");
  const p = authenticate(deps.store, m[1]);
  if (!p) throw new NimbusError('AuthFailure', 'the token is not known to this daemon (revoked, mistyped, or of another installation)');
  return p;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function authHooks(app: FastifyInstance, deps: AppDeps): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    checkHost(req.headers, deps.allowedHosts ?? new Set());
    const path = req.url.split('?')[0];
    const key = `${req.method} ${path}`;
    if (OPEN_PATHS.has(key) || CONSOLE_OPEN.has(key) || SELF_AUTHENTICATED.has(key)) return;
    req.principal = principalOf(deps, req.headers);
  });
  // Bodies are JSON only: no text/plain "simple request" from a web page reaches a handler.
  app.removeContentTypeParser('text/plain');
}
