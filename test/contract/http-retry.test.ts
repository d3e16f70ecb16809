/**
 * The listener contract when a member closes a kept connection just as the next request goes
 * out on it (its app restarted, or the server stopped, while the connection lay idle): on both
 * layer-7 engines the request is sent again on a fresh connection and the client gets its
 * answer, rather than a connection closed with no answer (HAProxy's own behaviour without
 * `retry-on empty-response`, which a browser retries but `fetch`, curl and SDKs do not).
 * Real sockets on loopback; a member that answers the first request of each connection and
 * closes on the second.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { closeAll, freePort, onePool, oneListener, track } from '../helpers/engine.js';
import { CONTRACT_ENGINES } from '../helpers/engines.js';

after(closeAll);

const ENGINES = CONTRACT_ENGINES;

/** A member whose connections each answer one request (kept alive), then close without a word when the next comes. */
async function oneAnswerPerConnection(): Promise<{ port: number; connections: () => number; closedUnanswered: () => number }> {
  let connections = 0;
  let closedUnanswered = 0;
  const server = createServer((s) => {
    connections++;
    let answered = false;
    let head = '';
    s.on('error', () => undefined);
    s.on('data', (d) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      head = '';
      if (answered) {
        closedUnanswered++;
        s.destroy();
        return;
      }
      answered = true;
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  track({ close: () => server.close() });
  return { port: (server.address() as AddressInfo).port, connections: () => connections, closedUnanswered: () => closedUnanswered };
}

/** Requests one after another on one client connection: each answer's status line, or what ended the connection. */
function inOrder(port: number, requests: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    const out: string[] = [];
    const s = connect(port, '127.0.0.1');
    let buf = '';
    const next = () => (out.length < requests.length ? s.write(requests[out.length]) : (s.destroy(), resolve(out)));
    s.setTimeout(10_000, () => s.destroy(new Error('no answer within 10 s')));
    s.on('connect', next);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // Each answer here is a head and a body of content-length bytes (the member's two, or an error page's).
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      const status = buf.slice(0, 12);
      buf = buf.slice(end + 4 + length);
      out.push(status);
      next();
    });
    s.on('error', (err) => (out.push(`error: ${err.message}`), resolve(out)));
    s.on('close', () => (out.length < requests.length && out.push('closed with no answer'), resolve(out)));
  });
}

for (const e of ENGINES) {
  test(`${e.name}: a kept member connection closed as a GET goes out on it: the GET is sent again on a fresh one and answered`, { skip: e.skip }, async () => {
    const member = await oneAnswerPerConnection();
    const port = await freePort();
    await e.serve(oneListener(port, onePool(member.port)), port);
    const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const answers = await inOrder(port, [get('/1'), get('/2'), get('/3')]);
    assert.deepEqual(answers, ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200']);
    // The case happened: the engine sent a request on a kept connection, which the member closed unanswered.
    assert.ok(member.closedUnanswered() >= 1, `the member closed ${member.closedUnanswered()} kept connections unanswered`);
    assert.ok(member.connections() >= 3, `${member.connections()} member connections`);
  });
}
