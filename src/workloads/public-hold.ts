/**
 * A public IP's sockets between two workers, for the workers that hold them themselves (a
 * primary of several workers of Nimbus's own engine); a lone worker, and HAProxy's agent,
 * have a socket holder that keeps them instead (lb/held-sockets.ts, lb/holder.ts).
 *
 * Such a worker holds its load balancer's public sockets (the daemon opened them on the host
 * and handed them over); when it dies, they close with it, and connections would be refused until the next worker is ready. So the moment the
 * daemon sees its worker exit, it listens on those ports again itself: connections that come
 * meanwhile are accepted, paused (nothing is read), and handed to the next worker with the
 * socket once that worker has its configuration. The window left is the moment between the
 * worker's death and the daemon hearing of it (Node has no public way to keep a listening
 * socket open without accepting on it, nor SO_REUSEPORT before Node 22.12).
 */
import { createServer, type Server, type Socket } from 'node:net';

/** Connections kept for the next worker, per socket; beyond it they are closed (a worker that never comes). */
const MAX_QUEUED = 4096;

export interface Held {
  server: Server;
  queued: Socket[];
}

export class PublicHolds {
  private readonly held = new Map<string, Map<string, Held>>();

  /** Listens again on `ip` for each `listenerId:port` key a dead worker held. */
  hold(lbId: string, ip: string, keys: Iterable<string>): void {
    const m = this.held.get(lbId) ?? new Map<string, Held>();
    this.held.set(lbId, m);
    for (const key of keys) {
      if (m.has(key)) continue;
      const queued: Socket[] = [];
      const server = createServer({ pauseOnConnect: true }, (s) => {
        if (queued.length >= MAX_QUEUED) return void s.destroy();
        s.on('error', () => undefined);
        s.on('close', () => {
          const i = queued.indexOf(s);
          if (i >= 0) queued.splice(i, 1);
        });
        queued.push(s);
      });
      // Taken by another process meanwhile: the next worker's socket is opened as usual (and fails there, with the reason).
      server.on('error', () => {
        if (m.get(key)?.server === server) m.delete(key);
      });
      server.listen({ host: ip, port: Number(key.slice(key.lastIndexOf(':') + 1)), backlog: 1024 });
      m.set(key, { server, queued });
    }
  }

  /** The socket held for this key, listening, with its waiting connections (now the caller's), or null. */
  take(lbId: string, key: string): Held | null {
    const h = this.held.get(lbId)?.get(key);
    if (!h) return null;
    this.held.get(lbId)!.delete(key);
    if (!h.server.listening) {
      h.server.close();
      for (const s of h.queued) s.destroy();
      return null;
    }
    return h;
  }

  /** Lets go of a load balancer's held sockets (it has no worker to come, or the daemon stops). */
  release(lbId: string): void {
    for (const h of this.held.get(lbId)?.values() ?? []) {
      h.server.close();
      for (const s of h.queued) s.destroy();
    }
    this.held.delete(lbId);
  }

  /** Releases every load balancer's but those in `keep`. */
  keepOnly(keep: Set<string>): void {
    for (const lbId of [...this.held.keys()]) if (!keep.has(lbId)) this.release(lbId);
  }
}
