/**
 * A strict HTTP/1.1 head parser (RFC 9112) for the proxy's hot path. It is a security
 * boundary: whatever two servers could read differently is refused. Refused: bare CR or LF,
 * obsolete line folding, header names that are not tokens (spaces before the colon), control
 * characters in values, both Content-Length and Transfer-Encoding, a Transfer-Encoding other
 * than `chunked`, Content-Length that is not digits or disagrees with itself, a missing or
 * repeated Host in HTTP/1.1, heads over the limit. Pure: bytes in, a head or a refusal out.
 */

export const MAX_HEAD = 16 * 1024;

export interface RequestHead {
  method: string;
  target: string;
  /** 10 or 11. */
  version: number;
  /** Header names in lower case, values trimmed, in order. */
  names: string[];
  values: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** The client keeps the connection after this exchange. */
  keepAlive: boolean;
  /** A protocol upgrade (WebSocket) was asked for. */
  upgrade: boolean;
  /** Bytes of the head, CRLFCRLF included. */
  length: number;
}

export interface ResponseHead {
  status: number;
  version: number;
  names: string[];
  values: string[];
  contentLength: number;
  chunked: boolean;
  /** The server closes the connection after this response. */
  close: boolean;
  length: number;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// tchar of RFC 9110.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** Index just past the CRLFCRLF that ends a head, or -1. Bare LF anywhere is refused later. */
export function headEnd(buf: Buffer, from = 0): number {
  const i = buf.indexOf('\r\n\r\n', Math.max(0, from - 3), 'latin1');
  return i < 0 ? -1 : i + 4;
}

interface Lines {
  first: string;
  names: string[];
  values: string[];
}

function splitHead(buf: Buffer, end: number): Lines {
  const text = buf.toString('latin1', 0, end - 2);
  const names: string[] = [];
  const values: string[] = [];
  let first = '';
  let start = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 13) {
      if (text.charCodeAt(i + 1) !== 10) throw new HttpError(400, 'bare CR in head');
      if (start === 0) first = text.slice(0, i);
      else if (i > start) headerLine(text, start, i, names, values);
      start = i + 2;
      i++;
    } else if (c === 10) {
      throw new HttpError(400, 'bare LF in head');
    } else if (c === 0) {
      throw new HttpError(400, 'NUL in head');
    }
  }
  return { first, names, values };
}

/** One `name: value` line of text[a, b), checked and added (name in lower case, value trimmed). */
function headerLine(text: string, a: number, b: number, names: string[], values: string[]): void {
  const c0 = text.charCodeAt(a);
  if (c0 === 32 || c0 === 9) throw new HttpError(400, 'obsolete line folding');
  let colon = -1;
  let upper = false;
  for (let j = a; j < b; j++) {
    const ch = text.charCodeAt(j);
    if (ch === 58) {
      colon = j;
      break;
    }
    if (ch > 127 || TCHAR[ch] === 0) throw new HttpError(400, 'invalid header name');
    if (ch >= 65 && ch <= 90) upper = true;
  }
  if (colon <= a) throw new HttpError(400, colon < 0 ? 'header line without a colon' : 'header line without a name');
  let v = colon + 1;
  let w = b;
  while (v < w && (text.charCodeAt(v) === 32 || text.charCodeAt(v) === 9)) v++;
  while (w > v && (text.charCodeAt(w - 1) === 32 || text.charCodeAt(w - 1) === 9)) w--;
  for (let j = v; j < w; j++) {
    const ch = text.charCodeAt(j);
    if ((ch < 32 && ch !== 9) || ch === 127) throw new HttpError(400, 'control character in header value');
  }
  const name = text.slice(a, colon);
  names.push(upper ? name.toLowerCase() : name);
  values.push(text.slice(v, w));
}

interface Framing {
  contentLength: number;
  chunked: boolean;
  connection: string;
}

function framing(names: string[], values: string[]): Framing {
  let contentLength = -1;
  let te: string | null = null;
  let connection = '';
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    if (n === 'content-length') {
      if (!/^\d{1,15}$/.test(values[i])) throw new HttpError(400, 'invalid Content-Length');
      const v = Number(values[i]);
      if (contentLength !== -1 && contentLength !== v) throw new HttpError(400, 'conflicting Content-Length');
      contentLength = v;
    } else if (n === 'transfer-encoding') {
      if (te !== null) throw new HttpError(400, 'repeated Transfer-Encoding');
      te = values[i].toLowerCase();
    } else if (n === 'connection') {
      connection += `${values[i].toLowerCase()},`;
    }
  }
  if (te !== null) {
    if (contentLength !== -1) throw new HttpError(400, 'both Content-Length and Transfer-Encoding');
    if (te !== 'chunked') throw new HttpError(501, 'unsupported Transfer-Encoding');
  }
  return { contentLength, chunked: te !== null, connection };
}

function hasToken(list: string, token: string): boolean {
  return list.split(',').some((t) => t.trim() === token);
}

/** Parses a request head that ends at `end` (from headEnd). */
export function parseRequest(buf: Buffer, end: number): RequestHead {
  const { first, names, values } = splitHead(buf, end);
  const sp1 = first.indexOf(' ');
  const sp2 = first.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || first.indexOf(' ', sp2 + 1) >= 0) throw new HttpError(400, 'malformed request line');
  const method = first.slice(0, sp1);
  for (let j = 0; j < method.length; j++) {
    const ch = method.charCodeAt(j);
    if (ch > 127 || TCHAR[ch] === 0) throw new HttpError(400, 'invalid method');
  }
  const target = first.slice(sp1 + 1, sp2);
  if (target.length === 0) throw new HttpError(400, 'empty request target');
  for (let j = 0; j < target.length; j++) {
    const ch = target.charCodeAt(j);
    if (ch <= 32 || ch >= 127) throw new HttpError(400, 'invalid character in request target');
  }
  const proto = first.slice(sp2 + 1);
  let version: number;
  if (proto === 'HTTP/1.1') version = 11;
  else if (proto === 'HTTP/1.0') version = 10;
  else throw new HttpError(505, 'unsupported HTTP version');
  const f = framing(names, values);
  if (f.chunked && version === 10) throw new HttpError(400, 'Transfer-Encoding in HTTP/1.0');
  if (version === 11) {
    let hosts = 0;
    for (const n of names) if (n === 'host') hosts++;
    if (hosts !== 1) throw new HttpError(400, hosts === 0 ? 'missing Host' : 'repeated Host');
  }
  const keepAlive = version === 11 ? !hasToken(f.connection, 'close') : hasToken(f.connection, 'keep-alive');
  const upgrade = hasToken(f.connection, 'upgrade') && names.includes('upgrade');
  return { method, target, version, names, values, contentLength: f.contentLength, chunked: f.chunked, keepAlive, upgrade, length: end };
}

/** Parses a response head from a member; the same strictness protects the client. */
export function parseResponse(buf: Buffer, end: number): ResponseHead {
  const { first, names, values } = splitHead(buf, end);
  const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(first);
  if (!m) throw new HttpError(502, 'malformed status line');
  const version = m[1] === '1' ? 11 : 10;
  const f = framing(names, values);
  const close = version === 11 ? hasToken(f.connection, 'close') : !hasToken(f.connection, 'keep-alive');
  return { status: Number(m[2]), version, names, values, contentLength: f.contentLength, chunked: f.chunked, close, length: end };
}

/** The value of a header (lower-case name), or undefined. */
export function header(h: { names: string[]; values: string[] }, name: string): string | undefined {
  const i = h.names.indexOf(name);
  return i < 0 ? undefined : h.values[i];
}
