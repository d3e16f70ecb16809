import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseL7Engine, kernelPathOf } from './engine-choice.js';

test('auto takes HAProxy where it is installed and the kernel brings it the public IP; elsewhere Nimbus own engine, saying why', () => {
  const linux = kernelPathOf('linux', 'kernel');
  assert.equal(linux, 'available');
  assert.deepEqual(chooseL7Engine('auto', '/usr/sbin/haproxy', linux), { engine: 'haproxy', reason: 'HAProxy (/usr/sbin/haproxy)' });
  const notInstalled = chooseL7Engine('auto', null, linux);
  assert.equal(notInstalled.engine, 'builtin');
  assert.match(notInstalled.reason, /haproxy is not installed/);
  for (const path of [kernelPathOf('virtual', 'kernel'), kernelPathOf('linux', 'user-space')]) {
    const c = chooseL7Engine('auto', '/usr/sbin/haproxy', path);
    assert.equal(c.engine, 'builtin');
    assert.ok(c.reason.includes(path) && c.reason.includes('--l7-engine haproxy'), c.reason);
  }
});

test('a named engine is taken as asked, on either plane; HAProxy asked for and missing is an error', () => {
  const virtual = kernelPathOf('virtual', 'kernel');
  assert.equal(chooseL7Engine('haproxy', '/usr/sbin/haproxy', virtual).engine, 'haproxy');
  assert.equal(chooseL7Engine('builtin', '/usr/sbin/haproxy', 'available').engine, 'builtin');
  assert.throws(() => chooseL7Engine('haproxy', null, 'available'), /haproxy is not installed/);
});
