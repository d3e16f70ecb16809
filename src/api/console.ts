/**
 * The web console: static files built from src/console (dist/console), and its sign-in, as
 * Jupyter does it. `nimbus serve` prints the console's URL with a one-time login token (and
 * `nimbus console` asks the API for another); the page trades it for a session cookie
 * (HttpOnly, SameSite=Strict, Path=/) that stands for the token's principal, with the same
 * project scoping as the API. Sessions live in the daemon's memory: after a restart, sign in
 * again with `nimbus console`.
 *
 * A web page of another site cannot use the session: the cookie is SameSite=Strict, bodies
 * must be JSON (a cross-site JSON request needs a preflight, which gets no CORS grant), and
 * the Host header must name the daemon. The pages themselves carry a strict Content Security
 * Policy (scripts and styles from the daemon only; no framing).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { NimbusError } from '../core/errors.js';
import type { Principal } from '../resources/token/service.js';

const LOGIN_TTL_MS = 10 * 60_000;
const SESSION_TTL_MS = 12 * 60 * 60_000;
export const SESSION_COOKIE = 'nimbus_session';

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/** One-time login tokens and sessions, by hash (a memory dump shows no usable secret). */
export class ConsoleSessions {
  private readonly logins = new Map<string, { principal: Principal; expires: number }>();
  private readonly sessions = new Map<string, { principal: Principal; expires: number }>();

  /** A login token for `principal`: good once, for ten minutes. */
  issueLogin(principal: Principal): string {
    const token = randomBytes(24).toString('base64url');
    this.logins.set(hash(token), { principal, expires: Date.now() + LOGIN_TTL_MS });
    return token;
  }

  /** Trades a login token for a session id; the token is spent either way. */
  login(token: string): string {
    const key = hash(token);
    const l = this.logins.get(key);
    this.logins.delete(key);
    if (!l || l.expires < Date.now()) throw new NimbusError('AuthFailure', "the login token is spent, expired or unknown: run 'nimbus console' for a new one");
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(hash(id), { principal: l.principal, expires: Date.now() + SESSION_TTL_MS });
    return id;
  }

  principal(sessionId: string): Principal | null {
    const s = this.sessions.get(hash(sessionId));
    if (!s) return null;
    if (s.expires < Date.now()) {
      this.sessions.delete(hash(sessionId));
      return null;
    }
    return s.principal;
  }

  logout(sessionId: string): void {
    this.sessions.delete(hash(sessionId));
  }
}

/** The value of one cookie of a Cookie header, or null. */
export function cookieOf(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

// dist/console beside dist/api; from the sources (tests run them through tsx), the checkout's dist/console.
const DIST = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../dist/console/' : '../console/', import.meta.url));
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const FILES: Record<string, string> = { '/': 'index.html', '/console/app.js': 'app.js', '/console/app.css': 'app.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** The paths a browser fetches before it has a session. */
export const CONSOLE_OPEN_PATHS = ['GET /', 'GET /console/app.js', 'GET /console/app.css', 'POST /console/login'];

export function consoleRoutes(app: FastifyInstance, sessions: ConsoleSessions): void {
  // Built by `npm run build` (scripts/build.mjs); a checkout without it says so.
  const cache = new Map<string, Buffer>();
  for (const [path, file] of Object.entries(FILES)) {
    app.get(path, { schema: { hide: true } }, async (_req, reply) => {
      if (!cache.has(file)) {
        const full = `${DIST}${file}`;
        if (!existsSync(full)) return reply.status(404).type('text/plain').send("the console is not built: run 'npm run build'\n");
        cache.set(file, readFileSync(full));
      }
      return reply
        .type(TYPES[file.split('.').pop()!])
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache')
        .send(cache.get(file));
    });
  }
  app.post(
    '/console/login',
    {
      schema: {
        hide: true,
        body: { type: 'object', properties: { token: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['token'], additionalProperties: false },
      },
    },
    async (req, reply) => {
      const id = sessions.login((req.body as { token: string }).token);
      return reply.header('set-cookie', `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`).send({ ok: true });
    },
  );
  app.post('/console/logout', { schema: { hide: true } }, async (req, reply) => {
    const id = cookieOf(req.headers.cookie, SESSION_COOKIE);
    if (id) sessions.logout(id);
    return reply.header('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`).send({ ok: true });
  });
  app.post(
    '/v1/console/logins',
    { schema: { tags: ['console'], summary: "A one-time login URL for the web console, for the caller's token (nimbus console)" } },
    async (req, reply) => {
      const token = sessions.issueLogin(req.principal!);
      const host = req.headers.host ?? '127.0.0.1';
      return reply.status(201).send({ token, url: `http://${host}/?login=${token}` });
    },
  );
}
