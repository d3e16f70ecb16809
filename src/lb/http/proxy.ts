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
import { OwnBufferConnection, relay } from '../own-buffer.js';
import { ChunkedScanner } from './chunked.js';
import { HttpError, MAX_HEAD, headEnd, RequestHead, ResponseHead } from './parser.js';
import type { MemberRuntime, PoolRuntime } from '../pool.js';
import { ascii, put, putEscaped, putInt, putMillis, putSlice } from '../log-line.js';
import { AccessLog, asciiJson, type Counters, type ListenerCounters, type MemberCounters } from '../observe.js';

export interface ListenerContext {
  id: string;
  port: number;
  /** The pool behind the listener now (looked up per request, so reconfiguration applies at once). */
  pool(): PoolRuntime | null;
  log: AccessLog;
  counters: Counters;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'x-forwarded-proto', 'x-forwarded-port']);
const CONNECT_TIMEOUT_MS = 3_000;
const RESPONSE_TIMEOUT_MS = 60_000;
const IDLE_TIMEOUT_MS = 60_000;
/** Request bytes kept for a retry while the member connection is not yet up. */
const REPLAY_LIMIT = 1024 * 1024;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/**
 * A keep-alive connection to a member, reading into its own buffer (own-buffer.ts), with the
 * session that uses it now (null while idle in its pool). Listeners are attached once, for
 * its whole life, and dispatch to the owner: no listener churn per request.
 */
class Link extends OwnBufferConnection {
  owner: HttpSession | null = null;

  constructor(m: MemberRuntime) {
    super(m.host, m.port, (buf, n) => {
      if (this.owner !== null) this.owner.onUpstreamData(this, buf, n);
      else this.socket.destroy(); // an idle member connection must not speak
    });
    const s = this.socket;
    s.setTimeout(CONNECT_TIMEOUT_MS);
    s.on('connect', () => {
      s.setTimeout(RESPONSE_TIMEOUT_MS);
      this.owner?.onUpstreamConnect(this);
    });
    s.on('end', () => {
      if (this.owner) this.owner.onUpstreamEnd(this);
      else s.destroy();
    });
    s.on('error', (e: Error) => {
      if (this.owner) this.owner.onUpstreamError(this, e);
      else s.destroy();
    });
    s.on('close', () => {
      m.forget(this);
      this.owner?.onUpstreamError(this, new Error('closed'));
    });
    s.on('drain', () => this.owner?.client.resume());
    s.on('timeout', () => s.destroy(new Error(s.connecting ? 'connect timeout' : 'response timeout')));
  }
}

const enum St {
  Head,
  Exchange,
  Tunnel,
  Closed,
}

export class HttpSession {
  private st = St.Head;
  private pending: Buffer | null = null;
  private readonly clientIp: string;
  readonly client: Socket;
  private readonly clientAddr: string;
  private readonly lc: ListenerCounters;

  // The exchange in progress. The head objects are parsed into again for every exchange.
  private readonly req = new RequestHead();
  private readonly resp = new ResponseHead();
  private hasReq = false;
  private hasResp = false;
  private pool: PoolRuntime | null = null;
  private member: MemberRuntime | null = null;
  private stats: MemberCounters | null = null;
  /** Members that failed this exchange (null while none did). */
  private tried: MemberRuntime[] | null = null;
  private upstream: Link | null = null;
  private upConnected = false;
  private reused = false;
  private replay: Buffer[] | null = null;
  private replayBytes = 0;
  private reqBodyLeft = 0;
  private reqChunks: ChunkedScanner | null = null;
  private reqBodyDone = true;
  /** A response head that came in pieces (copied: the member socket's buffer is reused). */
  private respBuf: Buffer | null = null;
  private respBodyLeft = 0;
  private respChunks: ChunkedScanner | null = null;
  private respUntilClose = false;
  private respStarted = false;
  private setCookie: string | null = null;
  private t0 = 0;
  private tSent = 0;
  private tFirst = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private closed = false;
  /** The client half-closed (sent FIN): answer what it asked, then end. */
  private clientEnded = false;
  /** This connection's part of its access-log lines (client, listener, pool). */
  private logHead: Buffer | null = null;
  private logPool: PoolRuntime | null = null;
  /** This connection's forwarding headers, made on its first plain request. */
  private forwarded: Buffer | null = null;

  constructor(
    client: Socket,
    private readonly ctx: ListenerContext,
  ) {
    this.client = client;
    this.clientIp = client.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    this.clientAddr = `${this.clientIp}:${client.remotePort}`;
    this.lc = ctx.counters.listener(ctx.id);
    this.lc.connections++;
    this.lc.active++;
    client.setNoDelay(true);
    client.setTimeout(IDLE_TIMEOUT_MS, () => this.onClientTimeout());
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
      if (!this.reqBodyDone) this.forwardRequestBody(d, 0);
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
    if (end < 0) {
      if (buf.length > MAX_HEAD) this.fail(431, 'request head too large');
      return;
    }
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
    this.t0 = this.ctx.log.enabled ? performance.now() : 0;
    this.tFirst = 0;
    this.bytesIn = end;
    this.bytesOut = 0;
    this.tried = null;
    this.hasResp = false;
    this.respBuf = null;
    this.respStarted = false;
    this.reqChunks = req.chunked ? new ChunkedScanner() : null;
    this.reqBodyLeft = req.chunked ? 0 : Math.max(0, req.contentLength);
    this.reqBodyDone = !req.chunked && this.reqBodyLeft === 0;
    const head = this.buildRequestHead(buf, end);
    this.replay = [head];
    this.replayBytes = head.length;
    this.pool = this.ctx.pool();
    if (!this.connectMember()) return;
    if (end < buf.length) this.forwardRequestBody(buf, end);
  }

  /**
   * The head the member gets. Most requests carry no hop-by-hop or forwarding header of
   * their own: then it is the client's head as it came, plus this session's forwarding
   * headers (built once per connection), in one copy.
   */
  private buildRequestHead(buf: Buffer, end: number): Buffer {
    const req = this.req;
    if (req.version === 11 && !req.replaced) {
      const fwd = (this.forwarded ??= Buffer.from(`x-forwarded-for: ${this.clientIp}\r\nx-forwarded-proto: http\r\nx-forwarded-port: ${this.ctx.port}\r\nconnection: keep-alive\r\n\r\n`, 'latin1'));
      const out = Buffer.allocUnsafe(end - 2 + fwd.length);
      buf.copy(out, 0, 0, end - 2);
      fwd.copy(out, end - 2);
      return out;
    }
    const names = req.names;
    const values = req.values;
    let xff = this.clientIp;
    let out = `${req.method} ${req.target} HTTP/1.1\r\n`;
    for (let i = 0; i < names.length; i++) {
      const n = names[i];
      if (HOP_BY_HOP.has(n)) continue;
      if (n === 'x-forwarded-for') {
        xff = `${values[i]}, ${this.clientIp}`;
        continue;
      }
      out += `${n}: ${values[i]}\r\n`;
    }
    out += `x-forwarded-for: ${xff}\r\nx-forwarded-proto: http\r\nx-forwarded-port: ${this.ctx.port}\r\n`;
    if (req.upgrade) out += `connection: upgrade\r\nupgrade: ${req.upgradeValue}\r\n\r\n`;
    else out += 'connection: keep-alive\r\n\r\n';
    return Buffer.from(out, 'latin1');
  }

  /** Chooses a member and gets a socket to it; false when the client was answered instead. */
  private connectMember(): boolean {
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
      const link = new Link(m);
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
    const s = this.upstream!.socket;
    if (this.ctx.log.enabled) this.tSent = performance.now();
    const replay = this.replay!;
    for (let i = 0; i < replay.length; i++) s.write(replay[i]);
    // Keep the copy while a stale pooled socket may still force a replay.
    if (!this.reused) this.replay = null;
  }

  private forwardRequestBody(buf: Buffer, from: number): void {
    let end = buf.length;
    if (this.reqChunks) {
      let e: number;
      try {
        e = this.reqChunks.scan(buf, from, buf.length);
      } catch (err) {
        this.fail((err as HttpError).status ?? 400, (err as Error).message);
        return;
      }
      if (e >= 0) {
        end = e;
        this.reqBodyDone = true;
      }
    } else {
      const n = Math.min(this.reqBodyLeft, buf.length - from);
      end = from + n;
      this.reqBodyLeft -= n;
      if (this.reqBodyLeft === 0) this.reqBodyDone = true;
    }
    if (end > from) {
      const part = buf.subarray(from, end);
      this.bytesIn += part.length;
      if (this.replay) {
        this.replay.push(part);
        this.replayBytes += part.length;
        if (this.replayBytes > REPLAY_LIMIT) {
          // Too much to keep for a retry: a live socket just streams on; a connecting one waits.
          if (this.upConnected) this.replay = null;
          else this.client.pause();
        }
      }
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
    if (!this.tFirst && this.ctx.log.enabled) this.tFirst = performance.now();
    this.replay = null;
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
    const noBody = this.req.isHead || resp.status === 204 || resp.status === 304 || resp.status < 200;
    this.respChunks = !noBody && resp.chunked ? new ChunkedScanner() : null;
    this.respBodyLeft = noBody || resp.chunked ? 0 : resp.contentLength;
    this.respUntilClose = !noBody && !resp.chunked && resp.contentLength < 0;
    if (resp.setCookieCount > 0 && this.pool?.persistence?.type === 'APP_COOKIE') {
      const names = resp.names;
      for (let i = 0; i < names.length; i++) if (names[i] === 'set-cookie') this.pool.learn(resp.values[i], this.member!);
    }
    const mustClose = this.respUntilClose || !this.req.keepAlive;
    // The head goes out with the first part of the body in one write when it needs no change.
    let from = 0;
    if (this.setCookie || mustClose !== resp.close) {
      this.write(this.rewriteResponseHead(mustClose));
      from = end;
    }
    const done = noBody || (!resp.chunked && !this.respUntilClose && this.respBodyLeft === 0);
    if (done) {
      if (from < end) this.write(from === 0 && end === buf.length ? buf : buf.subarray(from, end));
      this.finish(end < n);
    } else {
      this.forwardResponseBody(buf, end, n, from);
    }
  }

  private rewriteResponseHead(close: boolean): Buffer {
    const resp = this.resp;
    let out = `${resp.statusLine}\r\n`;
    const names = resp.names;
    const values = resp.values;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === 'connection' || names[i] === 'keep-alive') continue;
      out += `${names[i]}: ${values[i]}\r\n`;
    }
    if (this.setCookie) out += `set-cookie: ${this.setCookie}\r\n`;
    out += close ? 'connection: close\r\n\r\n' : 'connection: keep-alive\r\n\r\n';
    return Buffer.from(out, 'latin1');
  }

  /** Forwards the body bytes of buf[from, n); writes buf[writeFrom, end) (writeFrom < from when the head rides along). */
  private forwardResponseBody(buf: Buffer, from: number, n: number, writeFrom: number): void {
    let end = n;
    let done = false;
    if (this.respChunks) {
      let e: number;
      try {
        e = this.respChunks.scan(buf, from, n);
      } catch {
        this.upstreamBroke(502, 'bad chunked response');
        return;
      }
      if (e >= 0) {
        end = e;
        done = true;
      }
    } else if (!this.respUntilClose) {
      const k = Math.min(this.respBodyLeft, n - from);
      end = from + k;
      this.respBodyLeft -= k;
      done = this.respBodyLeft === 0;
    }
    if (end > writeFrom) this.write(writeFrom === 0 && end === buf.length ? buf : buf.subarray(writeFrom, end));
    if (done) this.finish(end < n);
  }

  /**
   * Writes to the client. Bytes the socket could not send at once stay referenced by its
   * queue: the member socket they were read on then gets a fresh buffer for its next read.
   */
  private write(b: Buffer): void {
    this.bytesOut += b.length;
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
    const reusable = !this.resp.close && !this.respUntilClose && this.reqBodyDone && !extraBytes;
    up.owner = null;
    if (reusable) m.giveBack(up);
    else up.socket.destroy();
    if (!this.req.keepAlive || this.respUntilClose) {
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
    this.ctx.counters.response(this.lc, status);
    this.lc.bytesIn += this.bytesIn;
    this.lc.bytesOut += this.bytesOut;
    if (this.stats) this.stats.requests++;
    if (!this.ctx.log.enabled) return;
    // formatRecord's line, written as bytes from parts made once per connection, pool and
    // member, and from the request's own bytes (log-line.ts).
    const now = performance.now();
    const req = this.req;
    const m = this.member;
    if (this.logHead === null || this.logPool !== this.pool) {
      this.logPool = this.pool; // a reconfiguration may put another pool behind the listener
      this.logHead = ascii(`,"client":${asciiJson(this.clientAddr)},"listener":${asciiJson(this.ctx.id)},"pool":${this.pool ? asciiJson(this.pool.id) : 'null'}`);
    }
    const head = this.logHead;
    const memberPart = m ? (m.logPart ??= ascii(`,"member":${asciiJson(m.id)},"method":"`)) : NO_MEMBER;
    const pathEnd = req.pathEnd;
    const log = this.ctx.log;
    const buf = log.room(200 + head.length + memberPart.length + req.methodEnd + 2 * (pathEnd - req.targetStart));
    let at = put(buf, log.at, TIME_OPEN);
    at = put(buf, at, AccessLog.nowBytes());
    buf[at++] = 34;
    at = put(buf, at, head);
    at = put(buf, at, memberPart);
    at = putSlice(buf, at, req.buf, 0, req.methodEnd); // a token: nothing to escape
    at = put(buf, at, PATH_OPEN);
    at = putEscaped(buf, at, req.buf, req.targetStart, pathEnd);
    at = put(buf, at, STATUS_OPEN);
    at = putInt(buf, at, status);
    at = put(buf, at, BYTES_IN);
    at = putInt(buf, at, this.bytesIn);
    at = put(buf, at, BYTES_OUT);
    at = putInt(buf, at, this.bytesOut);
    at = put(buf, at, DURATION);
    at = putMillis(buf, at, now - this.t0);
    at = put(buf, at, UPSTREAM);
    if (this.tFirst) at = putMillis(buf, at, this.tFirst - this.tSent);
    else at = put(buf, at, NULL);
    buf[at++] = 125; // '}'
    log.end(at);
  }

  private releaseMember(): void {
    const m = this.member;
    if (!m) return;
    m.active--;
    this.stats!.active--;
    this.member = null;
  }

  onUpstreamEnd(s: Link): void {
    if (s !== this.upstream) return;
    if (this.st === St.Tunnel) {
      this.client.end();
      return;
    }
    if (this.st === St.Exchange && this.hasResp && this.respUntilClose) {
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
    const m = this.member!;
    const neverConnected = !this.upConnected;
    const staleReuse = this.reused && this.replay !== null;
    this.releaseMember();
    if (neverConnected || staleReuse) {
      if (neverConnected) {
        this.stats!.connectFailures++;
        (this.tried ??= []).push(m);
      }
      // A stale kept connection: the same member may answer on a fresh one, and its other
      // kept connections are likely as stale.
      if (staleReuse) m.closeIdle();
      this.reused = false;
      if (this.replay === null) {
        this.respondError(502, `member failed after the request body was sent: ${err.message}`);
        return;
      }
      this.client.resume();
      this.connectMember();
      return;
    }
    this.respondError(/timeout/.test(err.message) ? 504 : 502, err.message);
  }

  private upstreamBroke(status: number, why: string): void {
    const s = this.upstream;
    this.upstream = null;
    s?.socket.destroy();
    this.releaseMember();
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
  private respondError(status: number, why: string): void {
    if (this.st === St.Closed) return;
    const body = `${status} ${REASONS[status] ?? 'Error'}: ${why}\n`;
    this.hasResp = false;
    if (this.hasReq) this.record(status);
    this.st = St.Closed;
    this.client.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }

  /** A refusal before any exchange began (bad head). */
  private fail(status: number, why: string): void {
    this.ctx.counters.response(this.lc, status);
    this.st = St.Closed;
    const body = `${status} ${REASONS[status] ?? 'Error'}: ${why}\n`;
    this.client.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    const up = this.upstream;
    this.upstream = null;
    up?.socket.destroy();
    this.releaseMember();
  }

  /**
   * The client sent FIN. Listeners accept half-closed connections (allowHalfOpen), so a
   * client that says all and then half-closes still gets its answer: the connection ends
   * after the exchanges it asked for. An unfinished request head or body can only be dropped.
   */
  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.st === St.Head) this.close();
    else if (this.st === St.Exchange && !this.reqBodyDone) this.close();
    else if (this.st === St.Tunnel) this.upstream?.socket.end();
  }

  private onClientTimeout(): void {
    if (this.st === St.Head || this.st === St.Closed) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lc.active--;
    this.st = St.Closed;
    const up = this.upstream;
    this.upstream = null;
    up?.socket.destroy();
    this.releaseMember();
    this.client.destroy();
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

// The fixed parts of an access-log line (see record()).
const TIME_OPEN = ascii('{"time":"');
const NO_MEMBER = ascii(',"member":null,"method":"');
const PATH_OPEN = ascii('","path":"');
const STATUS_OPEN = ascii('","status":');
const BYTES_IN = ascii(',"bytesIn":');
const BYTES_OUT = ascii(',"bytesOut":');
const DURATION = ascii(',"durationMs":');
const UPSTREAM = ascii(',"upstreamMs":');
const NULL = ascii('null');

