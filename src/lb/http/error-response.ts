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
