/**
 * Requests a member could read otherwise than the proxy does (smuggling, framing, oversized
 * heads): each with the answer Nimbus's engine gives. Every load-balancer engine must refuse
 * them all before anything reaches a member (src/lb/http/smuggling.test.ts for Nimbus's,
 * test/contract/http-framing.test.ts for HAProxy, which answers some with another status).
 */
const H = 'Host: x\r\n';
export const FRAMING_CASES: [string, string, RegExp][] = [
  [
    'a chunk size over 8 hex digits (read as 5 on 32 bits)',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n100000005\r\nhello\r\n0\r\n\r\n`,
    /^HTTP\/1\.1 400/,
  ],
  ['a NUL in a chunk extension', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=\0b\r\nhello\r\n0\r\n\r\n`, /^HTTP\/1\.1 400/],
  ['a Content-Length trailer', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n`, /^HTTP\/1\.1 400/],
  ['a Host trailer', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nHost: evil\r\n\r\n`, /^HTTP\/1\.1 400/],
  ['obs-fold in a trailer', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX-A: 1\r\n folded\r\n\r\n`, /^HTTP\/1\.1 400/],
  ['a NUL in a trailer', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX-A: a\0b\r\n\r\n`, /^HTTP\/1\.1 400/],
  ['a Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', /^HTTP\/1\.1 400/],
  ['an absolute URI naming another host than Host', `GET http://other.example/ HTTP/1.1\r\n${H}\r\n`, /^HTTP\/1\.1 400/],
  ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', /^HTTP\/1\.1 405/],
  ['a 17 kB head in one write', `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(17_000)}\r\n\r\n`, /^HTTP\/1\.1 431/],
  ['a 60 kB head in one write', `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(60_000)}\r\n\r\n`, /^HTTP\/1\.1 431/],
  ['more than 100 header lines', `GET / HTTP/1.1\r\n${H}${'X-A: 1\r\n'.repeat(101)}\r\n`, /^HTTP\/1\.1 431/],
  [
    'Transfer_Encoding (read as Transfer-Encoding by CGI, WSGI and PHP)',
    `POST / HTTP/1.1\r\n${H}Transfer_Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    /^HTTP\/1\.1 400/,
  ],
  ['Content_Length', `POST / HTTP/1.1\r\n${H}Content_Length: 5\r\n\r\nhello`, /^HTTP\/1\.1 400/],
  ['ContentLength', `POST / HTTP/1.1\r\n${H}ContentLength: 5\r\n\r\nhello`, /^HTTP\/1\.1 400/],
  ['a second Host spelt H_ost', `GET / HTTP/1.1\r\n${H}H_ost: evil\r\n\r\n`, /^HTTP\/1\.1 400/],
  ['a chunk size with a trailing space', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`, /^HTTP\/1\.1 400/],
  ['a 20 kB chunk extension', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=${'b'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`, /^HTTP\/1\.1 400/],
  ['Content-Length with Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, /^HTTP\/1\.1 400/],
];
