/**
 * TLS termination for the built-in engine (a TERMINATED_HTTPS listener): a connection is
 * wrapped in a server TLSSocket whose certificate the client's SNI chooses, as HAProxy's
 * `crt` list does: a certificate whose name equals the SNI name first, then one whose
 * wildcard covers it, else the listener's default (its first). The HTTP session then reads
 * the clear text as from any socket.
 */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import type { TlsCertificate } from './config.js';

export interface TlsServe {
  /** The certificates' ids: a configuration with the same ones keeps these contexts. */
  key: string;
  fallback: SecureContext;
  /** Each certificate's DNS names (lower case) with its context, in the listener's order. */
  named: { names: string[]; context: SecureContext }[];
}

/** The DNS names a certificate is for: its DNS subject alternative names, else its common name. */
function namesOf(pem: string): string[] {
  const c = new X509Certificate(pem);
  const sans = (c.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  if (sans.length > 0) return sans;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(c.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

export function tlsServe(certs: TlsCertificate[]): TlsServe | null {
  if (certs.length === 0) return null;
  const named = certs.map((c) => ({ names: namesOf(c.cert), context: createSecureContext({ cert: c.cert, key: c.key, minVersion: 'TLSv1.2' }) }));
  return { key: certs.map((c) => c.id).join(','), fallback: named[0].context, named };
}

/** Whether a certificate name (`*.example.com` covers one label) is for `host`. */
export function nameCovers(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === pattern.slice(2);
}

/** The context for the SNI name `servername`: exact names first, then wildcards, else the default. */
export function contextFor(serve: TlsServe, servername: string | undefined): SecureContext {
  const host = (servername ?? '').toLowerCase();
  if (!host) return serve.fallback;
  const exact = serve.named.find((n) => n.names.includes(host));
  if (exact) return exact.context;
  return serve.named.find((n) => n.names.some((p) => nameCovers(p, host)))?.context ?? serve.fallback;
}

/** `socket` as TLS with `serve`'s certificates; closed when its handshake is not done within `deadlineMs`. */
export function terminate(socket: Socket, serve: TlsServe, deadlineMs: number): TLSSocket {
  const t = new TLSSocket(socket, {
    isServer: true,
    secureContext: serve.fallback,
    SNICallback: (name, cb) => cb(null, contextFor(serve, name)),
    ALPNProtocols: ['http/1.1'],
  });
  const timer = setTimeout(() => t.destroy(), deadlineMs).unref();
  t.once('secure', () => clearTimeout(timer));
  t.once('close', () => clearTimeout(timer));
  // A failed handshake (a client that does not trust the certificate, plain HTTP on the port) ends the connection.
  t.on('error', () => t.destroy());
  return t;
}
