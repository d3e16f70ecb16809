/**
 * The head rewrites of the HTTP proxy, pure: what a member gets for a request (the client's
 * head with this connection's forwarding headers, hop-by-hop headers dropped), and what the
 * client gets for a response that needs a change (a persistence cookie, the connection's fate).
 */
import type { RequestHead, ResponseHead } from './parser.js';

/** Dropped: hop-by-hop headers, and forwarding claims the load balancer makes itself (Forwarded and X-Real-IP too: members trust X-Forwarded-For). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'x-forwarded-proto',
  'x-forwarded-port',
  'forwarded',
  'x-real-ip',
]);

/** This connection's forwarding headers and its keep-alive, ending the head: made once per connection. */
export function forwardingTail(clientIp: string, port: number, proto: 'http' | 'https' = 'http'): Buffer {
  return Buffer.from(`x-forwarded-for: ${clientIp}\r\nx-forwarded-proto: ${proto}\r\nx-forwarded-port: ${port}\r\nconnection: keep-alive\r\n\r\n`, 'latin1');
}

/**
 * The head the member gets for the request head in buf[0, end). Most requests carry no
 * hop-by-hop or forwarding header of their own: then it is the client's head as it came plus
 * `tail` (forwardingTail), in one copy. Otherwise the head is written anew.
 */
export function requestHead(
  req: RequestHead,
  buf: Buffer,
  end: number,
  clientIp: string,
  port: number,
  tail: Buffer,
  proto: 'http' | 'https' = 'http',
): Buffer {
  if (req.version === 11 && !req.replaced) {
    const out = Buffer.allocUnsafe(end - 2 + tail.length);
    buf.copy(out, 0, 0, end - 2);
    tail.copy(out, end - 2);
    return out;
  }
  const names = req.names;
  const values = req.values;
  // Every X-Forwarded-For the client sent, in order, then the client.
  let xff = '';
  let out = `${req.method} ${req.target} HTTP/1.1\r\n`;
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    if (HOP_BY_HOP.has(n)) continue;
    if (n === 'x-forwarded-for') {
      xff += `${values[i]}, `;
      continue;
    }
    out += `${n}: ${values[i]}\r\n`;
  }
  out += `x-forwarded-for: ${xff}${clientIp}\r\nx-forwarded-proto: ${proto}\r\nx-forwarded-port: ${port}\r\n`;
  // An h2c upgrade passes as HAProxy 2.6 passes it (measured): with HTTP2-Settings, named in Connection as RFC 9113 §3.2 asks.
  if (req.upgrade) out += `connection: upgrade${isH2c(req.upgradeValue, names) ? ', http2-settings' : ''}\r\nupgrade: ${req.upgradeValue}\r\n\r\n`;
  else out += 'connection: keep-alive\r\n\r\n';
  return Buffer.from(out, 'latin1');
}

/** An upgrade to HTTP/2 over cleartext (h2c) that carries its HTTP2-Settings header. */
function isH2c(upgrade: string | undefined, names: string[]): boolean {
  return upgrade !== undefined && upgrade.split(',').some((t) => t.trim().toLowerCase() === 'h2c') && names.includes('http2-settings');
}

/** The response head with `setCookie` added (when not null) and the connection kept or closed. */
export function responseHead(resp: ResponseHead, setCookie: string | null, close: boolean): Buffer {
  let out = `${resp.statusLine}\r\n`;
  const names = resp.names;
  const values = resp.values;
  for (let i = 0; i < names.length; i++) {
    if (names[i] === 'connection' || names[i] === 'keep-alive') continue;
    out += `${names[i]}: ${values[i]}\r\n`;
  }
  if (setCookie) out += `set-cookie: ${setCookie}\r\n`;
  out += close ? 'connection: close\r\n\r\n' : 'connection: keep-alive\r\n\r\n';
  return Buffer.from(out, 'latin1');
}
