/**
 * The framing contract on HAProxy (the other layer-7 engine): every request of the smuggling
 * table (test/helpers/framing-cases.ts) is refused before anything reaches a member, with the
 * configuration the agent renders. Where HAProxy's status differs from Nimbus's engine, the
 * test says so and docs/decisions.md lists it: users get a refusal either way.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { backend, closeAll, freePort, onePool, oneListener, raw } from '../helpers/engine.js';
import { FRAMING_CASES } from '../helpers/framing-cases.js';
import { NO_HAPROXY, haproxyServing } from '../helpers/engines.js';

after(closeAll);

/** HAProxy with the agent's configuration for one HTTP listener and one member; its port once it listens. */
async function haproxyWith(memberPort: number): Promise<number> {
  const port = await freePort();
  await haproxyServing(oneListener(port, onePool(memberPort)), port);
  return port;
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
    // Refusals whose status differs from Nimbus's engine (a large head is 400 on HAProxy, 431 on Nimbus's; CONNECT's 405 is one rule
    // on both). A 20 kB chunk extension is 400 on Nimbus's; HAProxy 2.6 answered 400 too, and Debian's 2.6.12-1+deb12u3 closes the
    // connection without an answer: a refusal either way, the member sees nothing.
    const DIFFERS: Record<string, RegExp> = {
      'a chunk size over 8 hex digits (read as 5 on 32 bits)': /^closed$/,
      'a 17 kB head in one write': /^400$/,
      'a 60 kB head in one write': /^400$/,
      'more than 100 header lines': /^400$/,
      'a 20 kB chunk extension': /^(400|closed)$/,
    };
    const differing = statuses.filter((x) => ![...NORMALIZED].some((n) => x.startsWith(n)));
    for (const d of differing) {
      const [why, status] = [d.slice(0, d.lastIndexOf(': ')), d.slice(d.lastIndexOf(': ') + 2)];
      assert.ok(DIFFERS[why]?.test(status), `${d}: a difference from Nimbus's engine that docs/decisions.md does not list`);
    }
    for (const why of Object.keys(DIFFERS).filter((w) => w !== 'a 20 kB chunk extension'))
      assert.ok(
        differing.some((d) => d.startsWith(`${why}: `)),
        `${why}: HAProxy now answers as Nimbus's engine does (docs/decisions.md lists a difference)`,
      );
  },
);
