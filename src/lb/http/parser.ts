/**
 * The strict HTTP/1.1 head parser (RFC 9112) of the proxy's hot path: request and response
 * heads, on the header scan of head.ts (which says what is refused and why).
 */
import { CONN_CLOSE, CONN_KEEP_ALIVE, CONN_UPGRADE, Head, HttpError, TCHAR } from './head.js';

export { HttpError, MAX_HEAD, MAX_HEADERS, headEnd } from './head.js';

export class RequestHead extends Head {
  /** Where the method and the target lie in buf. */
  methodEnd = 0;
  targetStart = 0;
  targetEnd = 0;
  private lazyMethod: string | null = null;
  private lazyTarget: string | null = null;
  /** The method is HEAD (its response has no body). */
  isHead = false;
  /** The client keeps the connection after this exchange. */
  keepAlive = true;
  /** A protocol upgrade (WebSocket) was asked for. */
  upgrade = false;

  /** Parses the head that ends at `end` (from headEnd) into this object. */
  parse(buf: Buffer, end: number): this {
    this.scan(buf, end);
    this.lazyMethod = null;
    this.lazyTarget = null;
    const le = this.lineEnd;
    let sp1 = -1;
    let sp2 = -1;
    for (let j = 0; j < le; j++) {
      if (buf[j] !== 32) continue;
      if (sp1 < 0) sp1 = j;
      else if (sp2 < 0) sp2 = j;
      else throw new HttpError(400, 'malformed request line');
    }
    if (sp1 <= 0 || sp2 < 0) throw new HttpError(400, 'malformed request line');
    for (let j = 0; j < sp1; j++) if (TCHAR[buf[j]] === 0) throw new HttpError(400, 'invalid method');
    if (sp2 === sp1 + 1) throw new HttpError(400, 'empty request target');
    for (let j = sp1 + 1; j < sp2; j++) {
      const ch = buf[j];
      if (ch <= 32 || ch >= 127) throw new HttpError(400, 'invalid character in request target');
    }
    this.methodEnd = sp1;
    this.targetStart = sp1 + 1;
    this.targetEnd = sp2;
    this.isHead = sp1 === 4 && buf[0] === 72 && buf[1] === 69 && buf[2] === 65 && buf[3] === 68;
    // "HTTP/1.1" or "HTTP/1.0"
    const p = sp2 + 1;
    if (
      le - p !== 8 ||
      buf[p] !== 72 ||
      buf[p + 1] !== 84 ||
      buf[p + 2] !== 84 ||
      buf[p + 3] !== 80 ||
      buf[p + 4] !== 47 ||
      buf[p + 5] !== 49 ||
      buf[p + 6] !== 46 ||
      (buf[p + 7] !== 49 && buf[p + 7] !== 48)
    ) {
      throw new HttpError(505, 'unsupported HTTP version');
    }
    this.version = buf[p + 7] === 49 ? 11 : 10;
    if (this.chunked && this.version === 10) throw new HttpError(400, 'Transfer-Encoding in HTTP/1.0');
    if (this.version === 11 && this.hosts !== 1) throw new HttpError(400, this.hosts === 0 ? 'missing Host' : 'repeated Host');
    // A load balancer is no forward proxy.
    if (sp1 === 7 && buf.toString('latin1', 0, 7) === 'CONNECT') throw new HttpError(405, 'CONNECT is not served: this is a load balancer, not a proxy');
    // An absolute-form target's authority wins over Host (RFC 9112 §3.2.2): when they differ, a
    // member reading Host would answer for another site, so the request is refused.
    if (buf[sp1 + 1] !== 47 && buf[sp1 + 1] !== 42) this.checkAbsoluteForm(buf, sp1 + 1, sp2);
    this.keepAlive = this.version === 11 ? (this.conn & CONN_CLOSE) === 0 : (this.conn & CONN_KEEP_ALIVE) !== 0;
    this.upgrade = (this.conn & CONN_UPGRADE) !== 0 && this.upgradeAt >= 0;
    return this;
  }

  private checkAbsoluteForm(buf: Buffer, a: number, b: number): void {
    const target = buf.toString('latin1', a, b);
    const m = /^https?:\/\/([^/?#]*)/i.exec(target);
    if (!m) throw new HttpError(400, 'request target is neither a path nor an absolute URI');
    const host = this.hostAt >= 0 ? this.value(this.hostAt).toLowerCase() : '';
    if (m[1].toLowerCase() !== host) throw new HttpError(400, 'the request target names another host than Host');
  }

  get method(): string {
    return (this.lazyMethod ??= this.buf.toString('latin1', 0, this.methodEnd));
  }

  get target(): string {
    return (this.lazyTarget ??= this.buf.toString('latin1', this.targetStart, this.targetEnd));
  }

  /** The target without its query string (for the access log). */
  get path(): string {
    return this.buf.toString('latin1', this.targetStart, this.pathEnd);
  }

  /** Where the path ends in buf (at the query string, if any). */
  get pathEnd(): number {
    for (let i = this.targetStart; i < this.targetEnd; i++) if (this.buf[i] === 63) return i;
    return this.targetEnd;
  }

  /** The first Cookie header's value, if any. */
  get cookie(): string | undefined {
    return this.cookieAt < 0 ? undefined : this.value(this.cookieAt);
  }

  /** The Upgrade header's value, if any. */
  get upgradeValue(): string | undefined {
    return this.upgradeAt < 0 ? undefined : this.value(this.upgradeAt);
  }
}

export class ResponseHead extends Head {
  status = 0;
  /** The server closes the connection after this response. */
  close = false;
  /** Number of Set-Cookie lines. */
  get setCookieCount(): number {
    return this.setCookies;
  }

  /** Parses the head that ends at `end` (from headEnd) into this object. */
  parse(buf: Buffer, end: number): this {
    try {
      this.scan(buf, end);
    } catch (e) {
      if (e instanceof HttpError) throw new HttpError(502, e.message);
      throw e;
    }
    // "HTTP/1.x SSS" then nothing or " reason".
    const le = this.lineEnd;
    const ok =
      le >= 12 &&
      buf[0] === 72 &&
      buf[1] === 84 &&
      buf[2] === 84 &&
      buf[3] === 80 &&
      buf[4] === 47 &&
      buf[5] === 49 &&
      buf[6] === 46 &&
      (buf[7] === 48 || buf[7] === 49) &&
      buf[8] === 32 &&
      isDigit(buf[9]) &&
      isDigit(buf[10]) &&
      isDigit(buf[11]) &&
      (le === 12 || buf[12] === 32);
    if (!ok) throw new HttpError(502, 'malformed status line');
    this.version = buf[7] === 49 ? 11 : 10;
    this.status = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48);
    this.close = this.version === 11 ? (this.conn & CONN_CLOSE) !== 0 : (this.conn & CONN_KEEP_ALIVE) === 0;
    return this;
  }

  /** The status line, without its CRLF. */
  get statusLine(): string {
    return this.buf.toString('latin1', 0, this.lineEnd);
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Parses a request head that ends at `end` (from headEnd). */
export function parseRequest(buf: Buffer, end: number): RequestHead {
  return new RequestHead().parse(buf, end);
}

/** Parses a response head from a member; the same strictness protects the client. */
export function parseResponse(buf: Buffer, end: number): ResponseHead {
  return new ResponseHead().parse(buf, end);
}

/** The value of a header (lower-case name), or undefined. */
export function header(h: { names: string[]; values: string[] }, name: string): string | undefined {
  const i = h.names.indexOf(name);
  return i < 0 ? undefined : h.values[i];
}
