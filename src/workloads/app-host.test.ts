import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planApps, type HostedApp } from './app-host.js';

const app = (over: Partial<HostedApp> = {}): HostedApp => ({ ns: 'p-ecs-1', port: 8080, name: 'w1', ip: '10.0.0.10', ...over });

test('a served app in the same namespace plans nothing', () => {
  const plan = planApps(new Map([['ecs-1', app()]]), { served: new Map([['ecs-1', { ...app(), ino: 7 }]]), inodes: new Map([['ecs-1', 7]]) });
  assert.deepEqual([plan.open, plan.close, plan.steps], [[], [], []]);
  assert.equal(plan.wanted, true);
});

test('a new, renamed, moved or re-made server gets a socket; one no longer wanted is closed', () => {
  const served = new Map([
    ['ecs-1', { ...app(), ino: 7 }],
    ['ecs-2', { ...app({ ns: 'p-ecs-2', name: 'w2' }), ino: 8 }],
    ['ecs-3', { ...app({ ns: 'p-ecs-3', name: 'w3' }), ino: 9 }],
    ['ecs-4', { ...app({ ns: 'p-ecs-4', name: 'w4' }), ino: 10 }],
  ]);
  const desired = new Map([
    ['ecs-1', app({ name: 'w1-renamed' })],
    ['ecs-2', app({ ns: 'p-ecs-2', name: 'w2', port: 80 })],
    ['ecs-3', app({ ns: 'p-ecs-3', name: 'w3' })],
    ['ecs-5', app({ ns: 'p-ecs-5', name: 'w5' })],
  ]);
  const inodes = new Map([
    ['ecs-1', 7],
    ['ecs-2', 8],
    ['ecs-3', 99], // its namespace was made anew
    ['ecs-5', 11],
  ]);
  const plan = planApps(desired, { served, inodes });
  assert.deepEqual(
    plan.open.map(([id]) => id),
    ['ecs-2', 'ecs-3', 'ecs-5'],
  );
  assert.deepEqual(
    plan.rename.map(([id]) => id),
    ['ecs-1'],
    'a rename keeps the socket',
  );
  assert.deepEqual(plan.close, ['ecs-4']);
  assert.deepEqual(
    plan.steps.map((s) => `${s.ns} ${s.object} ${s.action}`),
    [
      'p-ecs-1 web app on port 8080 updated',
      'p-ecs-2 web app on port 80 updated',
      'p-ecs-3 web app on port 8080 updated',
      'p-ecs-5 web app on port 8080 created',
      'p-ecs-4 web app on port 8080 deleted',
    ],
  );
});

test('a server whose namespace is not made yet waits, with no socket and no error', () => {
  const plan = planApps(new Map([['ecs-1', app()]]), { served: new Map(), inodes: new Map([['ecs-1', null]]) });
  assert.deepEqual([plan.open, plan.waiting], [[], 1]);
});

test('no app wanted: the app host is not wanted either', () => {
  const plan = planApps(new Map(), { served: new Map(), inodes: new Map() });
  assert.equal(plan.wanted, false);
});
