/**
 * Octavia's rule through the services: while a load balancer is PENDING_*, a change to it or
 * to any child is refused with 409 ImmutableObject and changes nothing; ACTIVE and ERROR take
 * changes; without a live status (the services alone) nothing is refused for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryCloud, refuses } from '../../../test/helpers/cloud.js';
import { createVpc } from '../vpc/service.js';
import { createSubnet } from '../subnet/service.js';
import { createServer } from '../server/service.js';
import { createLoadBalancer, updateLoadBalancer, deleteLoadBalancer } from './load-balancer.js';
import { createListener, deleteListener, updateListener } from './listener.js';
import { createPool, deletePool, updatePool } from './pool.js';
import { createMember, deleteMember, updateMember } from './member.js';
import { createHealthMonitor, deleteHealthMonitor, updateHealthMonitor } from './health-monitor.js';
import type { Ctx } from '../context.js';

function lb() {
  const { ctx, store } = memoryCloud();
  createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' });
  createSubnet(ctx, { name: 's', vpc: 'v', cidr: '10.0.0.0/24' });
  createServer(ctx, { name: 'e', subnet: 's' });
  createServer(ctx, { name: 'f', subnet: 's' });
  createLoadBalancer(ctx, { name: 'lb', subnet: 's' });
  createPool(ctx, { name: 'p', loadBalancer: 'lb', protocol: 'http', algorithm: 'round_robin' });
  createListener(ctx, { name: 'l', loadBalancer: 'lb', protocol: 'http', port: 80, defaultPool: 'p' });
  createMember(ctx, { name: 'm', pool: 'p', server: 'e', port: 8080 });
  createHealthMonitor(ctx, { name: 'hm', pool: 'p', type: 'tcp', delay: 5, timeout: 3 });
  createPool(ctx, { name: 'bare', loadBalancer: 'lb', protocol: 'http', algorithm: 'round_robin' });
  return { ctx, store };
}

const CHANGES: [string, (ctx: Ctx) => unknown][] = [
  ['update the load balancer', (c) => updateLoadBalancer(c, 'lb', { name: 'lb2' })],
  ['delete the load balancer', (c) => deleteLoadBalancer(c, 'lb', { cascade: true })],
  ['create a listener', (c) => createListener(c, { name: 'l2', loadBalancer: 'lb', protocol: 'http', port: 81, defaultPool: 'p' })],
  ['update a listener', (c) => updateListener(c, 'l', { name: 'l3' })],
  ['delete a listener', (c) => deleteListener(c, 'l')],
  ['create a pool', (c) => createPool(c, { name: 'p2', loadBalancer: 'lb', protocol: 'http', algorithm: 'round_robin' })],
  ['update a pool', (c) => updatePool(c, 'p', { algorithm: 'least_connections' })],
  ['delete a pool', (c) => deletePool(c, 'p')],
  ['add a member', (c) => createMember(c, { name: 'm2', pool: 'p', server: 'f', port: 8080 })],
  ['update a member', (c) => updateMember(c, 'm', { weight: 0 })],
  ['delete a member', (c) => deleteMember(c, 'm')],
  ['create a health monitor', (c) => createHealthMonitor(c, { name: 'hm2', pool: 'bare', type: 'tcp', delay: 5, timeout: 3 })],
  ['update a health monitor', (c) => updateHealthMonitor(c, 'hm', { delay: 6 })],
  ['delete a health monitor', (c) => deleteHealthMonitor(c, 'hm')],
];

test('while PENDING_UPDATE, every change to a load balancer or a child is ImmutableObject and changes nothing', () => {
  for (const status of ['PENDING_UPDATE', 'PENDING_CREATE', 'PENDING_DELETE']) {
    const { ctx, store } = lb();
    const busy: Ctx = { ...ctx, lbProvisioning: () => status };
    const before = JSON.stringify(['loadBalancer', 'listener', 'pool', 'member', 'healthMonitor'].map((k) => store.list(k as 'pool')));
    for (const [what, change] of CHANGES) {
      try {
        change(busy);
        assert.fail(`${what} was taken while ${status}`);
      } catch (err) {
        assert.equal((err as { code: string }).code, 'ImmutableObject', `${what}: ${(err as Error).message}`);
        assert.match((err as Error).message, new RegExp(`'lb' is ${status}`));
      }
    }
    assert.equal(JSON.stringify(['loadBalancer', 'listener', 'pool', 'member', 'healthMonitor'].map((k) => store.list(k as 'pool'))), before);
  }
});

test('ACTIVE and ERROR take changes', () => {
  for (const status of ['ACTIVE', 'ERROR']) {
    const { ctx } = lb();
    const c: Ctx = { ...ctx, lbProvisioning: () => status };
    const order = [
      ...CHANGES.filter(([w]) => !w.startsWith('delete') && w !== 'update the load balancer'),
      ...CHANGES.filter(([w]) => w === 'update the load balancer'),
    ];
    for (const [what, change] of order) assert.doesNotThrow(() => change(c), what);
    refuses(
      () => createPool({ ...ctx, lbProvisioning: () => 'PENDING_UPDATE' }, { name: 'p9', loadBalancer: 'lb2', protocol: 'http', algorithm: 'round_robin' }),
      'ImmutableObject',
    );
  }
});
