/**
 * Cascade deletes: a load balancer with everything it holds (Octavia's cascade), and a VPC
 * with everything in it, each in one transaction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceLab, refuses } from '../../test/helpers/cloud.js';
import { deleteVpc, vpcDependants } from './vpc/service.js';
import { createPeering, getPeering } from './peering/service.js';
import { addRoute, createRouteTable, getRouteTable } from './route-table/service.js';
import { createHealthMonitor, createListener, createLoadBalancer, createMember, createPool, deleteLoadBalancer } from './load-balancer/service.js';

function lab() {
  const cloud = referenceLab();
  const { ctx } = cloud;
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  addRoute(ctx, { vpc: 'vpc-b', destination: '192.168.6.0/25', target: 'pcx-ab' });
  createRouteTable(ctx, { name: 'rt-x', vpc: 'vpc-a' });
  createLoadBalancer(ctx, { name: 'elb', subnet: 'sub-b' });
  createPool(ctx, { name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
  createListener(ctx, { name: 'http80', loadBalancer: 'elb', protocol: 'http', port: 80, defaultPool: 'web' });
  createMember(ctx, { pool: 'web', server: 'ecs-a', port: 8080, name: 'm-a' });
  createMember(ctx, { pool: 'web', server: 'ecs-b', port: 8080, name: 'm-b' });
  createHealthMonitor(ctx, { pool: 'web', type: 'http' });
  return cloud;
}

const count = (store: ReturnType<typeof lab>['store'], kind: Parameters<ReturnType<typeof lab>['store']['list']>[0]) => store.list(kind).length;

test('a load balancer is deleted with its listeners, pools, members and monitor when asked to cascade', () => {
  const { ctx, store } = lab();
  refuses(() => deleteLoadBalancer(ctx, 'elb'), 'DependencyViolation', "listener 'http80'");
  assert.equal(count(store, 'member'), 2, 'the refusal changed nothing');
  deleteLoadBalancer(ctx, 'elb', { cascade: true });
  for (const kind of ['loadBalancer', 'listener', 'pool', 'member', 'healthMonitor'] as const) assert.equal(count(store, kind), 0, kind);
});

test('a VPC is deleted with everything in it when asked to cascade, and the peer side keeps a blackhole route', () => {
  const { ctx, store } = lab();
  refuses(() => deleteVpc(ctx, 'vpc-a'), 'DependencyViolation', "subnet 'sub-a'");
  const goes = vpcDependants(ctx, 'vpc-a').map((d) => `${d.kind} ${d.name}`);
  assert.deepEqual(
    goes,
    ['member m-a', 'server ecs-a', 'subnet sub-a', 'routeTable rt-x', 'peering pcx-ab'],
    'the member of a load balancer elsewhere goes with its server',
  );
  deleteVpc(ctx, 'vpc-a', { cascade: true });
  assert.equal(count(store, 'vpc'), 1);
  assert.deepEqual(
    store.list<{ name: string }>('server').map((s) => s.name),
    ['ecs-b'],
  );
  assert.deepEqual(
    store.list<{ name: string }>('member').map((m) => m.name),
    ['m-b'],
  );
  assert.equal(getPeering(ctx, 'pcx-ab').status, 'deleted');
  assert.equal(getRouteTable(ctx, 'vpc-b-main').routes.find((r) => r.destination === '192.168.6.0/25')?.state, 'blackhole');
});

test("a VPC's own load balancers go with it", () => {
  const { ctx, store } = lab();
  deleteVpc(ctx, 'vpc-b', { cascade: true });
  for (const kind of ['loadBalancer', 'listener', 'pool', 'member', 'healthMonitor'] as const) assert.equal(count(store, kind), 0, kind);
  assert.deepEqual(
    store.list<{ name: string }>('vpc').map((v) => v.name),
    ['vpc-a'],
  );
});
