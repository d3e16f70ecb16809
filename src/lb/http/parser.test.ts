/**
 * The strict parser, case by case: what it accepts, and each ambiguous request it refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headEnd, parseRequest, parseResponse, HttpError, header, RequestHead, ResponseHead } from './parser.js';
import { ChunkedScanner } from './chunked.js';

const req = (text: string) => {
  const buf = Buffer.from(text, 'latin1');
  const end = headEnd(buf);
  assert.ok(end > 0, 'head is complete');
  return parseRequest(buf, end);
};
const refused = (text: string, status: number, why: RegExp) =>
  assert.throws(
    () => req(text),
    (e: unknown) => e instanceof HttpError && e.status === status && why.test(e.message),
  );

test('parses a request head: method, target, headers, framing, keep-alive', () => {
  const h = req('POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-A:  v w \r\n\r\nhello');
  assert.equal(h.method, 'POST');
  assert.equal(h.target, '/a?b=1');
  assert.equal(h.version, 11);
  assert.equal(h.contentLength, 5);
  assert.equal(h.keepAlive, true);
  assert.equal(header(h, 'x-a'), 'v w');
  assert.equal(h.length, Buffer.byteLength('POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-A:  v w \r\n\r\n'));
  assert.equal(req('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
  assert.equal(req('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
  assert.equal(req('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').keepAlive, false);
  assert.equal(req('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n').chunked, true);
  assert.equal(req('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n').upgrade, true);
});

test('refuses every ambiguous request', () => {
  refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400, /both/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', 400, /conflicting/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400, /Content-Length/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n', 400, /Content-Length/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501, /Transfer-Encoding/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 400, /repeated/);
  refused('GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400, /HTTP\/1\.0/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n', 400, /folding/);
  refused('GET / HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n', 400, /bare LF/);
  refused('GET / HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n', 400, /bare CR/);
  refused('GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400, /header name/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n', 400, /control/);
  refused('GET / HTTP/1.1\r\n\r\n', 400, /missing Host/);
  refused('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, /repeated Host/);
  refused('GET  / HTTP/1.1\r\nHost: x\r\n\r\n', 400, /request line/);
  refused('GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505, /version/);
  refused('G(T / HTTP/1.1\r\nHost: x\r\n\r\n', 400, /method/);
});

test('parses response heads and their framing', () => {
  const r = (t: string) => {
    const b = Buffer.from(t, 'latin1');
    return parseResponse(b, headEnd(b));
  };
  const a = r('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  assert.deepEqual([a.status, a.contentLength, a.chunked, a.close], [200, 2, false, false]);
  assert.equal(r('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n').close, true);
  assert.equal(r('HTTP/1.0 200 OK\r\n\r\n').close, true);
  assert.throws(() => r('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n'), HttpError);
  assert.throws(() => r('HTTX 200\r\n\r\n'), HttpError);
});

test('finds the end of a chunked body across pieces, and refuses bad chunk sizes', () => {
  const body = Buffer.from('5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT', 'latin1');
  for (const cut of [1, 3, 7, 12, 30, body.length - 5]) {
    const s = new ChunkedScanner();
    let end = s.scan(body, 0, cut);
    if (end < 0) end = s.scan(body, cut, body.length);
    assert.equal(body.toString('latin1', end), 'NEXT', `cut at ${cut}`);
  }
  for (const bad of ['x\r\n', '5\nhello', '5\r\nhelloXX', '1234567890abc\r\n', '\r\n', '0\r\n\n']) {
    assert.throws(() => new ChunkedScanner().scan(Buffer.from(bad, 'latin1'), 0, bad.length), HttpError, JSON.stringify(bad));
  }
});

test('refuses NUL, header lines without a colon or name, non-token bytes and too many header lines', () => {
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', 400, /NUL/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400, /header name|colon/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n', 400, /without a colon/);
  refused('GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n', 400, /without a name/);
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-\u00e9: v\r\n\r\n', 400, /header name/);
  refused('GET /a\u0001 HTTP/1.1\r\nHost: x\r\n\r\n', 400, /request target/);
  const many = Array.from({ length: 100 }, (_, i) => `X-${i}: ${i}\r\n`).join('');
  refused(`GET / HTTP/1.1\r\nHost: x\r\n${many}\r\n`, 431, /more than 100/);
});

test('one head object parses request after request, with nothing left over from the last', () => {
  const h = new RequestHead();
  const parse = (t: string) => {
    const b = Buffer.from(t, 'latin1');
    return h.parse(b, headEnd(b));
  };
  parse('POST /x?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nCookie: k=v\r\nConnection: close\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n');
  assert.deepEqual(
    [h.method, h.target, h.path, h.contentLength, h.keepAlive, h.cookie, h.replaced, h.isHead],
    ['POST', '/x?q=1', '/x', 3, false, 'k=v', true, false],
  );
  assert.deepEqual(h.names, ['host', 'content-length', 'cookie', 'connection', 'x-forwarded-for']);
  parse('HEAD / HTTP/1.1\r\nHOST: b\r\n\r\n');
  assert.deepEqual(
    [h.method, h.target, h.path, h.contentLength, h.keepAlive, h.cookie, h.replaced, h.isHead],
    ['HEAD', '/', '/', -1, true, undefined, false, true],
  );
  assert.deepEqual([h.names, h.values], [['host'], ['b']]);
  // Hop-by-hop and forwarding headers are flagged whatever their case, other headers are not.
  for (const n of ['Keep-Alive', 'TE', 'trailer', 'Upgrade', 'X-FORWARDED-PROTO', 'x-forwarded-port', 'Proxy-Connection'])
    assert.equal(parse(`GET / HTTP/1.1\r\nHost: b\r\n${n}: 1\r\n\r\n`).replaced, true, n);
  for (const n of ['X-Forwarded-Fo', 'Hosts', 'Tee', 'Content-Type']) assert.equal(parse(`GET / HTTP/1.1\r\nHost: b\r\n${n}: 1\r\n\r\n`).replaced, false, n);
});

test('a response head object reads status, framing and Set-Cookie lines', () => {
  const r = new ResponseHead();
  const b = Buffer.from('HTTP/1.1 302 Found\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nTransfer-Encoding: Chunked\r\n\r\n', 'latin1');
  r.parse(b, headEnd(b));
  assert.deepEqual([r.status, r.chunked, r.setCookieCount, r.statusLine, r.close], [302, true, 2, 'HTTP/1.1 302 Found', false]);
  const c = Buffer.from('HTTP/1.1 200\r\nConnection: keep-alive, close\r\n\r\n', 'latin1');
  r.parse(c, headEnd(c));
  assert.deepEqual([r.status, r.chunked, r.setCookieCount, r.close], [200, false, 0, true]);
});
