import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOGUE, NimbusError } from './errors.js';

test('docs/errors.md lists exactly the codes of the catalogue, with their statuses', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| `([^`]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
  const catalogue = Object.entries(ERROR_CATALOGUE).map(([code, v]) => [code, v.status]);
  assert.deepEqual(documented, catalogue);
});

test('a NimbusError takes its status from the catalogue', () => {
  const e = new NimbusError('DependencyViolation', 'x');
  assert.equal(e.status, 409);
  assert.equal(new NimbusError('InvalidVpcID.NotFound', 'x').status, 404);
  assert.equal(new NimbusError('InvalidParameterValue', 'x').status, 400);
});
