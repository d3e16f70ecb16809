/**
 * The load balancer's own error answers (400, 431, 502, 503, 504, ...): plain text naming
 * what went wrong, and the connection closes after it (the stream's state is unknown).
 */

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** The whole response, head and body, for `status` with `why` in its body. */
export function errorResponse(status: number, why: string): string {
  const reason = REASONS[status] ?? 'Error';
  const body = `${status} ${reason}: ${why}\n`;
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** A fixed response's reason phrase when REASONS has none for its code (the phrase is informative only). */
const FIXED_REASONS: Record<number, string> = { 2: 'OK', 4: 'Client Error', 5: 'Server Error' };

const REDIRECTS: Record<number, string> = { 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect' };

/** An L7 policy's answer: a redirect to `location`, or 403 for a rejection; the connection closes after it. */
export function policyResponse(status: number, location: string | undefined, fixed?: { contentType: string; body: string }): string {
  if (fixed) {
    const body = Buffer.from(fixed.body, 'utf8');
    // As HAProxy's `http-request return`: a content type with a body only.
    const type = body.length > 0 ? `content-type: ${fixed.contentType}\r\n` : '';
    return `HTTP/1.1 ${status} ${REASONS[status] ?? FIXED_REASONS[Math.floor(status / 100)]}\r\n${type}content-length: ${body.length}\r\nconnection: close\r\n\r\n${fixed.body}`;
  }
  if (location === undefined) {
    const body = '403 Forbidden: rejected by an L7 policy\n';
    return `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
  }
  return `HTTP/1.1 ${status} ${REDIRECTS[status] ?? 'Found'}\r\nlocation: ${location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`;
}
