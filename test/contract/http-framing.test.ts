/**
 * The framing contract on HAProxy (the other layer-7 engine): every request of the smuggling
 * table (test/helpers/framing-cases.ts) is refused before anything reaches a member, with the
 * configuration the agent renders. Where HAProxy's status differs from Nimbus's engine, the
 * test says so and docs/decisions.md lists it: users get a refusal either way.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backend, closeAll, freePort, onePool, oneListener, raw, track } from '../helpers/engine.js';
import { FRAMING_CASES } from '../helpers/framing-cases.js';
import { NO_HAPROXY } from '../helpers/engines.js';
import { renderHaproxy } from '../../src/lb/haproxy/render.js';
import { haproxyPath } from '../../src/workloads/haproxy.js';

after(closeAll);

/** HAProxy in the foreground with the agent's configuration for one HTTP listener and one member; its port once it listens. */
async function haproxyWith(memberPort: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-haproxy-contract-'));
  const port = await freePort();
  writeFileSync(join(dir, 'servers.state'), '1\n');
  const cfg = renderHaproxy(oneListener(port, onePool(memberPort)), { dir, threads: 1 });
  writeFileSync(join(dir, 'haproxy.cfg'), cfg);
  const child = spawn(haproxyPath()!, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
  track({
    close: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  });
  for (let i = 0; i < 200; i++) {
    if ((await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).startsWith('HTTP/1.1 200')) return port;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('HAProxy did not answer within 5 s');
}

/**
 * What HAProxy 2.6 passes on where Nimbus's engine refuses: it parses the chunks and writes
 * them anew (an extension or a size's trailing space never reaches the member), keeps
 * Transfer-Encoding over Content-Length and drops the latter, and forwards trailers as
 * trailers, never as headers (the member's own parser then judges them: Node's refuses a
 * Content-Length or a NUL there). docs/decisions.md lists them.
 */
const NORMALIZED = new Set([
  'a NUL in a chunk extension',
  'a chunk size with a trailing space',
  'Content-Length with Transfer-Encoding',
  'a Content-Length trailer',
  'a Host trailer',
  'obs-fold in a trailer',
  'a NUL in a trailer',
]);

test(
  'HAProxy refuses the smuggling table before any member sees it, but for what it re-frames; the members see one framing and the real Host',
  { skip: NO_HAPROXY },
  async () => {
    const a = await backend('strict');
    const port = await haproxyWith(a.port);
    const statuses: string[] = [];
    for (const [why, bytes, nimbus] of FRAMING_CASES) {
      const before = a.seen.length;
      const answer = await raw(port, bytes);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 'closed';
      if (NORMALIZED.has(why)) {
        const seen = a.seen.at(-1)!;
        assert.equal(seen.host, 'x', `${why}: the member sees the request's own Host`);
        assert.ok(!(seen['content-length'] && seen['transfer-encoding']), `${why}: one framing header`);
      } else {
        assert.ok(status === 'closed' || status.startsWith('4'), `${why}: HAProxy answered ${status}`);
        assert.equal(a.seen.length, before, `${why}: nothing reached the member`);
      }
      if (!nimbus.test(answer)) statuses.push(`${why}: ${status}`);
    }
    // Refusals whose status differs from Nimbus's engine (a large head is 400 on HAProxy, 431 on Nimbus's; CONNECT's 405 is one rule on both).
    assert.deepEqual(
      statuses.filter((x) => ![...NORMALIZED].some((n) => x.startsWith(n))),
      [
        'a chunk size over 8 hex digits (read as 5 on 32 bits): closed',
        'a 17 kB head in one write: 400',
        'a 60 kB head in one write: 400',
        'more than 100 header lines: 400',
      ],
    );
  },
);
