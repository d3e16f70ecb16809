/**
 * The load balancer's rules (Octavia's), through the services: each refusal with its code,
 * the value at fault in the message, and nothing changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceLab, refuses } from '../../../test/helpers/cloud.js';
import { createVpc } from '../vpc/service.js';
import { createSubnet, deleteSubnet, getSubnet } from '../subnet/service.js';
import { createServer, deleteServer } from '../server/service.js';
import { createPeering, deletePeering } from '../peering/service.js';
import { createListener, createLoadBalancer, createPool, deleteLoadBalancer, deletePool, deleteListener, updatePool } from './service.js';
import { createHealthMonitor, createMember, deleteMember, deleteHealthMonitor, updateMember } from './service.js';

function lab() {
  const cloud = referenceLab();
  const { ctx } = cloud;
  createVpc(ctx, { name: 'vpc-c', cidr: '10.0.0.0/16' });
  createSubnet(ctx, { name: 'sub-c', vpc: 'vpc-c', cidr: '10.0.1.0/24' });
  createServer(ctx, { name: 'ecs-c', subnet: 'sub-c' });
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  return cloud;
}

test('a load balancer takes a VIP of its subnet (given or allocated) and an optional public IP from 127.0.1.0/24', () => {
  const { ctx } = lab();
  const free = getSubnet(ctx, 'sub-b').availableIpCount;
  const lb = createLoadBalancer(ctx, { name: 'elb', subnet: 'sub-b', vip: '192.168.5.10', publicIp: true });
  assert.equal(lb.vip, '192.168.5.10');
  assert.match(lb.publicIp ?? '', /^127\.0\.1\.([1-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])$/, 'a free address of the pool');
  assert.equal(getSubnet(ctx, 'sub-b').availableIpCount, free - 1);
  refuses(() => createServer(ctx, { name: 'x', subnet: 'sub-b', ip: '192.168.5.10' }), 'InvalidIPAddress.InUse', '192.168.5.10');
  refuses(() => createLoadBalancer(ctx, { name: 'lb2', subnet: 'sub-b', vip: '192.168.5.130' }), 'InvalidIPAddress.InUse', '192.168.5.130');
  refuses(() => createLoadBalancer(ctx, { name: 'lb2', subnet: 'sub-b', vip: '192.168.6.10' }), 'InvalidIPAddress.Range', '192.168.6.10');
  refuses(() => createLoadBalancer(ctx, { name: 'lb2', subnet: 'sub-b', publicIp: lb.publicIp! }), 'InvalidPublicIp.InUse', lb.publicIp!);
  refuses(() => createLoadBalancer(ctx, { name: 'lb2', subnet: 'sub-b', publicIp: '127.0.0.1' }), 'InvalidPublicIp.Range', '127.0.0.1');
  assert.equal(createLoadBalancer(ctx, { name: 'lb2', subnet: 'sub-b' }).vip, '192.168.5.2', 'the lowest free address');
  refuses(() => deleteSubnet(ctx, 'sub-b'), 'DependencyViolation', 'lb-');
});

test('listener ports are unique per load balancer and a listener pool must match its load balancer and protocol', () => {
  const { ctx } = lab();
  createLoadBalancer(ctx, { name: 'elb', subnet: 'sub-b' });
  createLoadBalancer(ctx, { name: 'other', subnet: 'sub-b' });
  createPool(ctx, { name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
  createPool(ctx, { name: 'tcp', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'least_connections' });
  createPool(ctx, { name: 'elsewhere', loadBalancer: 'other', protocol: 'http', algorithm: 'round_robin' });
  createListener(ctx, { name: 'http80', loadBalancer: 'elb', protocol: 'http', port: 80, defaultPool: 'web' });
  refuses(() => createListener(ctx, { name: 'again', loadBalancer: 'elb', protocol: 'tcp', port: 80 }), 'DuplicateListener', '80');
  assert.equal(createListener(ctx, { name: 'o80', loadBalancer: 'other', protocol: 'http', port: 80 }).port, 80, 'another load balancer may use the port');
  refuses(() => createListener(ctx, { name: 'x', loadBalancer: 'elb', protocol: 'http', port: 81, defaultPool: 'tcp' }), 'InvalidPool.ProtocolMismatch', 'tcp');
  refuses(
    () => createListener(ctx, { name: 'x', loadBalancer: 'elb', protocol: 'http', port: 81, defaultPool: 'elsewhere' }),
    'InvalidPool.ProtocolMismatch',
    'elsewhere',
  );
  refuses(() => createListener(ctx, { name: 'x', loadBalancer: 'elb', protocol: 'udp', port: 81 }), 'InvalidParameterValue', 'udp');
  refuses(() => createListener(ctx, { name: 'x', loadBalancer: 'elb', protocol: 'http', port: 70000 }), 'InvalidParameterValue', '70000');
  refuses(() => deletePool(ctx, 'web'), 'DependencyViolation', 'lsn-');
  refuses(() => deleteLoadBalancer(ctx, 'elb'), 'DependencyViolation', 'elb');
  deleteListener(ctx, 'http80');
  deletePool(ctx, 'web');
});

test('persistence: APP_COOKIE needs a cookie name; SOURCE_IP algorithm takes none; cookies need HTTP', () => {
  const { ctx } = lab();
  createLoadBalancer(ctx, { name: 'elb', subnet: 'sub-b' });
  refuses(
    () => createPool(ctx, { name: 'p', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin', persistence: 'app_cookie' }),
    'InvalidParameterValue',
    'cookieName',
  );
  refuses(
    () => createPool(ctx, { name: 'p', loadBalancer: 'elb', protocol: 'http', algorithm: 'source_ip', persistence: 'http_cookie' }),
    'InvalidParameterValue',
    'SOURCE_IP',
  );
  refuses(
    () => createPool(ctx, { name: 'p', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'round_robin', persistence: 'http_cookie' }),
    'InvalidParameterValue',
    'TCP',
  );
  refuses(() => createPool(ctx, { name: 'p', loadBalancer: 'elb', protocol: 'http', algorithm: 'random' }), 'InvalidParameterValue', 'random');
  const p = createPool(ctx, {
    name: 'p',
    loadBalancer: 'elb',
    protocol: 'http',
    algorithm: 'round_robin',
    persistence: 'app_cookie',
    cookieName: 'JSESSIONID',
  });
  assert.deepEqual(p.sessionPersistence, { type: 'APP_COOKIE', cookieName: 'JSESSIONID' });
  refuses(() => updatePool(ctx, 'p', { algorithm: 'source_ip' }), 'InvalidParameterValue', 'SOURCE_IP');
  assert.equal(updatePool(ctx, 'p', { algorithm: 'source_ip', persistence: null }).sessionPersistence, null);
});

test('members: inside the reachable VPCs, once per address and port, weight 0-256', () => {
  const { ctx } = lab();
  createLoadBalancer(ctx, { name: 'elb', subnet: 'sub-b' });
  createPool(ctx, { name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
  const a = createMember(ctx, { pool: 'web', server: 'ecs-a', port: 8080 });
  assert.equal(a.address, '192.168.6.76', 'a peered VPC is reachable');
  refuses(() => createMember(ctx, { pool: 'web', address: '192.168.6.76', port: 8080 }), 'DuplicateMember', '192.168.6.76:8080');
  refuses(() => createMember(ctx, { pool: 'web', server: 'ecs-c', port: 8080 }), 'InvalidMember.Unreachable', 'ecs-c');
  refuses(() => createMember(ctx, { pool: 'web', address: '8.8.8.8', port: 53 }), 'InvalidMember.Unreachable', '8.8.8.8');
  refuses(() => createMember(ctx, { pool: 'web', server: 'ecs-b', port: 8080, weight: 300 }), 'InvalidParameterValue', '300');
  refuses(() => createMember(ctx, { pool: 'web', port: 8080 }), 'InvalidParameterValue', 'server');
  assert.equal(createMember(ctx, { pool: 'web', address: '192.168.5.130', port: 9000, weight: 0 }).weight, 0);
  assert.equal(updateMember(ctx, a.id, { adminStateUp: false }).adminStateUp, false);
  refuses(() => deleteServer(ctx, 'ecs-a'), 'DependencyViolation', 'mbr-');
  deleteMember(ctx, a.id);
  deleteServer(ctx, 'ecs-a');
  deletePeering(ctx, 'pcx-ab');
  createServer(ctx, { name: 'ecs-a2', subnet: 'sub-a' });
  refuses(() => createMember(ctx, { pool: 'web', server: 'ecs-a2', port: 8080 }), 'InvalidMember.Unreachable', 'ecs-a2');
});

test('health monitors: one per pool, timeout below delay, thresholds 1-10, codes and path well formed', () => {
  const { ctx } = lab();
  createLoadBalancer(ctx, { name: 'elb', subnet: 'sub-b' });
  createPool(ctx, { name: 'web', loadBalancer: 'elb', protocol: 'http', algorithm: 'round_robin' });
  refuses(() => createHealthMonitor(ctx, { pool: 'web', type: 'http', delay: 3, timeout: 3 }), 'InvalidParameterValue', 'timeout');
  refuses(() => createHealthMonitor(ctx, { pool: 'web', type: 'ping' }), 'InvalidParameterValue', 'ping');
  refuses(() => createHealthMonitor(ctx, { pool: 'web', type: 'http', maxRetriesDown: 11 }), 'InvalidParameterValue', '11');
  refuses(() => createHealthMonitor(ctx, { pool: 'web', type: 'http', expectedCodes: '2xx' }), 'InvalidParameterValue', '2xx');
  refuses(() => createHealthMonitor(ctx, { pool: 'web', type: 'http', urlPath: 'health' }), 'InvalidParameterValue', 'health');
  const h = createHealthMonitor(ctx, {
    pool: 'web',
    type: 'http',
    urlPath: '/',
    delay: 5,
    timeout: 3,
    maxRetries: 2,
    maxRetriesDown: 3,
    expectedCodes: '200-299',
  });
  assert.deepEqual([h.type, h.delay, h.timeout, h.maxRetries, h.maxRetriesDown], ['HTTP', 5, 3, 2, 3]);
  refuses(() => createHealthMonitor(ctx, { pool: 'web', type: 'tcp' }), 'DuplicateHealthMonitor', 'web');
  refuses(() => deletePool(ctx, 'web'), 'DependencyViolation', 'hm-');
  deleteHealthMonitor(ctx, h.id);
});

test("timeouts: a pool's own member timeouts (null: the listener's) and the listener's inspect delay reach the engine; out of range is refused", async () => {
  const { engineConfig } = await import('./engine-config.js');
  const { compile } = await import('../../net/topology.js');
  const { readSnapshot } = await import('../snapshot.js');
  const { ctx } = lab();
  const lb = createLoadBalancer(ctx, { name: 'elb', subnet: 'sub-b' });
  refuses(
    () => createPool(ctx, { name: 'p', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'round_robin', timeoutMemberData: 5 }),
    'InvalidParameterValue',
    'timeoutMemberData',
  );
  const p = createPool(ctx, { name: 'p', loadBalancer: 'elb', protocol: 'tcp', algorithm: 'round_robin', timeoutMemberData: 1500 });
  assert.equal(p.timeoutMemberData, 1500);
  assert.equal(p.timeoutMemberConnect, null, "absent: the listener's");
  createListener(ctx, { name: 'l', loadBalancer: 'elb', protocol: 'tcp', port: 9000, defaultPool: 'p', timeoutTcpInspect: 2000 });
  const config = () => engineConfig(ctx.store, lb, 'linux', () => compile(readSnapshot(ctx.store))).config;
  assert.deepEqual(config().pools[0].timeouts, { memberData: 1500 });
  assert.equal(config().listeners[0].timeouts?.tcpInspect, 2000);
  assert.equal(updatePool(ctx, 'p', { timeoutMemberData: null, timeoutMemberConnect: 800 }).timeoutMemberData, null);
  assert.deepEqual(config().pools[0].timeouts, { memberConnect: 800 });
  assert.equal(updatePool(ctx, 'p', { name: 'p2' }).timeoutMemberConnect, 800, 'kept when not named');
  refuses(() => updatePool(ctx, 'p2', { timeoutMemberConnect: 10_000_000 }), 'InvalidParameterValue', 'timeoutMemberConnect');
});
