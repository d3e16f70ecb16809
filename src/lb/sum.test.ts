import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sumSnapshots } from './sum.js';

test('the counters of several workers add up; a member is up if any worker sees it up', () => {
  const l = (connections: number, ok: number) => ({ connections, refused: 0, active: 1, requests: { '2xx': ok }, bytesIn: 10, bytesOut: 20 });
  const m = (requests: number, up: number) => ({ requests, connectFailures: 1, active: 0, up, redispatched: 0 });
  const sum = sumSnapshots([
    { listeners: { a: l(3, 2) }, members: { x: m(2, 1), y: m(1, 0) } },
    { listeners: { a: { ...l(4, 4), requests: { '2xx': 4, '5xx': 1 } } }, members: { x: m(5, 0), y: m(1, 0) } },
  ]);
  assert.deepEqual(sum.listeners.a, { connections: 7, refused: 0, active: 2, requests: { '2xx': 6, '5xx': 1 }, bytesIn: 20, bytesOut: 40 });
  assert.deepEqual(sum.members.x, { requests: 7, connectFailures: 2, active: 0, up: 1, redispatched: 0 });
  assert.equal(sum.members.y.up, 0);
  assert.deepEqual(sumSnapshots([]), { listeners: {}, members: {} });
});
