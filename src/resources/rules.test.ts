/**
 * Every rule of DESIGN.md, through the services: refused with its code, the message naming
 * the value at fault, and nothing changed by a refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryCloud, refuses } from '../../test/helpers/cloud.js';
import { createVpc, deleteVpc, getVpc, listVpcs, updateVpc } from './vpc/service.js';
import { createSubnet, deleteSubnet, getSubnet } from './subnet/service.js';
import { createServer, deleteServer, listServers } from './server/service.js';
import { addRule, createSecurityGroup, deleteSecurityGroup, getSecurityGroup, listSecurityGroups, removeRule } from './security-group/service.js';
import { addRoute, associate, createRouteTable, deleteRouteTable, getRouteTable, removeRoute } from './route-table/service.js';
import { acceptPeering, createPeering, deletePeering, getPeering, listPeerings, rejectPeering } from './peering/service.js';
import { deleteProject } from './project/service.js';

function lab() {
  const cloud = memoryCloud();
  const { ctx } = cloud;
  const a = createVpc(ctx, { name: 'vpc-a', cidr: '192.168.6.0/24' });
  const b = createVpc(ctx, { name: 'vpc-b', cidr: '192.168.5.0/24' });
  createSubnet(ctx, { name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
  createSubnet(ctx, { name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
  return { ...cloud, a, b };
}

test('rule 1: a VPC CIDR must be private with a prefix from /8 to /28, stored with host bits cleared', () => {
  const { ctx } = memoryCloud();
  refuses(() => createVpc(ctx, { name: 'v', cidr: '8.8.8.0/24' }), 'InvalidVpc.Range', '8.8.8.0/24');
  refuses(() => createVpc(ctx, { name: 'v', cidr: '10.0.0.0/7' }), 'InvalidVpc.Range', '10.0.0.0/7');
  refuses(() => createVpc(ctx, { name: 'v', cidr: '10.0.0.0/29' }), 'InvalidVpc.Range', '10.0.0.0/29');
  refuses(() => createVpc(ctx, { name: 'v', cidr: '172.32.0.0/16' }), 'InvalidVpc.Range', '172.32.0.0/16');
  refuses(() => createVpc(ctx, { name: 'v', cidr: 'ten' }), 'InvalidParameterValue', 'ten');
  assert.equal(listVpcs(ctx).length, 0, 'refusals create nothing');
  assert.equal(createVpc(ctx, { name: 'v', cidr: '10.1.2.3/16' }).cidr, '10.1.0.0/16');
  assert.equal(createVpc(ctx, { name: 'w', cidr: '172.16.0.0/28' }).cidr, '172.16.0.0/28');
});

test('names are unique per project and kind, and must not look like ids', () => {
  const { ctx, other } = memoryCloud();
  createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' });
  refuses(() => createVpc(ctx, { name: 'v', cidr: '10.1.0.0/16' }), 'NameInUse', "'v'");
  refuses(() => createVpc(ctx, { name: 'vpc-0123456789abcdef', cidr: '10.1.0.0/16' }), 'InvalidParameterValue', 'vpc-0123456789abcdef');
  refuses(() => createVpc(ctx, { name: 'has space', cidr: '10.1.0.0/16' }), 'InvalidParameterValue', 'has space');
  assert.equal(createVpc(other('p2'), { name: 'v', cidr: '10.0.0.0/16' }).name, 'v', 'another project may reuse the name');
});

test('each VPC gets a main route table holding its local route', () => {
  const { ctx, a } = lab();
  const t = getRouteTable(ctx, a.mainRouteTableId);
  assert.equal(t.main, true);
  assert.deepEqual(t.routes, [{ destination: '192.168.6.0/24', target: { type: 'local' }, state: 'active' }]);
  assert.deepEqual(t.subnetIds, [getSubnet(ctx, 'sub-a').id]);
});

test('rule 2: a subnet lies inside its VPC, is /28 or larger, and overlaps no sibling', () => {
  const { ctx } = lab();
  refuses(() => createSubnet(ctx, { name: 's', vpc: 'vpc-a', cidr: '192.168.7.0/25' }), 'InvalidSubnet.Range', '192.168.7.0/25');
  refuses(() => createSubnet(ctx, { name: 's', vpc: 'vpc-a', cidr: '192.168.6.128/29' }), 'InvalidSubnet.Range', '192.168.6.128/29');
  refuses(() => createSubnet(ctx, { name: 's', vpc: 'vpc-a', cidr: '192.168.6.64/26' }), 'InvalidSubnet.Conflict', 'sub-a');
  refuses(() => createSubnet(ctx, { name: 's', vpc: 'nope', cidr: '192.168.6.128/25' }), 'InvalidVpcID.NotFound', 'nope');
  const s = createSubnet(ctx, { name: 's', vpc: 'vpc-a', cidr: '192.168.6.128/28' });
  assert.equal(s.gatewayIp, '192.168.6.129');
  assert.equal(s.availableIpCount, 11);
});

test('rule 3: a private IP must be inside the subnet, not reserved and free; a full subnet refuses', () => {
  const { ctx } = lab();
  refuses(() => createServer(ctx, { name: 'x', subnet: 'sub-a', ip: '192.168.6.200' }), 'InvalidIPAddress.Range', '192.168.6.200');
  for (const ip of ['192.168.6.0', '192.168.6.1', '192.168.6.125', '192.168.6.126', '192.168.6.127']) {
    refuses(() => createServer(ctx, { name: 'x', subnet: 'sub-a', ip }), 'InvalidIPAddress.Reserved', ip);
  }
  createServer(ctx, { name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76' });
  refuses(() => createServer(ctx, { name: 'x', subnet: 'sub-a', ip: '192.168.6.76' }), 'InvalidIPAddress.InUse', '192.168.6.76');
  assert.equal(createServer(ctx, { name: 'auto', subnet: 'sub-a' }).privateIp, '192.168.6.2', 'lowest free address');
  createVpc(ctx, { name: 'tiny', cidr: '10.9.0.0/28' });
  createSubnet(ctx, { name: 'tiny-s', vpc: 'tiny', cidr: '10.9.0.0/28' });
  for (let i = 0; i < 11; i++) createServer(ctx, { name: `t${i}`, subnet: 'tiny-s' });
  refuses(() => createServer(ctx, { name: 't11', subnet: 'tiny-s' }), 'InsufficientFreeAddressesInSubnet', 'tiny-s');
  assert.equal(getSubnet(ctx, 'tiny-s').availableIpCount, 0);
  deleteServer(ctx, 't3');
  assert.equal(createServer(ctx, { name: 't11', subnet: 'tiny-s' }).privateIp, '10.9.0.5', 'a freed address is reused');
});

test('rule 4: new servers join the default group; it admits its members and cannot be deleted', () => {
  const { ctx } = lab();
  const def = getSecurityGroup(ctx, 'default');
  assert.equal(def.isDefault, true);
  assert.deepEqual(
    def.rules.map((r) => [r.direction, r.protocol, r.remote]),
    [
      ['ingress', 'all', { groupId: def.id }],
      ['egress', 'all', { cidr: '0.0.0.0/0' }],
    ],
  );
  const s = createServer(ctx, { name: 'ecs-a', subnet: 'sub-a' });
  assert.deepEqual(s.securityGroupIds, [def.id]);
  refuses(() => deleteSecurityGroup(ctx, 'default'), 'CannotDelete', 'default');
});

test('rule 4: duplicate groups and rules are refused; a group in use cannot be deleted', () => {
  const { ctx } = lab();
  const web = createSecurityGroup(ctx, { name: 'web' });
  assert.deepEqual(
    web.rules.map((r) => r.direction),
    ['egress'],
    'a new group allows all outbound and nothing inbound',
  );
  refuses(() => createSecurityGroup(ctx, { name: 'web' }), 'InvalidGroup.Duplicate', 'web');
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '0.0.0.0/0' });
  refuses(() => addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '0.0.0.0/0' }), 'InvalidPermission.Duplicate');
  refuses(() => addRule(ctx, 'web', { direction: 'ingress', protocol: 'icmp', ports: '80', remote: '0.0.0.0/0' }), 'InvalidParameterValue', '80');
  refuses(() => addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '90-80', remote: '0.0.0.0/0' }), 'InvalidParameterValue', '90-80');
  refuses(() => addRule(ctx, 'web', { direction: 'sideways' as 'ingress', protocol: 'tcp', remote: '0.0.0.0/0' }), 'InvalidParameterValue', 'sideways');
  refuses(() => addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', remote: 'nosuchgroup' }), 'InvalidGroupID.NotFound', 'nosuchgroup');
  const withGroup = addRule(ctx, 'default', { direction: 'ingress', protocol: 'tcp', ports: '22', remote: 'web' });
  refuses(() => deleteSecurityGroup(ctx, 'web'), 'DependencyViolation', 'web');
  removeRule(ctx, 'default', withGroup.rules[withGroup.rules.length - 1].id);
  createServer(ctx, { name: 'ecs-a', subnet: 'sub-a', securityGroups: ['web'] });
  refuses(() => deleteSecurityGroup(ctx, 'web'), 'DependencyViolation', 'ecs-');
  deleteServer(ctx, 'ecs-a');
  deleteSecurityGroup(ctx, 'web');
  assert.deepEqual(
    listSecurityGroups(ctx).map((g) => g.name),
    ['default'],
  );
});

test('rule 5: a peering joins two different, non-overlapping VPCs, once per pair', () => {
  const { ctx } = lab();
  createVpc(ctx, { name: 'vpc-o', cidr: '192.168.6.128/25' });
  refuses(() => createPeering(ctx, { name: 'p', vpc: 'vpc-a', peerVpc: 'vpc-o' }), 'InvalidVpcPeeringConnection.OverlappingCidr', '192.168.6.128/25');
  refuses(() => createPeering(ctx, { name: 'p', vpc: 'vpc-a', peerVpc: 'vpc-a' }), 'InvalidVpcPeeringConnection.OverlappingCidr', 'vpc-a');
  const p = createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  assert.equal(p.status, 'active', 'within one project a peering is active at once');
  refuses(() => createPeering(ctx, { name: 'pcx-ba', vpc: 'vpc-b', peerVpc: 'vpc-a' }), 'VpcPeeringConnectionAlreadyExists', p.id);
  deletePeering(ctx, 'pcx-ab');
  assert.equal(createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-b', peerVpc: 'vpc-a' }).status, 'active', 'a deleted peering frees the pair and the name');
});

test('rule 5: across projects a peering waits for the accepter, and only the accepter may answer', () => {
  const { ctx, other } = lab();
  const bob = other('bob');
  createVpc(bob, { name: 'vpc-z', cidr: '10.0.0.0/16' });
  const p = createPeering(ctx, { name: 'pcx-az', vpc: 'vpc-a', peerVpc: 'vpc-z', peerProject: 'bob' });
  assert.equal(p.status, 'pending-acceptance');
  assert.equal(getPeering(bob, 'pcx-az').id, p.id, 'the accepter sees it');
  refuses(() => acceptPeering(ctx, 'pcx-az'), 'OperationNotPermitted', 'pcx-az');
  assert.equal(acceptPeering(bob, 'pcx-az').status, 'active');
  refuses(() => acceptPeering(bob, 'pcx-az'), 'InvalidStateTransition', 'active');
  refuses(() => rejectPeering(bob, 'pcx-az'), 'InvalidStateTransition', 'active');
  createVpc(bob, { name: 'vpc-y', cidr: '10.1.0.0/16' });
  createPeering(ctx, { name: 'pcx-ay', vpc: 'vpc-a', peerVpc: 'vpc-y', peerProject: 'bob' });
  assert.equal(rejectPeering(bob, 'pcx-ay').status, 'rejected');
  assert.deepEqual(
    listPeerings(bob).map((x) => [x.name, x.status]),
    [
      ['pcx-az', 'active'],
      ['pcx-ay', 'rejected'],
    ],
  );
  refuses(() => createPeering(ctx, { name: 'p', vpc: 'vpc-a', peerVpc: 'vpc-z', peerProject: 'nobody' }), 'InvalidProjectID.NotFound', 'nobody');
});

test("rule 6: route destinations are unique per table, never the VPC's own range, and target a peering of the VPC", () => {
  const { ctx, other } = lab();
  createVpc(ctx, { name: 'vpc-c', cidr: '10.3.0.0/16' });
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  createPeering(ctx, { name: 'pcx-bc', vpc: 'vpc-b', peerVpc: 'vpc-c' });
  const t = addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.0/24', target: 'pcx-ab' });
  assert.deepEqual(t.routes[1], { destination: '192.168.5.0/24', target: { type: 'peering', peeringId: getPeering(ctx, 'pcx-ab').id }, state: 'active' });
  refuses(() => addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.0/24', target: 'pcx-ab' }), 'RouteAlreadyExists', '192.168.5.0/24');
  refuses(() => addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.6.128/25', target: 'pcx-ab' }), 'InvalidRoute.Conflict', '192.168.6.128/25');
  refuses(() => addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.6.0/24', target: 'pcx-ab' }), 'InvalidRoute.Conflict', '192.168.6.0/24');
  refuses(() => addRoute(ctx, { vpc: 'vpc-a', destination: '10.3.0.0/16', target: 'pcx-bc' }), 'InvalidVpcPeeringConnectionID.NotFound', 'pcx-bc');
  refuses(() => addRoute(ctx, { vpc: 'vpc-a', destination: '10.3.0.0/16', target: 'pcx-zz' }), 'InvalidVpcPeeringConnectionID.NotFound', 'pcx-zz');
  refuses(() => addRoute(ctx, { vpc: 'vpc-a', destination: '10.3.0.0/99', target: 'pcx-ab' }), 'InvalidParameterValue', '10.3.0.0/99');
  assert.equal(getRouteTable(ctx, getVpc(ctx, 'vpc-a').mainRouteTableId).routes.length, 2, 'refusals add nothing');
  assert.equal(addRoute(ctx, { vpc: 'vpc-a', destination: '0.0.0.0/0', target: 'blackhole' }).routes[2].state, 'blackhole');
  refuses(() => removeRoute(ctx, { vpc: 'vpc-a', destination: '192.168.6.0/24' }), 'InvalidParameterValue', 'local');
  refuses(() => removeRoute(ctx, { vpc: 'vpc-a', destination: '10.9.0.0/16' }), 'InvalidRoute.NotFound', '10.9.0.0/16');
  // Another project's route table looks exactly like an unknown one.
  refuses(() => addRoute(other('eve'), { routeTable: t.id, destination: '10.0.0.0/8', target: 'blackhole' }), 'InvalidRouteTableID.NotFound', t.id);
});

test('rule 6: a route through a peering that is deleted or not yet active is a blackhole', () => {
  const { ctx, other } = lab();
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.0/24', target: 'pcx-ab' });
  deletePeering(ctx, 'pcx-ab');
  assert.equal(getPeering(ctx, 'pcx-ab').status, 'deleted');
  assert.equal(getRouteTable(ctx, 'vpc-a-main').routes[1].state, 'blackhole');
  const bob = other('bob');
  createVpc(bob, { name: 'vpc-z', cidr: '10.0.0.0/16' });
  createPeering(ctx, { name: 'pcx-az', vpc: 'vpc-a', peerVpc: 'vpc-z', peerProject: 'bob' });
  assert.equal(addRoute(ctx, { vpc: 'vpc-a', destination: '10.0.0.0/16', target: 'pcx-az' }).routes[2].state, 'blackhole');
  acceptPeering(bob, 'pcx-az');
  assert.equal(getRouteTable(ctx, 'vpc-a-main').routes[2].state, 'active');
  assert.equal(
    addRoute(bob, { vpc: 'vpc-z', destination: '192.168.6.0/24', target: 'pcx-az' }).routes[1].state,
    'active',
    'the accepter routes through it too',
  );
});

test('subnets move between route tables of their own VPC only', () => {
  const { ctx, a } = lab();
  const custom = createRouteTable(ctx, { name: 'rt-custom', vpc: 'vpc-a' });
  assert.deepEqual(associate(ctx, 'rt-custom', 'sub-a').subnetIds, [getSubnet(ctx, 'sub-a').id]);
  assert.deepEqual(getRouteTable(ctx, a.mainRouteTableId).subnetIds, []);
  refuses(() => associate(ctx, 'rt-custom', 'sub-b'), 'InvalidParameterValue', 'sub-b');
  refuses(() => deleteRouteTable(ctx, 'rt-custom'), 'DependencyViolation', 'sub');
  refuses(() => deleteRouteTable(ctx, a.mainRouteTableId), 'DependencyViolation', 'vpc-a-main');
  associate(ctx, a.mainRouteTableId, 'sub-a');
  assert.equal(deleteRouteTable(ctx, custom.id).id, custom.id);
});

test('rule 8: deleting what is in use is refused; unknown and foreign ids are not found', () => {
  const { ctx, other } = lab();
  createServer(ctx, { name: 'ecs-a', subnet: 'sub-a' });
  refuses(() => deleteSubnet(ctx, 'sub-a'), 'DependencyViolation', 'ecs-');
  refuses(() => deleteVpc(ctx, 'vpc-a'), 'DependencyViolation', 'subnet-');
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  deleteServer(ctx, 'ecs-a');
  deleteSubnet(ctx, 'sub-a');
  refuses(() => deleteVpc(ctx, 'vpc-a'), 'DependencyViolation', 'pcx-');
  deletePeering(ctx, 'pcx-ab');
  deleteVpc(ctx, 'vpc-a');
  refuses(() => getVpc(ctx, 'vpc-a'), 'InvalidVpcID.NotFound', 'vpc-a');
  refuses(() => getVpc(ctx, 'vpc-0000000000000000'), 'InvalidVpcID.NotFound', 'vpc-0000000000000000');
  const eve = other('eve');
  const b = getVpc(ctx, 'vpc-b');
  refuses(() => getVpc(eve, b.id), 'InvalidVpcID.NotFound', b.id);
  refuses(() => updateVpc(eve, b.id, { name: 'stolen' }), 'InvalidVpcID.NotFound');
  refuses(() => deleteProject(ctx, 'default'), 'CannotDelete');
  assert.deepEqual(listServers(ctx), []);
});

test('a refused write inside a transaction leaves nothing behind', () => {
  const { ctx, store } = lab();
  const before = store.db.prepare('SELECT COUNT(*) AS n FROM resources').get() as { n: number };
  // The security group of a server is resolved after its IP: this fails late, inside the transaction.
  refuses(() => createServer(ctx, { name: 'late', subnet: 'sub-a', ip: '192.168.6.10', securityGroups: ['missing'] }), 'InvalidGroupID.NotFound');
  const after = store.db.prepare('SELECT COUNT(*) AS n FROM resources').get() as { n: number };
  assert.equal(after.n, before.n);
  assert.equal(getSubnet(ctx, 'sub-a').availableIpCount, 123);
});
