import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withResolvers } from './status.js';

const plane = { kind: 'linux' as const, reason: '', errors: [], converged: true, changes: { seen: 10, done: 9 } };

test('resolvers with nothing left to do hold back no change', () => {
  assert.deepEqual(withResolvers(plane, null), plane);
});

test('resolvers with work left: only the changes their last pass took in are done', () => {
  assert.deepEqual(withResolvers(plane, 7).changes, { seen: 10, done: 7 });
  assert.deepEqual(withResolvers(plane, 10).changes, { seen: 10, done: 9 }, 'never more than the data plane did');
});
