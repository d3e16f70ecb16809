/**
 * The access log's hand-written JSON must be exactly what JSON.stringify makes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRecord, type AccessRecord } from './observe.js';

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
