/**
 * The HTTP engine cannot be smuggled: a table of requests a member could read otherwise than
 * the proxy does, each refused before anything reaches a member; and the forwarding headers a
 * member gets, whatever the client claimed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { backend, closeAll, engineWith, member, raw, track } from '../../../test/helpers/engine.js';
import { FRAMING_CASES as CASES } from '../../../test/helpers/framing-cases.js';

after(closeAll);

const H = 'Host: x\r\n';

test('requests a member could read another way are refused, and nothing reaches the member', async () => {
  const a = await backend('strict');
  const { port } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  for (const [why, bytes, answer] of CASES) assert.match(await raw(port, bytes), answer, why);
  assert.equal(a.seen.length, 0, 'nothing reached the member');
});

test('a 20 kB head sent in two writes is refused as one', async () => {
  const a = await backend('twice');
  const { port } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  const head = `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
  const answer = await new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(head.slice(0, 10_000));
      setTimeout(() => s.write(head.slice(10_000)), 50);
    });
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
  });
  assert.match(answer, /^HTTP\/1\.1 431/);
  assert.equal(a.seen.length, 0);
});

test('what passes: a same-host absolute URI, an allowed trailer; members see every X-Forwarded-For and none of the client’s other forwarding claims', async () => {
  const a = await backend('fwd');
  const { port } = await engineWith({ algorithm: 'ROUND_ROBIN', persistence: null, members: [member(a)], health: null });
  assert.match(await raw(port, 'GET http://x/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200/);
  assert.match(
    await raw(port, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n`),
    /^HTTP\/1\.1 200/,
  );
  assert.match(
    await raw(port, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;a=${'b'.repeat(4000)}\r\nhello\r\n0\r\n\r\n`),
    /^HTTP\/1\.1 200/,
    'a 4 kB extension passes',
  );
  assert.match(await raw(port, `GET / HTTP/1.1\r\n${H}X_Custom: 1\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 200/, 'other names with _ pass');
  await raw(
    port,
    `GET / HTTP/1.1\r\n${H}X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\nForwarded: for=3.3.3.3\r\nX-Real-IP: 4.4.4.4\r\nConnection: close\r\n\r\n`,
  );
  const seen = a.seen[a.seen.length - 1];
  assert.equal(seen['x-forwarded-for'], '1.1.1.1, 2.2.2.2, 127.0.0.1');
  assert.equal(seen.forwarded, undefined);
  assert.equal(seen['x-real-ip'], undefined);
});

test('an h2c upgrade passes as HAProxy 2.6 passes it: HTTP2-Settings kept and named in Connection; a 101 makes a tunnel', async () => {
  let seen = '';
  const m = createServer((s) => {
    s.once('data', (d) => {
      seen = d.toString('latin1');
      s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nFROM-MEMBER');
      s.on('data', (more) => s.write(`ECHO ${more}`));
    });
  });
  track({ close: () => m.close() });
  await new Promise<void>((r) => m.listen(0, '127.0.0.1', r));
  const { port } = await engineWith({
    algorithm: 'ROUND_ROBIN',
    persistence: null,
    members: [{ id: 'h2c', host: '127.0.0.1', port: (m.address() as AddressInfo).port, weight: 1, enabled: true }],
    health: null,
  });
  const out = await new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1', () =>
      s.write(`GET / HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`),
    );
    let got = '';
    s.on('data', (d) => {
      got += d;
      if (got.includes('FROM-MEMBER') && !got.includes('ECHO')) s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      if (got.includes('ECHO PRI')) s.destroy();
    });
    s.on('close', () => resolve(got));
    setTimeout(() => s.destroy(), 3000);
  });
  assert.match(seen, /^upgrade: h2c\r$/im);
  assert.match(seen, /^http2-settings: AAMAAABkAAQAAP__\r$/im);
  assert.match(seen, /^connection: upgrade, http2-settings\r$/im);
  assert.match(out, /^HTTP\/1\.1 101/);
  assert.match(out, /ECHO PRI \* HTTP\/2\.0/, 'after the 101, bytes pass both ways unchanged');
});
