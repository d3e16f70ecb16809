/**
 * A load balancer's provisioning status, case by case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { provisioningStatus, type ProvisioningFacts } from './provisioning.js';

const facts = (over: Partial<ProvisioningFacts>): ProvisioningFacts => ({
  changePending: false,
  hasListeners: true,
  worker: { ready: true, sent: 1, applied: 1, opening: 0 },
  everApplied: true,
  known: true,
  ...over,
});

test('ACTIVE only when the worker runs the latest configuration; PENDING_CREATE before the first, PENDING_UPDATE after', () => {
  const table: [string, Partial<ProvisioningFacts>, string][] = [
    ['running its latest configuration', {}, 'ACTIVE'],
    ['no listener: nothing to run', { hasListeners: false, worker: null, everApplied: false }, 'ACTIVE'],
    ['just created, not yet seen by a pass', { changePending: true, known: false, hasListeners: false, worker: null, everApplied: false }, 'PENDING_CREATE'],
    ['first listener, worker starting', { worker: null, everApplied: false }, 'PENDING_CREATE'],
    ['worker up, first configuration not yet acknowledged', { worker: { ready: true, sent: 1, applied: 0, opening: 0 }, everApplied: false }, 'PENDING_CREATE'],
    ['worker up, nothing sent yet', { worker: { ready: true, sent: 0, applied: 0, opening: 0 }, everApplied: false }, 'PENDING_CREATE'],
    ['a change not yet reconciled', { changePending: true }, 'PENDING_UPDATE'],
    ['a newer configuration not yet acknowledged', { worker: { ready: true, sent: 3, applied: 2, opening: 0 } }, 'PENDING_UPDATE'],
    ['the worker restarting after it ran', { worker: { ready: false, sent: 0, applied: 0, opening: 0 } }, 'PENDING_UPDATE'],
    ['applied, its public IP socket still being opened', { worker: { ready: true, sent: 2, applied: 2, opening: 1 } }, 'PENDING_UPDATE'],
    ['a change to a load balancer without listeners', { changePending: true, hasListeners: false, worker: null }, 'PENDING_UPDATE'],
  ];
  for (const [why, over, want] of table) assert.equal(provisioningStatus(facts(over)), want, why);
});
