/**
 * The load balancer engine: listeners and pools from a plain EngineConfig, applied again
 * and again without dropping open connections. A listener keeps its sockets across
 * reconfiguration and looks its pool up per request; a removed listener stops accepting
 * and lets its connections finish; a removed member drains.
 */
import { compilePolicies } from './l7.js';
import { createServer, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { DEFAULT_TIMEOUTS, type EngineConfig, type ListenerConfig } from './config.js';
import { PoolRuntime } from './pool.js';
import { HttpSession } from './http/proxy.js';
import type { ListenerContext, SlowHead } from './listener-context.js';
import { tcpSession } from './tcp-proxy.js';
import { AccessLog, Counters } from './observe.js';
import { terminate, tlsServe, type TlsServe } from './tls.js';
import type { HeldSockets } from './held-sockets.js';
import { heldKey } from './holder.js';

interface ListenerRuntime {
  config: ListenerConfig;
  ctx: ListenerContext;
  /** Sockets this engine bound itself, by address. */
  bound: Map<string, Server>;
  /** Sockets handed over by the daemon (the public IP). */
  adopted: Server[];
  /** Client connections open now (for the connection limit). */
  open: number;
  /** Closes sessions whose request head is late (slowloris). */
  reaper: NodeJS.Timeout;
  /** TERMINATED_HTTPS: its certificates as TLS contexts. */
  tls: TlsServe | null;
}

/** How often a listener looks for late request heads. */
const REAP_MS = 250;

export class Engine extends EventEmitter {
  readonly counters = new Counters();
  private readonly pools = new Map<string, PoolRuntime>();
  private readonly lsns = new Map<string, ListenerRuntime>();
  private readonly log: AccessLog;
  /** Open client connections, so that close() can end them. */
  private readonly clients = new Set<Socket>();

  constructor(accessLogFile: string | null) {
    super();
    this.log = new AccessLog(accessLogFile);
  }

  /** Sockets handed over before the first configuration, by listener. */
  private readonly early: { listenerId: string; server: Server; waiting: Socket[] }[] = [];
  private configured = false;
  /** Where this engine's own binds are listened on, when not here: a socket holder (held-sockets.ts). */
  private held: HeldSockets | null = null;
  /** Configurations apply one after another (a bind through the holder takes a moment). */
  private applying: Promise<void> = Promise.resolve();

  /** Listens through a socket holder from now on, so that the sockets outlive this process. */
  listenThrough(held: HeldSockets): void {
    this.held = held;
  }

  /** Applies a whole configuration; resolves once every bind of it is listening (or failed). */
  apply(config: EngineConfig): Promise<void> {
    const run = this.applying.then(() => this.applyNow(config));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async applyNow(config: EngineConfig): Promise<void> {
    this.configured = true;
    const poolIds = new Set(config.pools.map((p) => p.id));
    for (const [id, p] of this.pools) {
      if (!poolIds.has(id)) {
        p.close();
        this.pools.delete(id);
      }
    }
    for (const pc of config.pools) {
      const p = this.pools.get(pc.id);
      if (p) p.apply(pc);
      else this.pools.set(pc.id, new PoolRuntime(pc.id, pc, (member, status) => this.health(member, status), this.checks));
    }
    const listenerIds = new Set(config.listeners.map((l) => l.id));
    for (const [id, l] of this.lsns) {
      if (!listenerIds.has(id)) {
        for (const s of [...l.bound.values(), ...l.adopted]) s.close();
        clearInterval(l.reaper);
        this.lsns.delete(id);
      }
    }
    const fresh: { l: ListenerRuntime; addr: string }[] = [];
    for (const lc of config.listeners) {
      let l = this.lsns.get(lc.id);
      if (l && (l.config.port !== lc.port || l.config.protocol !== lc.protocol || !l.config.tls !== !lc.tls)) {
        for (const s of [...l.bound.values(), ...l.adopted]) s.close();
        clearInterval(l.reaper);
        this.lsns.delete(lc.id);
        l = undefined;
      }
      if (!l) {
        const slowHeads = new Set<SlowHead>();
        const rt: ListenerRuntime = {
          config: lc,
          bound: new Map(),
          adopted: [],
          open: 0,
          reaper: setInterval(() => reap(slowHeads), REAP_MS).unref(),
          tls: null,
          ctx: {
            id: lc.id,
            port: lc.port,
            proto: lc.tls ? 'https' : 'http',
            pool: () => (rt.config.poolId ? (this.pools.get(rt.config.poolId) ?? null) : null),
            route: null,
            poolById: (id) => this.pools.get(id) ?? null,
            timeouts: () => rt.config.timeouts ?? DEFAULT_TIMEOUTS,
            slowHeads,
            log: this.log,
            counters: this.counters,
          },
        };
        l = rt;
        this.lsns.set(lc.id, rt);
      }
      l.config = lc;
      l.ctx.route = compilePolicies(lc.policies);
      const certs = lc.tls?.certificates ?? [];
      if ((l.tls?.key ?? '') !== certs.map((c) => c.id).join(',')) {
        try {
          l.tls = tlsServe(certs);
        } catch (err) {
          this.emit('error', new Error(`listener ${lc.id}: its certificates cannot be served: ${(err as Error).message}`));
        }
      }
      l.ctx.proto = lc.tls ? 'https' : 'http';
      for (const [addr, s] of l.bound) {
        if (!lc.bind.includes(addr)) {
          s.close();
          l.bound.delete(addr);
        }
      }
      for (const addr of lc.bind) if (!l.bound.has(addr)) fresh.push({ l, addr });
    }
    // Sockets handed over before this configuration named their listener: taken now, or closed.
    const early = this.early.splice(0);
    for (const e of early) {
      e.server.removeAllListeners('connection');
      this.adopt(e.listenerId, e.server, false);
      for (const s of e.waiting) this.take(e.listenerId, s);
    }
    if (this.held) await this.bindHeld(config, fresh);
    else await Promise.all(fresh.map(({ l, addr }) => this.bind(l, addr)));
    for (const p of this.pools.values()) for (const m of p.members) this.counters.member(m.id).up = m.health === 'UP' && m.enabled ? 1 : 0;
  }

  private bind(l: ListenerRuntime, addr: string): Promise<void> {
    // Half-closed clients still get their answer (see HttpSession.onClientEnd, tcpSession).
    const server = createServer({ allowHalfOpen: true }, (socket) => this.accept(l, socket));
    l.bound.set(addr, server);
    return new Promise((resolve) => {
      server.once('error', (err) => {
        l.bound.delete(addr);
        this.emit('error', new Error(`listener ${l.config.id} on ${addr}:${l.config.port}: ${err.message}`));
        resolve();
      });
      server.listen({ host: addr, port: l.config.port, backlog: 1024 }, () => resolve());
    });
  }

  /** Binds through the holder: it listens on every address of `config`, and this engine on copies of the new ones. */
  private async bindHeld(config: EngineConfig, fresh: { l: ListenerRuntime; addr: string }[]): Promise<void> {
    const all = config.listeners.flatMap((lc) => lc.bind.map((a) => heldKey(a, lc.port)));
    const byKey = new Map(fresh.map((f) => [heldKey(f.addr, f.l.config.port), f]));
    const got = await this.held!.bind(all, [...byKey.keys()], (k, socket) => {
      const f = byKey.get(k);
      if (f) this.accept(f.l, socket);
      else socket.destroy();
    });
    for (const [k, { l, addr }] of byKey) {
      const s = got.get(k);
      if (typeof s === 'object' && this.lsns.get(l.config.id) === l) this.listenOn(l, s, addr);
      else if (typeof s === 'object') s.close();
      else this.emit('error', new Error(`listener ${l.config.id} on ${addr}:${l.config.port}: listen ${s ?? 'failed'}`));
    }
  }

  /** Serves a listener on a listening server made elsewhere (as bind() makes its own). */
  private listenOn(l: ListenerRuntime, server: Server, addr: string): void {
    server.removeAllListeners('connection');
    l.bound.set(addr, server);
    (server as Server & { allowHalfOpen: boolean }).allowHalfOpen = true;
    server.on('error', () => undefined);
    server.on('connection', (socket: Socket) => this.accept(l, socket));
  }

  /** A socket taken over for a listener, to lend to a sibling worker (several workers share one). */
  publicServer(listenerId: string): Server | null {
    return this.lsns.get(listenerId)?.adopted[0] ?? null;
  }

  /** A connection accepted elsewhere (a primary that held a public socket for a moment) for a listener. */
  take(listenerId: string, socket: Socket): void {
    const l = this.lsns.get(listenerId);
    if (l) this.accept(l, socket);
    else socket.destroy();
  }

  /** `listenerId:port` of each socket taken over from the daemon (the public IP's). */
  adoptedKeys(): string[] {
    const out: string[] = [];
    for (const [id, l] of this.lsns) {
      for (const s of l.adopted) {
        const a = s.address();
        if (a && typeof a === 'object') out.push(`${id}:${a.port}`);
      }
    }
    return out;
  }

  /** Takes a listening socket opened elsewhere (the daemon's public IP) for a listener. */
  adopt(listenerId: string, server: Server, waitForConfig = true, waiting: Socket[] = []): void {
    // Whoever listened for its connections until now (the hand-over's receiver) gives way.
    server.removeAllListeners('connection');
    const l = this.lsns.get(listenerId);
    if (!l) {
      // A socket can arrive before the first configuration (a worker just started): it waits for it.
      if (waitForConfig && !this.configured) {
        // It listens already: what it accepts meanwhile waits, unread, for the listener.
        const e = { listenerId, server, waiting };
        server.on('connection', (s: Socket) => {
          s.on('error', () => undefined);
          e.waiting.push(s);
        });
        this.early.push(e);
      } else {
        server.close();
        for (const s of waiting) s.destroy();
      }
      return;
    }
    l.adopted.push(server);
    // As bind() does; a handed-over server is made with Node's defaults.
    (server as Server & { allowHalfOpen: boolean }).allowHalfOpen = true;
    server.on('connection', (socket: Socket) => this.accept(l, socket));
    for (const s of waiting) this.accept(l, s);
  }

  private accept(l: ListenerRuntime, socket: Socket): void {
    const limit = l.config.connectionLimit ?? -1;
    if (limit >= 0 && l.open >= limit) {
      // Octavia's connection_limit: beyond it a new connection is closed at once.
      this.counters.listener(l.config.id).refused++;
      socket.destroy();
      return;
    }
    l.open++;
    this.clients.add(socket);
    socket.once('close', () => {
      l.open--;
      this.clients.delete(socket);
    });
    if (l.config.protocol === 'TCP') tcpSession(socket, l.ctx);
    else if (!l.config.tls) new HttpSession(socket, l.ctx);
    else if (l.tls) new HttpSession(terminate(socket, l.tls, l.ctx.timeouts().httpRequest), l.ctx);
    else socket.destroy(); // a TERMINATED_HTTPS listener without a certificate it can serve
  }

  private health(memberId: string, status: 'UP' | 'DOWN'): void {
    // Up means it may take traffic: healthy, and not admin down (or refused) by its configuration.
    const m = [...this.pools.values()].flatMap((p) => p.members).find((x) => x.id === memberId);
    this.counters.member(memberId).up = status === 'UP' && (m?.enabled ?? true) ? 1 : 0;
    this.emit('health', memberId, status);
  }

  /** Whether this engine checks its members' health itself (not when another worker of its load balancer does). */
  private checks = true;

  setChecking(on: boolean): void {
    this.checks = on;
    for (const p of this.pools.values()) p.setChecking(on);
  }

  /** Members' health as the worker that checks found it. */
  applyHealth(health: Record<string, 'UP' | 'DOWN'>): void {
    for (const [id, status] of Object.entries(health)) {
      for (const p of this.pools.values()) {
        if (!p.setMemberHealth(id, status)) continue;
        const m = p.members.find((x) => x.id === id);
        this.counters.member(id).up = status === 'UP' && (m?.enabled ?? true) ? 1 : 0;
      }
    }
  }

  /** Health of every member now. */
  healthOf(): Record<string, 'UP' | 'DOWN'> {
    const out: Record<string, 'UP' | 'DOWN'> = {};
    for (const p of this.pools.values()) for (const m of p.members) out[m.id] = m.health;
    return out;
  }

  async close(): Promise<void> {
    for (const l of this.lsns.values()) {
      clearInterval(l.reaper);
      for (const s of [...l.bound.values(), ...l.adopted]) s.close();
    }
    for (const p of this.pools.values()) p.close();
    for (const c of this.clients) c.destroy();
    await this.log.close();
  }
}

/** Closes the sessions whose request head is past its deadline (408). */
function reap(slow: Set<SlowHead>): void {
  if (slow.size === 0) return;
  const now = performance.now();
  for (const s of slow) if (now > s.headDeadline) s.headTimedOut();
}
