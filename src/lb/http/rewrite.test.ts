/**
 * The proxy's head rewrites, as tables: what the member gets for a request, and what the
 * client gets for a response that needs a change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestHead, ResponseHead, headEnd } from './parser.js';
import { forwardingTail, requestHead, responseHead } from './rewrite.js';

function req(text: string): { head: RequestHead; buf: Buffer; end: number } {
  const buf = Buffer.from(text, 'latin1');
  const end = headEnd(buf);
  return { head: new RequestHead().parse(buf, end), buf, end };
}

const tail = forwardingTail('10.0.0.9', 80);

test('a plain HTTP/1.1 request goes as it came, with the forwarding headers appended', () => {
  const r = req('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nCookie: k=v\r\n\r\n');
  assert.equal(
    requestHead(r.head, r.buf, r.end, '10.0.0.9', 80, tail).toString('latin1'),
    'GET /a?b=1 HTTP/1.1\r\nHost: x\r\nCookie: k=v\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-port: 80\r\nconnection: keep-alive\r\n\r\n',
  );
});

test('hop-by-hop headers are dropped and an X-Forwarded-For of the client is extended', () => {
  const cases: [string, string][] = [
    [
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nKeep-Alive: 5\r\nTE: trailers\r\n\r\n',
      'GET / HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-port: 80\r\nconnection: keep-alive\r\n\r\n',
    ],
    [
      'GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\n\r\n',
      'GET / HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 1.2.3.4, 10.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-port: 80\r\nconnection: keep-alive\r\n\r\n',
    ],
    [
      'GET / HTTP/1.0\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-port: 80\r\nconnection: keep-alive\r\n\r\n',
    ],
    [
      'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      'GET /ws HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-port: 80\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n',
    ],
  ];
  for (const [input, want] of cases) {
    const r = req(input);
    assert.equal(requestHead(r.head, r.buf, r.end, '10.0.0.9', 80, tail).toString('latin1'), want, JSON.stringify(input));
  }
});

test('a response head gets the persistence cookie and the connection it will have', () => {
  const buf = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n', 'latin1');
  const resp = new ResponseHead().parse(buf, headEnd(buf));
  assert.equal(
    responseHead(resp, 'NIMBUSLB=mbr-1; path=/; HttpOnly', false).toString('latin1'),
    'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nset-cookie: NIMBUSLB=mbr-1; path=/; HttpOnly\r\nconnection: keep-alive\r\n\r\n',
  );
  assert.equal(responseHead(resp, null, true).toString('latin1'), 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n');
});
