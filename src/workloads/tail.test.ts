/**
 * Reading the last lines of a log from its end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tailJsonLines } from './load-balancers.js';

test('the last n JSON lines, oldest first, however long the lines and the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-tail-'));
  try {
    const file = join(dir, 'access.log');
    assert.deepEqual(tailJsonLines(file, 5), [], 'no file yet: no lines');
    // Lines far longer than the first guess (512 bytes a line), and a cut last line being written.
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 7 === 0 ? 3000 : 10) }));
    writeFileSync(file, lines.join('\n') + '\n{"i": 30');
    assert.deepEqual(tailJsonLines(file, 3).map((l) => (l as { i: number }).i), [297, 298, 299]);
    assert.deepEqual(tailJsonLines(file, 40).map((l) => (l as { i: number }).i), Array.from({ length: 40 }, (_, k) => 260 + k));
    assert.equal(tailJsonLines(file, 1000).length, 300, 'fewer lines than asked: all of them');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
