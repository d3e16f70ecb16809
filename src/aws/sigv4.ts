/**
 * AWS Signature Version 4, checked as AWS checks it: the canonical request from the method,
 * path, query, the signed headers and the payload's hash; the string to sign with the
 * credential scope; the signing key derived from the secret by the HMAC chain; compared in
 * constant time. The secret is looked up by the access key id the Authorization header names.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedRequest {
  method: string;
  /** Path and query as sent ('/' or '/?Action=...'). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Why a request is refused: the endpoint answers AuthFailure with this message. */
export class SignatureError extends Error {}

const AUTH =
  /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request\s*,\s*SignedHeaders=([a-z0-9\-;]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;

/** The credential an Authorization header names (null: it is not SigV4). */
export function parseAuthorization(header: string | undefined): Credential | null {
  const m = AUTH.exec(header ?? '');
  if (!m) return null;
  return { accessKeyId: m[1], date: m[2], region: m[3], service: m[4], signedHeaders: m[5].split(';'), signature: m[6] };
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

/** RFC 3986 encoding, as SigV4 wants it (`~` kept, space as %20). */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs = query.split('&').map((p) => {
    const i = p.indexOf('=');
    const dec = (x: string) => decodeURIComponent(x.replace(/\+/g, ' '));
    return i < 0 ? [encode(dec(p)), ''] : [encode(dec(p.slice(0, i))), encode(dec(p.slice(i + 1)))];
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

const header = (h: SignedRequest['headers'], name: string): string => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
};

/** The signature a request would carry if signed with `secret`. */
export function signatureOf(req: SignedRequest, c: Credential, secret: string): string {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const canonicalHeaders = c.signedHeaders.map((h) => `${h}:${header(req.headers, h).trim().replace(/\s+/g, ' ')}\n`).join('');
  const payload = header(req.headers, 'x-amz-content-sha256') || sha256(req.body);
  const canonical = [
    req.method,
    path
      .split('/')
      .map((s) => encode(decodeURIComponent(s)))
      .join('/') || '/',
    canonicalQuery(query),
    canonicalHeaders,
    c.signedHeaders.join(';'),
    payload,
  ].join('\n');
  const amzDate = header(req.headers, 'x-amz-date');
  const scope = `${c.date}/${c.region}/${c.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, c.date), c.region), c.service), 'aws4_request');
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

/** Checks a request's signature against `secret`; throws SignatureError when it does not hold. */
export function verify(req: SignedRequest, c: Credential, secret: string, now = Date.now()): void {
  if (!c.signedHeaders.includes('host')) throw new SignatureError('the signature must cover the Host header');
  const amzDate = header(req.headers, 'x-amz-date');
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) throw new SignatureError(`X-Amz-Date '${amzDate}' is missing or not of the form 20261130T120000Z`);
  if (`${m[1]}${m[2]}${m[3]}` !== c.date) throw new SignatureError(`the credential's date ${c.date} is not the request's (${amzDate})`);
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (Math.abs(now - t) > 15 * 60_000) throw new SignatureError(`the request was signed at ${amzDate}, more than 15 minutes from this daemon's clock`);
  const want = Buffer.from(signatureOf(req, c, secret), 'hex');
  const got = Buffer.from(c.signature, 'hex');
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    throw new SignatureError('the request signature does not match: check the secret access key (nimbus credentials aws)');
  }
}
