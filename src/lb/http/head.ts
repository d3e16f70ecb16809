/**
 * What request and response heads share (parser.ts): the header scan, its tables, and the
 * limits. A strict HTTP/1.1 head parser (RFC 9112) for the proxy's hot path. It is a security
 * boundary: whatever two servers could read differently is refused. Refused: bare CR or LF,
 * NUL, obsolete line folding, header names that are not tokens (spaces before the colon) or
 * that differ from a framing header only by '-' or '_' (`Transfer_Encoding`),
 * control characters in values, both Content-Length and Transfer-Encoding, a
 * Transfer-Encoding other than `chunked`, Content-Length that is not digits or disagrees
 * with itself, a missing or repeated Host in HTTP/1.1, more than MAX_HEADERS header lines,
 * heads over the limit.
 *
 * It reads the bytes where they lie: one pass records where each name and value starts and
 * ends and what the proxy needs to know (framing, connection tokens, Host, the hop-by-hop
 * headers it must rewrite); strings are made only when asked for (`method`, `names`, ...).
 * A head object can be parsed into again and again, so a connection needs only one.
 */

export const MAX_HEAD = 16 * 1024;
export const MAX_HEADERS = 100;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// The bytes of a Host value: reg-name, IPv4, [IPv6] and :port (RFC 3986).
const HOST_BYTE = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+;=:[]%") HOST_BYTE[c.charCodeAt(0)] = 1;

// tchar of RFC 9110.
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** Index just past the CRLFCRLF that ends a head, or -1. Bare LF anywhere is refused later. */
export function headEnd(buf: Buffer, from = 0): number {
  const i = buf.indexOf('\r\n\r\n', Math.max(0, from - 3), 'latin1');
  return i < 0 ? -1 : i + 4;
}

// The headers the proxy looks at, by kind.
const enum H {
  Other,
  ContentLength,
  TransferEncoding,
  Connection,
  Host,
  Upgrade,
  Cookie,
  SetCookie,
  XForwardedFor,
  /** Hop-by-hop or forwarding headers the proxy replaces: keep-alive, proxy-connection, te, trailer, x-forwarded-proto, x-forwarded-port. */
  Replaced,
}

const KNOWN: [string, H][] = [
  ['content-length', H.ContentLength],
  ['transfer-encoding', H.TransferEncoding],
  ['connection', H.Connection],
  ['host', H.Host],
  ['upgrade', H.Upgrade],
  ['cookie', H.Cookie],
  ['set-cookie', H.SetCookie],
  ['x-forwarded-for', H.XForwardedFor],
  ['keep-alive', H.Replaced],
  ['proxy-connection', H.Replaced],
  ['te', H.Replaced],
  ['trailer', H.Replaced],
  ['x-forwarded-proto', H.Replaced],
  ['x-forwarded-port', H.Replaced],
  // A client's own forwarding claims are not passed on: the members trust X-Forwarded-For only.
  ['forwarded', H.Replaced],
  ['x-real-ip', H.Replaced],
];
/** Known names by length, as byte arrays, for a comparison without strings. */
const BY_LENGTH: [Uint8Array, H][][] = [];
for (const [name, kind] of KNOWN) (BY_LENGTH[name.length] ??= []).push([Buffer.from(name, 'latin1'), kind]);

/** The kind of the (already validated token) name buf[a, b). */
function kindOf(buf: Buffer, a: number, b: number): H {
  const list = BY_LENGTH[b - a];
  if (list === undefined) return H.Other;
  for (let k = 0; k < list.length; k++) {
    const lit = list[k][0];
    let j = 0;
    // Token bytes: `| 0x20` lower-cases letters and maps no other token byte onto a letter or '-'.
    while (j < lit.length && (buf[a + j] | 0x20) === lit[j]) j++;
    if (j === lit.length) return list[k][1];
  }
  return H.Other;
}

/** The names that decide where a message ends or where it goes, without '-': a name that differs from one only by '-' or '_' is refused. */
const FRAMING_SQUEEZED = ['contentlength', 'transferencoding', 'host', 'connection', 'upgrade'].map((n) => Buffer.from(n, 'latin1'));
const SQUEEZED_LENGTHS = new Set(FRAMING_SQUEEZED.map((n) => n.length));

/**
 * Whether the name buf[a, b) reads as a framing header once '-' and '_' are taken out
 * (`Transfer_Encoding`, `ContentLength`): servers that map '_' to '-' (CGI, WSGI, PHP) would
 * frame the message by a header the proxy did not read as one.
 */
function framingLookalike(buf: Buffer, a: number, b: number): boolean {
  let n = 0;
  for (let j = a; j < b; j++) if (buf[j] !== 45 && buf[j] !== 95) n++;
  if (!SQUEEZED_LENGTHS.has(n)) return false;
  for (const lit of FRAMING_SQUEEZED) {
    if (lit.length !== n) continue;
    let k = 0;
    for (let j = a; j < b && k <= n; j++) {
      const c = buf[j];
      if (c === 45 || c === 95) continue;
      if ((c | 0x20) !== lit[k]) break;
      k++;
    }
    if (k === n) return true;
  }
  return false;
}

export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;
const TOKENS: [Uint8Array, number][] = [
  [Buffer.from('close'), CONN_CLOSE],
  [Buffer.from('keep-alive'), CONN_KEEP_ALIVE],
  [Buffer.from('upgrade'), CONN_UPGRADE],
];

/** The Connection tokens of buf[a, b) this parser cares about, as bits. */
function connectionTokens(buf: Buffer, a: number, b: number): number {
  let bits = 0;
  let s = a;
  while (s <= b) {
    let e = s;
    while (e < b && buf[e] !== 44) e++;
    let ts = s;
    let te = e;
    while (ts < te && (buf[ts] === 32 || buf[ts] === 9)) ts++;
    while (te > ts && (buf[te - 1] === 32 || buf[te - 1] === 9)) te--;
    for (const [lit, bit] of TOKENS) {
      if (te - ts !== lit.length) continue;
      let j = 0;
      while (j < lit.length && (buf[ts + j] | 0x20) === lit[j]) j++;
      if (j === lit.length) bits |= bit;
    }
    s = e + 1;
  }
  return bits;
}

const CHUNKED = Buffer.from('chunked');

/** What a request and a response head share: header positions, framing, connection tokens. */
export abstract class Head {
  buf: Buffer = Buffer.alloc(0);
  /** Bytes of the head, CRLFCRLF included. */
  length = 0;
  /** 10 or 11. */
  version = 11;
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  /** Number of header lines, and per line [name start, name end, value start, value end). */
  count = 0;
  readonly at = new Int32Array(MAX_HEADERS * 4);
  /** Where the first line ends (its CR). */
  lineEnd = 0;
  protected conn = 0;
  protected hosts = 0;
  /** Header line (a multiple of 4) of the Host header, or -1. */
  protected hostAt = -1;
  protected upgradeAt = -1;
  protected cookieAt = -1;
  protected setCookies = 0;
  /** A header the proxy must take out or replace (hop-by-hop, X-Forwarded-*). */
  replaced = false;
  private lazyNames: string[] | null = null;
  private lazyValues: string[] | null = null;

  /** Scans the header lines after the first line; the first line is left to the subclass. */
  protected scan(buf: Buffer, end: number): void {
    this.buf = buf;
    this.length = end;
    this.contentLength = -1;
    this.chunked = false;
    this.count = 0;
    this.conn = 0;
    this.hosts = 0;
    this.hostAt = -1;
    this.upgradeAt = -1;
    this.cookieAt = -1;
    this.setCookies = 0;
    this.replaced = false;
    this.lazyNames = null;
    this.lazyValues = null;
    let te = false;
    const stop = end - 2;
    // The first line: only framing bytes here; its syntax is the subclass's.
    let i = 0;
    for (; ; i++) {
      const c = buf[i];
      if (c === 13) {
        if (buf[i + 1] !== 10) throw new HttpError(400, 'bare CR in head');
        break;
      }
      if (c === 10) throw new HttpError(400, 'bare LF in head');
      if (c === 0) throw new HttpError(400, 'NUL in head');
    }
    this.lineEnd = i;
    i += 2;
    const at = this.at;
    while (i < stop) {
      // One header line from i.
      const a = i;
      let c = buf[i];
      if (c === 32 || c === 9) throw new HttpError(400, 'obsolete line folding');
      while (true) {
        c = buf[i];
        if (c === 58) break;
        if (TCHAR[c] === 0) {
          if (c === 10) throw new HttpError(400, 'bare LF in head');
          if (c === 0) throw new HttpError(400, 'NUL in head');
          if (c === 13) throw new HttpError(400, buf[i + 1] === 10 ? 'header line without a colon' : 'bare CR in head');
          throw new HttpError(400, 'invalid header name');
        }
        i++;
      }
      if (i === a) throw new HttpError(400, 'header line without a name');
      const nameEnd = i;
      i++;
      while (buf[i] === 32 || buf[i] === 9) i++;
      const vs = i;
      while (true) {
        c = buf[i];
        if (c < 32 || c === 127) {
          if (c === 13) {
            if (buf[i + 1] !== 10) throw new HttpError(400, 'bare CR in head');
            break;
          }
          if (c === 10) throw new HttpError(400, 'bare LF in head');
          if (c === 0) throw new HttpError(400, 'NUL in head');
          if (c !== 9) throw new HttpError(400, 'control character in header value');
        }
        i++;
      }
      let ve = i;
      while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
      i += 2;
      if (this.count === MAX_HEADERS) throw new HttpError(431, `more than ${MAX_HEADERS} header lines`);
      const k = this.count++ * 4;
      at[k] = a;
      at[k + 1] = nameEnd;
      at[k + 2] = vs;
      at[k + 3] = ve;
      switch (kindOf(buf, a, nameEnd)) {
        case H.Other:
          if (framingLookalike(buf, a, nameEnd))
            throw new HttpError(400, `header name ${buf.toString('latin1', a, nameEnd)} differs from a framing header only by '-' or '_'`);
          break;
        case H.ContentLength: {
          const n = ve - vs;
          if (n < 1 || n > 15) throw new HttpError(400, 'invalid Content-Length');
          let v = 0;
          for (let j = vs; j < ve; j++) {
            const d = buf[j] - 48;
            if (d < 0 || d > 9) throw new HttpError(400, 'invalid Content-Length');
            v = v * 10 + d;
          }
          if (this.contentLength !== -1 && this.contentLength !== v) throw new HttpError(400, 'conflicting Content-Length');
          this.contentLength = v;
          break;
        }
        case H.TransferEncoding: {
          if (te) throw new HttpError(400, 'repeated Transfer-Encoding');
          te = true;
          let j = 0;
          if (ve - vs === CHUNKED.length) while (j < CHUNKED.length && (buf[vs + j] | 0x20) === CHUNKED[j]) j++;
          if (j !== CHUNKED.length) throw new HttpError(501, 'unsupported Transfer-Encoding');
          this.chunked = true;
          break;
        }
        case H.Connection:
          this.conn |= connectionTokens(buf, vs, ve);
          this.replaced = true;
          break;
        case H.Host:
          this.hosts++;
          this.hostAt = k;
          // uri-host [":" port]: no whitespace, comma or other byte a member could read two ways.
          for (let j = vs; j < ve; j++) if (!HOST_BYTE[buf[j]]) throw new HttpError(400, 'invalid Host');
          break;
        case H.Upgrade:
          if (this.upgradeAt < 0) this.upgradeAt = k;
          this.replaced = true;
          break;
        case H.Cookie:
          if (this.cookieAt < 0) this.cookieAt = k;
          break;
        case H.SetCookie:
          this.setCookies++;
          break;
        case H.XForwardedFor:
        case H.Replaced:
          this.replaced = true;
          break;
      }
    }
    if (this.chunked && this.contentLength !== -1) throw new HttpError(400, 'both Content-Length and Transfer-Encoding');
  }

  /** Header names in lower case, in order (made on first use). */
  get names(): string[] {
    if (this.lazyNames === null) {
      const out: string[] = [];
      for (let k = 0; k < this.count * 4; k += 4) out.push(this.buf.toString('latin1', this.at[k], this.at[k + 1]).toLowerCase());
      this.lazyNames = out;
    }
    return this.lazyNames;
  }

  /** Header values, trimmed, in order (made on first use). */
  get values(): string[] {
    if (this.lazyValues === null) {
      const out: string[] = [];
      for (let k = 0; k < this.count * 4; k += 4) out.push(this.buf.toString('latin1', this.at[k + 2], this.at[k + 3]));
      this.lazyValues = out;
    }
    return this.lazyValues;
  }

  /** The value of header line k (a multiple of 4). */
  protected value(k: number): string {
    return this.buf.toString('latin1', this.at[k + 2], this.at[k + 3]);
  }
}
