/**
 * The HTTP listener's hot path: raw sockets on both sides, the strict parser, pooled
 * keep-alive connections to members, bodies streamed with backpressure in both directions.
 *
 * One HttpSession per client connection runs one exchange at a time: read a request head,
 * choose a member (persistence, then the balancer), send the head (with X-Forwarded-*) and
 * stream the body, read the response head, stream the body back, then return the member
 * socket to its pool and read the next request. A member that refuses the connection is
 * retried on another before the client sees an error; a pooled socket that turns out stale
 * is replaced once. WebSocket upgrades become a tunnel. Bad traffic never throws: it gets
 * a 4xx/5xx and is counted.
 */
import type { Socket } from 'node:net';
import { relay } from '../own-buffer.js';
import { HttpError, MAX_HEAD, header, headEnd, RequestHead, ResponseHead } from './parser.js';
import type { ListenerCounters } from '../../core/model/index.js';
import type { ListenerContext } from '../listener-context.js';
import { BodyFramer, Framing, frameResponse } from './body.js';
import { errorResponse, policyResponse } from './error-response.js';
import type { RequestView } from '../l7.js';
import { cookieValue } from '../pool.js';
import { forwardingTail, requestHead, responseHead } from './rewrite.js';
import type { Link } from './upstream-link.js';
import { MemberSide } from './member-side.js';
import type { SlowHead } from '../listener-context.js';

const enum St {
  Head,
  Exchange,
  Tunnel,
  Closed,
}

export class HttpSession extends MemberSide implements SlowHead {
  /** When the head being read must be whole (0: no head in part). */
  headDeadline = 0;
  private st = St.Head;
  protected pending: Buffer | null = null;
  private readonly lc: ListenerCounters;

  // The exchange in progress. The head objects and framers are reused for every exchange.
  protected readonly req = new RequestHead();
  private readonly resp = new ResponseHead();
  private readonly reqBody = new BodyFramer();
  private readonly respBody = new BodyFramer();

  private hasReq = false;
  private hasResp = false;
  /** A response head that came in pieces (copied: the member socket's buffer is reused). */
  private respBuf: Buffer | null = null;
  private respStarted = false;
  private closed = false;
  /** The client half-closed (sent FIN): answer what it asked, then end. */
  private clientEnded = false;
  /** This connection's forwarding headers, made on its first plain request. */
  private forwarded: Buffer | null = null;

  constructor(client: Socket, ctx: ListenerContext) {
    super(client, ctx);
    this.lc = ctx.counters.listener(ctx.id);
    this.lc.connections++;
    this.lc.active++;
    client.setNoDelay(true);
    client.setTimeout(ctx.timeouts().clientData, () => this.onClientTimeout());
    client.on('data', (d: Buffer) => this.onClientData(d));
    client.on('end', () => this.onClientEnd());
    client.on('error', () => this.close());
    client.on('close', () => this.close());
    client.on('drain', () => this.upstream?.socket.resume());
  }

  private onClientData(d: Buffer): void {
    if (this.st === St.Head) {
      this.pending = this.pending ? Buffer.concat([this.pending, d]) : d;
      this.tryHead();
    } else if (this.st === St.Exchange) {
      if (!this.reqBody.done) this.forwardRequestBody(d, 0);
      else {
        // A pipelined request: keep it until this exchange ends.
        this.pending = this.pending ? Buffer.concat([this.pending, d]) : d;
        this.client.pause();
      }
    } else if (this.st === St.Tunnel) {
      if (!this.upstream!.socket.write(d)) this.client.pause();
    }
  }

  private tryHead(): void {
    const buf = this.pending!;
    const end = headEnd(buf);
    // The limit holds however the head arrived: in one read, or in many.
    if ((end < 0 && buf.length > MAX_HEAD) || end > MAX_HEAD) {
      this.fail(431, 'request head too large');
      return;
    }
    if (end < 0) {
      // A head in part: it has until the deadline to be whole (the listener's reaper watches).
      if (this.headDeadline === 0) {
        this.headDeadline = performance.now() + this.ctx.timeouts().httpRequest;
        this.ctx.slowHeads.add(this);
      }
      return;
    }
    if (this.headDeadline !== 0) this.headComplete();
    try {
      this.req.parse(buf, end);
    } catch (e) {
      const err = e as HttpError;
      this.fail(err.status ?? 400, err.message);
      return;
    }
    this.pending = null;
    this.begin(buf, end);
  }

  private begin(buf: Buffer, end: number): void {
    const req = this.req;
    this.st = St.Exchange;
    this.hasReq = true;
    this.rec.begin(end);
    this.tried = null;
    this.hasResp = false;
    this.respBuf = null;
    this.respStarted = false;
    if (req.chunked) this.reqBody.reset(Framing.Chunked);
    else this.reqBody.reset(Framing.Length, Math.max(0, req.contentLength));
    const head = requestHead(
      req,
      buf,
      end,
      this.clientIp,
      this.ctx.port,
      (this.forwarded ??= forwardingTail(this.clientIp, this.ctx.port, this.ctx.proto)),
      this.ctx.proto,
    );
    this.replay.start(head);
    // L7 policies, when the listener has any (one null test otherwise).
    const route = this.ctx.route;
    this.rec.policy = null;
    if (route === null) this.pool = this.ctx.pool();
    else {
      const v = route(requestView(req, this.clientIp));
      if (v === null) this.pool = this.ctx.pool();
      else if ('pool' in v) {
        this.pool = this.ctx.poolById(v.pool);
        this.rec.policy = v.policy;
        this.ctx.counters.policy(this.lc, v.policy);
      } else {
        this.rec.policy = v.policy;
        this.ctx.counters.policy(this.lc, v.policy);
        this.policyAnswer(v.status, v.location, v.fixed);
        return;
      }
    }
    if (!this.connectMember()) return;
    if (end < buf.length) this.forwardRequestBody(buf, end);
  }

  private forwardRequestBody(buf: Buffer, from: number): void {
    let end: number;
    try {
      end = this.reqBody.scan(buf, from, buf.length);
    } catch (err) {
      this.fail((err as HttpError).status ?? 400, (err as Error).message);
      return;
    }
    if (end > from) {
      const part = buf.subarray(from, end);
      this.rec.bytesIn += part.length;
      if (!this.replay.add(part, this.upConnected)) this.client.pause();
      if (this.upConnected && this.upstream) {
        if (!this.upstream.socket.write(part)) this.client.pause();
      }
    }
    if (end < buf.length) {
      this.pending = buf.subarray(end);
      this.client.pause();
    }
  }

  /** n bytes from a member socket, in its reused buffer: used now, or copied or pinned. */
  onUpstreamData(s: Link, buf: Buffer, n: number): void {
    if (s !== this.upstream) {
      s.socket.destroy();
      return;
    }
    if (this.st === St.Tunnel) {
      this.write(n === buf.length ? buf : buf.subarray(0, n));
      return;
    }
    if (this.st !== St.Exchange) return;
    this.rec.firstByte();
    this.replay.drop();
    if (!this.hasResp) {
      if (this.respBuf) {
        const all = Buffer.allocUnsafe(this.respBuf.length + n);
        this.respBuf.copy(all);
        buf.copy(all, this.respBuf.length, 0, n);
        this.respBuf = null;
        this.readResponseHead(all, all.length);
      } else {
        this.readResponseHead(buf, n);
      }
      return;
    }
    this.forwardResponseBody(buf, 0, n, 0);
  }

  /** Reads the response head from buf[0, n) (n may be short of buf's length). */
  private readResponseHead(buf: Buffer, n: number): void {
    let end = buf.indexOf(CRLFCRLF, 0);
    if (end >= 0 && end + 4 <= n) end += 4;
    else end = -1;
    if (end < 0) {
      if (n > MAX_HEAD) this.upstreamBroke(502, 'response head too large');
      else this.respBuf = Buffer.from(buf.subarray(0, n)); // a copy: the read buffer is reused
      return;
    }
    const resp = this.resp;
    try {
      resp.parse(buf, end);
    } catch (e) {
      this.upstreamBroke(502, (e as Error).message);
      return;
    }
    if (resp.status >= 100 && resp.status < 200 && resp.status !== 101) {
      // 100 Continue and friends pass through; the real response follows.
      this.write(buf.subarray(0, end));
      if (end < n) this.readResponseHead(buf.subarray(end), n - end);
      return;
    }
    this.hasResp = true;
    this.respStarted = true;
    if (resp.status === 101 && this.req.upgrade) {
      this.write(buf.subarray(0, end));
      this.tunnel(buf.subarray(end, n));
      return;
    }
    frameResponse(this.respBody, this.req.isHead, resp.status, resp.chunked, resp.contentLength);
    const untilClose = this.respBody.framing === Framing.UntilClose;
    if (resp.setCookieCount > 0 && this.pool?.persistence?.type === 'APP_COOKIE') {
      const names = resp.names;
      for (let i = 0; i < names.length; i++) if (names[i] === 'set-cookie') this.pool.learn(resp.values[i], this.member!);
    }
    const mustClose = untilClose || !this.req.keepAlive;
    // The head goes out with the first part of the body in one write when it needs no change.
    let from = 0;
    if (this.setCookie || mustClose !== resp.close) {
      this.write(responseHead(resp, this.setCookie, mustClose));
      from = end;
    }
    if (this.respBody.done) {
      if (from < end) this.write(from === 0 && end === buf.length ? buf : buf.subarray(from, end));
      this.finish(end < n);
    } else {
      this.forwardResponseBody(buf, end, n, from);
    }
  }

  /** Forwards the body bytes of buf[from, n); writes buf[writeFrom, end) (writeFrom < from when the head rides along). */
  private forwardResponseBody(buf: Buffer, from: number, n: number, writeFrom: number): void {
    let end: number;
    try {
      end = this.respBody.scan(buf, from, n);
    } catch {
      this.upstreamBroke(502, 'bad chunked response');
      return;
    }
    if (end > writeFrom) this.write(writeFrom === 0 && end === buf.length ? buf : buf.subarray(writeFrom, end));
    if (this.respBody.done) this.finish(end < n);
  }

  /**
   * Writes to the client. Bytes the socket could not send at once stay referenced by its
   * queue: the member socket they were read on then gets a fresh buffer for its next read.
   */
  private write(b: Buffer): void {
    this.rec.bytesOut += b.length;
    if (!relay(this.client, b, this.upstream)) this.upstream?.socket.pause();
  }

  /** The exchange is complete: log it, keep or drop the member socket, go on with the client. */
  private finish(extraBytes: boolean): void {
    const m = this.member!;
    const up = this.upstream!;
    const status = this.resp.status;
    this.record(status);
    this.releaseMember();
    this.upstream = null;
    const untilClose = this.respBody.framing === Framing.UntilClose;
    const reusable = !this.resp.close && !untilClose && this.reqBody.done && !extraBytes;
    up.owner = null;
    if (reusable) {
      // Paused while the client could not take more (its 'drain' resumes only the exchange's
      // member socket, and this one is no longer it): an idle socket must read, or the next
      // exchange on it waits for an answer it never reads, until the member data timeout.
      up.socket.resume();
      m.giveBack(up);
    } else up.socket.destroy();
    if (!this.req.keepAlive || untilClose) {
      this.st = St.Closed;
      this.client.end();
      return;
    }
    this.st = St.Head;
    if (this.client.isPaused()) this.client.resume();
    if (this.pending) this.tryHead();
    if (this.st === St.Head && this.clientEnded) {
      // Nothing more will come: what is left is at most an unfinished head.
      this.st = St.Closed;
      this.client.end();
    }
  }

  private record(status: number): void {
    const rec = this.rec;
    this.ctx.counters.response(this.lc, status);
    this.lc.bytesIn += rec.bytesIn;
    this.lc.bytesOut += rec.bytesOut;
    if (this.stats) this.stats.requests++;
    rec.write(this.pool, this.member, this.req, status);
  }

  onUpstreamEnd(s: Link): void {
    if (s !== this.upstream) return;
    if (this.st === St.Tunnel) {
      this.client.end();
      return;
    }
    if (this.st === St.Exchange && this.hasResp && this.respBody.framing === Framing.UntilClose) {
      this.finish(false);
      return;
    }
    this.onUpstreamError(s, new Error('member closed the connection'));
  }

  onUpstreamError(s: Link, err: Error): void {
    if (s !== this.upstream) return;
    if (this.st === St.Tunnel) {
      this.close();
      return;
    }
    if (this.st !== St.Exchange) return;
    this.upstream = null;
    s.socket.destroy();
    if (this.respStarted) {
      // Part of the response went out: the client cannot be told otherwise.
      this.releaseMember();
      this.close();
      return;
    }
    if (this.retry(err)) return;
    this.respondError(/timeout/.test(err.message) ? 504 : 502, err.message);
  }

  /** The daemon or the checks found the member gone: no wait for its timeout; 502 unless the request can still go elsewhere. */
  memberGone(why: string): void {
    const up = this.upstream;
    if (!up) return;
    if (this.st === St.Tunnel || this.respStarted) {
      this.upstream = null;
      up.socket.destroy();
      this.releaseMember();
      this.close();
      return;
    }
    // As for a member that fails: a request that can still be sent (not yet on its way) goes to another member.
    this.upstream = null;
    up.socket.destroy();
    if (this.retry(new Error(why))) return;
    this.respondError(502, why);
  }

  private upstreamBroke(status: number, why: string): void {
    this.dropUpstream();
    this.respondError(status, why);
  }

  /**
   * A 101 answer to an upgrade: from now on bytes pass both ways unchanged, with backpressure
   * (each side's 'drain' resumes the other) until either side ends.
   */
  private tunnel(rest: Buffer): void {
    this.st = St.Tunnel;
    this.record(101);
    const up = this.upstream!.socket;
    up.setTimeout(0);
    this.client.setTimeout(0);
    if (rest.length) this.write(rest);
    if (this.pending) up.write(this.pending);
    this.pending = null;
    this.client.resume();
  }

  /** Answers the client with an error of our own, then closes (the stream state is unknown). */
  protected respondError(status: number, why: string): void {
    if (this.st === St.Closed) return;
    this.hasResp = false;
    if (this.hasReq) this.record(status);
    this.st = St.Closed;
    this.client.end(errorResponse(status, why));
  }

  /** A refusal before any exchange began (bad head). */
  /** A policy's own answer (a redirect, or 403 for REJECT), logged; the connection closes after it. */
  private policyAnswer(status: number, location: string | undefined, fixed?: { contentType: string; body: string }): void {
    const answer = policyResponse(status, location, fixed);
    this.ctx.counters.response(this.lc, status);
    this.rec.bytesOut = Buffer.byteLength(answer);
    this.rec.write(null, null, this.req, status);
    this.st = St.Closed;
    this.client.end(answer);
    this.dropUpstream();
  }

  private fail(status: number, why: string): void {
    this.ctx.counters.response(this.lc, status);
    this.st = St.Closed;
    this.client.end(errorResponse(status, why));
    this.dropUpstream();
  }

  /**
   * The client sent FIN. Listeners accept half-closed connections (allowHalfOpen), so a
   * client that says all and then half-closes still gets its answer: the connection ends
   * after the exchanges it asked for. An unfinished request head or body can only be dropped.
   */
  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.st === St.Head) this.close();
    else if (this.st === St.Exchange && !this.reqBody.done) this.close();
    else if (this.st === St.Tunnel) this.upstream?.socket.end();
  }

  private onClientTimeout(): void {
    if (this.st === St.Head || this.st === St.Closed) this.close();
  }

  private headComplete(): void {
    this.headDeadline = 0;
    this.ctx.slowHeads.delete(this);
  }

  /** The head did not come whole in time: 408, as HAProxy's `timeout http-request`. */
  headTimedOut(): void {
    this.headComplete();
    this.fail(408, 'the request head did not arrive in time');
  }

  private close(): void {
    if (this.headDeadline !== 0) this.headComplete();
    if (this.closed) return;
    this.closed = true;
    this.lc.active--;
    this.st = St.Closed;
    this.dropUpstream();
    this.client.destroy();
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** What L7 rules read of a request (made only for listeners with policies). */
function requestView(req: RequestHead, clientIp: string): RequestView {
  return {
    client: () => clientIp,
    host: () => header(req, 'host'),
    target: () => req.target,
    header: (name) => header(req, name),
    cookie: (name) => cookieValue(header(req, 'cookie'), name),
  };
}
