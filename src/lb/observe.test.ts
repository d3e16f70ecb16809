/**
 * The access log: its hand-written JSON is exactly what JSON.stringify makes, it rotates, and
 * its last lines are read from the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLog, asciiJson, formatRecord, readAccessLog, tailJsonLines } from './observe.js';
import type { AccessRecord } from '../core/model/index.js';
import { putInt, putMillis, putEscaped } from './log-line.js';

test('an access record is formatted as JSON.stringify would, escapes included', () => {
  const base: AccessRecord = {
    time: '2026-11-27T10:00:00.000Z',
    client: '10.0.1.5:40000',
    listener: 'lsn-1',
    pool: 'pool-1',
    member: 'mbr-1',
    method: 'GET',
    path: '/',
    status: 200,
    bytesIn: 78,
    bytesOut: 190,
    durationMs: 0.412,
    upstreamMs: 0.2,
  };
  const cases: AccessRecord[] = [
    base,
    { ...base, path: '/a"b\\c\u00e9\u0001', method: 'PROPFIND' },
    { ...base, pool: null, member: null, upstreamMs: null, status: 503 },
    {
      time: base.time,
      client: '127.0.0.1:1',
      listener: 'l',
      pool: 'p',
      member: 'm',
      status: 200,
      bytesIn: 1e6,
      bytesOut: 0,
      durationMs: 12345.678,
      upstreamMs: null,
    },
  ];
  for (const r of cases) {
    const line = formatRecord(r);
    assert.equal(line, JSON.stringify(r));
    assert.deepEqual(JSON.parse(line), r);
  }
});

test('asciiJson is JSON of the same string, in ASCII alone', () => {
  for (const v of ['lsn-1', 'a"b\\c', 'naïve-☃', '\u007f\u0080', '']) {
    const j = asciiJson(v);
    assert.match(j, /^[\x20-\x7e]*$/);
    assert.equal(JSON.parse(j), v);
  }
});

test('numbers, durations and paths are written as JSON.stringify writes them', () => {
  const buf = Buffer.alloc(64);
  const ms = [0, 0.0004, 0.0005, 0.001, 0.309, 1.2, 12, 12.3456, 999.9999, 1000, 0.01, 0.1, 5.05, 0.045, 123456.789];
  for (let i = 0; i < 2000; i++) ms.push(Math.random() * 10 ** (Math.floor(Math.random() * 6) - 2));
  for (const x of ms) assert.equal(buf.toString('latin1', 0, putMillis(buf, 0, x)), JSON.stringify(Math.round(x * 1000) / 1000), String(x));
  for (const n of [0, 7, 10, 99, 100, 200, 404, 65535, 1234567890, 2 ** 40]) assert.equal(buf.toString('latin1', 0, putInt(buf, 0, n)), String(n));
  for (const path of ['/', '/a"b', '/c\\d', '/%22"\\x']) {
    const src = Buffer.from(path, 'latin1');
    assert.equal(buf.toString('latin1', 0, putEscaped(buf, 0, src, 0, src.length)), JSON.stringify(path).slice(1, -1), path);
  }
});

test('the access log rotates: past its size the file becomes .1 and a new one starts; lb logs reads across both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-rotate-'));
  try {
    const file = join(dir, 'access.log');
    const log = new AccessLog(file, 1000);
    const rec = (i: number): AccessRecord => ({
      time: '2026-11-27T10:00:00.000Z',
      client: '127.0.0.1:1',
      listener: 'l',
      pool: 'p',
      member: 'm',
      method: 'GET',
      path: `/${i}`,
      status: 200,
      bytesIn: 1,
      bytesOut: 2,
      durationMs: 0.1,
      upstreamMs: null,
    });
    const batch = async (from: number) => {
      for (let i = from; i < from + 10; i++) log.write(rec(i));
      await new Promise((r) => setTimeout(r, 120)); // past the 50 ms flush
    };
    await batch(0);
    await batch(10);
    await batch(20);
    await log.close();
    const paths = (f: string) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).path);
    assert.ok(existsSync(`${file}.1`), 'rotated');
    assert.deepEqual(
      paths(file),
      Array.from({ length: 10 }, (_, i) => `/${20 + i}`),
      'the file holds the newest batch',
    );
    assert.deepEqual(
      paths(`${file}.1`),
      Array.from({ length: 10 }, (_, i) => `/${10 + i}`),
      '.1 holds the one before (older ones are gone)',
    );
    assert.deepEqual(
      readAccessLog(file, 15).map((l) => l.path),
      Array.from({ length: 15 }, (_, i) => `/${15 + i}`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the last n JSON lines, oldest first, however long the lines and the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-tail-'));
  try {
    const file = join(dir, 'access.log');
    assert.deepEqual(tailJsonLines(file, 5), [], 'no file yet: no lines');
    // Lines far longer than the first guess (512 bytes a line), and a cut last line being written.
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 7 === 0 ? 3000 : 10) }));
    writeFileSync(file, lines.join('\n') + '\n{"i": 30');
    assert.deepEqual(
      tailJsonLines(file, 3).map((l) => (l as { i: number }).i),
      [297, 298, 299],
    );
    assert.deepEqual(
      tailJsonLines(file, 40).map((l) => (l as { i: number }).i),
      Array.from({ length: 40 }, (_, k) => 260 + k),
    );
    assert.equal(tailJsonLines(file, 1000).length, 300, 'fewer lines than asked: all of them');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
