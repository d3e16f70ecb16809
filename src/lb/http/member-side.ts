/**
 * The member side of an HTTP session (proxy.ts extends it): the member chosen for the exchange
 * (persistence, then the balancer), the connection to it (a kept one, or a new Link), the
 * request bytes kept for a retry, and the retry itself when a member refuses or a kept
 * connection turns out stale. The client side lives in HttpSession.
 */
import type { Socket } from 'node:net';
import type { MemberCounters } from '../../core/model/index.js';
import type { InFlight, MemberRuntime, PoolRuntime } from '../pool.js';
import type { ListenerContext } from '../listener-context.js';
import { HttpRecord } from '../access-record.js';
import type { RequestHead } from './parser.js';
import { Replay } from './replay.js';
import { withPool } from '../config.js';
import { Link, type LinkOwner } from './upstream-link.js';

export abstract class MemberSide implements LinkOwner, InFlight {
  readonly client: Socket;
  protected readonly clientIp: string;
  protected readonly rec: HttpRecord;
  protected pool: PoolRuntime | null = null;
  protected member: MemberRuntime | null = null;
  protected stats: MemberCounters | null = null;
  /** Members that failed this exchange (null while none did). */
  protected tried: MemberRuntime[] | null = null;
  protected upstream: Link | null = null;
  protected upConnected = false;
  protected reused = false;
  /** Request bytes kept for a retry while the member connection is not yet up. */
  protected readonly replay = new Replay();
  /** The persistence cookie to give the client with this response (null: none). */
  protected setCookie: string | null = null;
  protected abstract readonly req: RequestHead;
  protected abstract pending: Buffer | null;

  constructor(
    client: Socket,
    protected readonly ctx: ListenerContext,
  ) {
    this.client = client;
    this.clientIp = client.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    this.rec = new HttpRecord(`${this.clientIp}:${client.remotePort}`, ctx.id, ctx.log);
  }

  /** Answers the client with an error of our own and closes. */
  protected abstract respondError(status: number, why: string): void;
  abstract onUpstreamData(link: Link, buf: Buffer, n: number): void;
  abstract onUpstreamEnd(link: Link): void;
  abstract onUpstreamError(link: Link, err: Error): void;
  abstract memberGone(why: string): void;

  /** Chooses a member and gets a socket to it; false when the client was answered instead. */
  protected connectMember(): boolean {
    const pool = this.pool;
    const choice = pool?.choose(this.clientIp, pool.persistence ? this.req.cookie : undefined, this.tried);
    if (!choice) {
      this.respondError(503, pool ? 'no healthy member' : 'no pool behind this listener');
      return false;
    }
    const m = choice.member;
    this.member = m;
    this.stats = m.stats ??= this.ctx.counters.member(m.id);
    this.setCookie = choice.setCookie;
    m.active++;
    m.inFlight.add(this);
    this.stats.active++;
    // A kept connection for the first member of an exchange; a retry gets a new one.
    const idle = this.tried === null ? (m.takeIdle() as Link | null) : null;
    if (idle) {
      this.reused = true;
      this.upstream = idle;
      this.upConnected = true;
      idle.owner = this;
      this.sendReplay();
    } else {
      this.reused = false;
      const link = new Link(m, withPool(this.ctx.timeouts(), this.pool));
      this.upstream = link;
      this.upConnected = false;
      link.owner = this;
    }
    return true;
  }

  /** The member accepted a new connection: send what waited for it. */
  onUpstreamConnect(s: Link): void {
    if (s !== this.upstream) return;
    this.upConnected = true;
    this.sendReplay();
    if (!this.pending) this.client.resume();
  }

  private sendReplay(): void {
    this.rec.sent();
    this.replay.sendTo(this.upstream!.socket);
    // Keep the copy while a stale pooled socket may still force a replay.
    if (!this.reused) this.replay.drop();
  }

  /**
   * The connection to the member failed before any of the response went out (its socket is
   * already gone): try another member, or a fresh connection to the same one, when the request
   * can still be sent again. False when it cannot be retried.
   */
  protected retry(err: Error): boolean {
    const m = this.member!;
    const neverConnected = !this.upConnected;
    const staleReuse = this.reused && this.replay.kept;
    this.releaseMember();
    if (!neverConnected && !staleReuse) return false;
    if (neverConnected) {
      this.stats!.connectFailures++;
      (this.tried ??= []).push(m);
    }
    // A stale kept connection: the same member may answer on a fresh one, and its other
    // kept connections are likely as stale.
    if (staleReuse) m.closeIdle();
    this.reused = false;
    if (!this.replay.kept) {
      this.respondError(502, `member failed after the request body was sent: ${err.message}`);
      return true;
    }
    this.client.resume();
    this.connectMember();
    return true;
  }

  protected releaseMember(): void {
    const m = this.member;
    if (!m) return;
    m.inFlight.delete(this);
    m.active--;
    this.stats!.active--;
    this.member = null;
  }

  /** Ends the connection to the member (if any) and releases the member. */
  protected dropUpstream(): void {
    const up = this.upstream;
    this.upstream = null;
    up?.socket.destroy();
    this.releaseMember();
  }
}
