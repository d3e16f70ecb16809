/**
 * Public ports held by the daemon for kernel listeners. A kernel listener is a rule that sends
 * a public IP's port to a load balancer's namespace before any socket on the host sees it: it
 * would silently take over a port some other process listens on. So the daemon first listens
 * on the port itself (which fails if another process holds it, or holds the port on every
 * address), and keeps that socket while the rule is there: no other process can take the
 * port meanwhile, and no connection reaches the socket (the rule rewrites them first; one that
 * comes before the rule is closed).
 *
 * A port refused may be held by this daemon's own user-space worker a moment longer, while a
 * listener moves to the kernel: it is retried every second, and reported refused only after
 * REFUSED_AFTER_MS.
 */
import { createServer, type Server } from 'node:net';

export const REFUSED_AFTER_MS = 3_000;
const RETRY_MS = 1_000;

/** Why a public port could not be listened on, as a load balancer's status says it (both engines say it alike). */
export function portRefusal(key: string, err: NodeJS.ErrnoException): string {
  return `public listener ${key}: ${err.code === 'EADDRINUSE' ? 'another process on the host listens on this port (EADDRINUSE)' : err.message}`;
}

export interface PortWant {
  lbId: string;
  ip: string;
  port: number;
}

export class PortReservations {
  private readonly held = new Map<string, { lbId: string; server: Server }>();
  /** Ports that could not be held: since when, and why. */
  private readonly failing = new Map<string, { lbId: string; since: number; why: string }>();
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly again: () => void) {}

  /** Holds each port wanted (those held already stay); resolves with the ones held. */
  async hold(wants: PortWant[]): Promise<PortWant[]> {
    const out: PortWant[] = [];
    for (const w of wants) {
      const key = `${w.ip}:${w.port}`;
      if (!this.held.has(key)) {
        const err = await listen(w.ip, w.port).then(
          (server) => (this.held.set(key, { lbId: w.lbId, server }), null),
          (e: NodeJS.ErrnoException) => e,
        );
        if (err) {
          const f = this.failing.get(key);
          const why = portRefusal(key, err);
          this.failing.set(key, { lbId: w.lbId, since: f?.since ?? Date.now(), why });
          this.retry ??= setTimeout(() => ((this.retry = null), this.again()), RETRY_MS).unref();
          continue;
        }
      }
      this.failing.delete(key);
      out.push(w);
    }
    return out;
  }

  /** Lets go of every port but those in `keys` (`ip:port`). */
  keepOnly(keys: Set<string>): void {
    for (const [key, h] of this.held)
      if (!keys.has(key)) {
        h.server.close();
        this.held.delete(key);
      }
    for (const key of this.failing.keys()) if (!keys.has(key)) this.failing.delete(key);
  }

  /** A port of this load balancer not held yet, and not long enough to call it refused. */
  waiting(lbId: string): boolean {
    const now = Date.now();
    return [...this.failing.values()].some((f) => f.lbId === lbId && now - f.since < REFUSED_AFTER_MS);
  }

  /** Why this load balancer's ports that could not be held for REFUSED_AFTER_MS are not served. */
  refused(lbId: string): string[] {
    const now = Date.now();
    return [...this.failing.values()].filter((f) => f.lbId === lbId && now - f.since >= REFUSED_AFTER_MS).map((f) => f.why);
  }
}

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    // A connection that arrives before the rule is closed at once: the port is only held.
    const server = createServer({ pauseOnConnect: true }, (s) => s.destroy());
    server.once('error', reject);
    server.listen({ host, port, exclusive: true, backlog: 1 }, () => {
      server.off('error', reject);
      server.on('error', () => undefined);
      resolve(server);
    });
  });
}
