import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neighborLimits } from './neighbors.js';

test("a lab the machine's neighbor table holds changes nothing", () => {
  assert.equal(neighborLimits(128, { thresh2: 512, thresh3: 1024 }), null);
  assert.equal(neighborLimits(3, { thresh2: 512, thresh3: 1024 }), null);
});

test('a thousand servers raise the limits to 8 entries apiece, and never lower what is set', () => {
  assert.deepEqual(neighborLimits(1020, { thresh2: 512, thresh3: 1024 }), { thresh2: 4080, thresh3: 8160 });
  assert.deepEqual(neighborLimits(1020, { thresh2: 6000, thresh3: 7000 }), { thresh2: 6000, thresh3: 8160 });
  assert.equal(neighborLimits(1020, { thresh2: 512, thresh3: 20_000 }), null);
});
