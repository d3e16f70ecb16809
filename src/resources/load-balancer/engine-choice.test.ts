import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseL7Engine } from './engine-choice.js';

test('auto takes HAProxy wherever it is installed; without it Nimbus own engine, saying why', () => {
  assert.deepEqual(chooseL7Engine('auto', '/usr/sbin/haproxy'), { engine: 'haproxy', reason: 'HAProxy (/usr/sbin/haproxy)' });
  const notInstalled = chooseL7Engine('auto', null);
  assert.equal(notInstalled.engine, 'builtin');
  assert.match(notInstalled.reason, /haproxy is not installed/);
});

test('a named engine is taken as asked; HAProxy asked for and missing is an error', () => {
  assert.equal(chooseL7Engine('haproxy', '/usr/sbin/haproxy').engine, 'haproxy');
  assert.equal(chooseL7Engine('builtin', '/usr/sbin/haproxy').engine, 'builtin');
  assert.throws(() => chooseL7Engine('haproxy', null), /haproxy is not installed/);
});
