/**
 * The access log's hand-written JSON must be exactly what JSON.stringify makes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asciiJson, formatRecord, type AccessRecord } from './observe.js';
import { millis } from './http/proxy.js';

test('an access record is formatted as JSON.stringify would, escapes included', () => {
  const base: AccessRecord = { time: '2026-11-27T10:00:00.000Z', client: '10.0.1.5:40000', listener: 'lsn-1', pool: 'pool-1', member: 'mbr-1', method: 'GET', path: '/', status: 200, bytesIn: 78, bytesOut: 190, durationMs: 0.412, upstreamMs: 0.2 };
  const cases: AccessRecord[] = [
    base,
    { ...base, path: '/a"b\\c\u00e9\u0001', method: 'PROPFIND' },
    { ...base, pool: null, member: null, upstreamMs: null, status: 503 },
    { time: base.time, client: '127.0.0.1:1', listener: 'l', pool: 'p', member: 'm', status: 200, bytesIn: 1e6, bytesOut: 0, durationMs: 12345.678, upstreamMs: null },
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

test('millis prints a duration as JSON prints it rounded to the microsecond', () => {
  const cases = [0, 0.0004, 0.0005, 0.001, 0.309, 1.2, 12, 12.3456, 999.9999, 1000, 0.01, 0.1, 5.05, 123456.789];
  for (let i = 0; i < 2000; i++) cases.push(Math.random() * 10 ** (Math.floor(Math.random() * 6) - 2));
  for (const ms of cases) assert.equal(millis(ms), JSON.stringify(Math.round(ms * 1000) / 1000), String(ms));
});
