/**
 * TLS termination on the built-in engine, on loopback with real sockets: SNI chooses the
 * certificate (exact names, then wildcards, else the default), members get plain HTTP with
 * X-Forwarded-Proto https, a handshake that never finishes is closed, and plain HTTP on the
 * TLS port gets no answer.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { connect } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { Engine } from './engine.js';
import { nameCovers } from './tls.js';
import { selfSign } from '../resources/certificate/service.js';
import { backend, closeAll, freePort, oneListener, onePool, track } from '../../test/helpers/engine.js';

after(closeAll);

test('a certificate name covers a host: itself, or one label under a wildcard', () => {
  assert.ok(nameCovers('app.example', 'app.example'));
  assert.ok(nameCovers('*.example', 'app.example'));
  assert.ok(!nameCovers('*.example', 'a.b.example'), 'a wildcard covers one label');
  assert.ok(!nameCovers('*.example', 'example'));
  assert.ok(!nameCovers('app.example', 'www.app.example'));
});

/** GET / over TLS to 127.0.0.1:port with `servername` as SNI, trusting `ca`: the body and the certificate the server showed. */
function httpsGet(port: number, servername: string | undefined, ca: string[]): Promise<{ body: string; peer: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', ca, servername, checkServerIdentity: () => undefined, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        const raw = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate?.();
        resolve({ body, peer: raw ? (/CN=([^\n]+)/.exec(raw.subject)?.[1] ?? '') : '' });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('SNI chooses the certificate; members get plain HTTP with X-Forwarded-Proto https', async () => {
  const a = await backend('tls-a');
  const [dflt, www, wild] = await Promise.all([selfSign(['default.test'], 2), selfSign(['www.shop.test'], 2), selfSign(['*.shop.test'], 2)]);
  const port = await freePort();
  const engine = track(new Engine(null));
  const certs = [dflt, www, wild].map((c, i) => ({ id: `c${i}`, cert: c.certPem, key: c.keyPem }));
  await engine.apply(oneListener(port, onePool(a.port), { tls: { certificates: certs } }));
  const ca = [dflt.certPem, www.certPem, wild.certPem];
  assert.equal((await httpsGet(port, 'www.shop.test', ca)).peer, 'www.shop.test', 'the exact name wins over the wildcard');
  assert.equal((await httpsGet(port, 'api.shop.test', ca)).peer, '*.shop.test', 'the wildcard covers a name of its own');
  assert.equal((await httpsGet(port, 'other.test', ca)).peer, 'default.test', 'a name no certificate has: the default');
  const r = await httpsGet(port, undefined, ca);
  assert.equal(r.peer, 'default.test', 'no SNI: the default');
  assert.equal(r.body, 'tls-a');
  const h = a.seen.at(-1)!;
  assert.equal(h['x-forwarded-proto'], 'https');
  assert.equal(h['x-forwarded-port'], String(port));
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.ok(new X509Certificate(dflt.certPem).checkHost('default.test'), 'the self-signed certificate names its host');
});

test('plain HTTP on a TLS listener is not answered, and a stalled handshake is closed', async () => {
  const a = await backend('tls-b');
  const c = await selfSign(['stall.test'], 2);
  const port = await freePort();
  const engine = track(new Engine(null));
  await engine.apply(
    oneListener(port, onePool(a.port), {
      tls: { certificates: [{ id: 'c', cert: c.certPem, key: c.keyPem }] },
      timeouts: { clientData: 50_000, memberConnect: 5_000, memberData: 50_000, httpRequest: 300 },
    }),
  );
  const plain = await new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(out));
  });
  assert.ok(!plain.includes('tls-b') && !plain.startsWith('HTTP/1.1 200'), `plain HTTP got: ${JSON.stringify(plain.slice(0, 80))}`);
  // A client that connects and sends nothing is closed by the handshake deadline (the request timeout).
  const closed = await new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', () => resolve(true));
  });
  assert.ok(closed);
  assert.equal(a.seen.length, 0, 'the member saw nothing');
});
