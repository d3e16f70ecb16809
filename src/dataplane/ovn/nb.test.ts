/**
 * The northbound mapping and its plan, pure: what a lab becomes in OVN's tables, that a plan
 * against what it made is empty, that a change touches only what it changes, and the matches
 * security-group rules and route tables become.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from '../../net/topology.js';
import type { AclRule, SecurityGroupRule } from '../../core/model/index.js';
import { resolverEndpoints } from './resolver.js';
import { desiredNb, macOf, naclEgressPolicies, naclIngressAcls, type Policy, peeringLinks, planNb, ruleMatch, type ObservedUnit, type Unit } from './nb.js';

const rule = (over: Partial<SecurityGroupRule>): SecurityGroupRule =>
  ({ id: 'r', direction: 'ingress', protocol: 'all', portRange: null, remote: { cidr: '0.0.0.0/0' }, ...over }) as SecurityGroupRule;

/** The reference lab: two VPCs peered, a server in each, every server in the default group. */
function lab(over: { ecsBGroups?: string[]; extraServer?: boolean; routesB?: { destination: string; target: object }[] } = {}): Snapshot {
  const server = (id: string, subnetId: string, vpcId: string, privateIp: string, groups = ['sg-default']) => ({
    id,
    name: id,
    projectId: 'p',
    vpcId,
    subnetId,
    privateIp,
    securityGroupIds: groups,
    app: null,
    loopbackIp: '',
    status: 'running',
    createdAt: '',
  });
  return {
    vpcs: [
      { id: 'vpc-a', name: 'vpc-a', projectId: 'p', cidr: '192.168.6.0/24', mainRouteTableId: 'rtb-a' },
      { id: 'vpc-b', name: 'vpc-b', projectId: 'p', cidr: '192.168.5.0/24', mainRouteTableId: 'rtb-b' },
    ],
    subnets: [
      {
        id: 'subnet-a',
        name: 'sub-a',
        projectId: 'p',
        vpcId: 'vpc-a',
        cidr: '192.168.6.0/25',
        gatewayIp: '192.168.6.1',
        routeTableId: 'rtb-a',
        createdAt: '1',
      },
      {
        id: 'subnet-b',
        name: 'sub-b',
        projectId: 'p',
        vpcId: 'vpc-b',
        cidr: '192.168.5.0/24',
        gatewayIp: '192.168.5.1',
        routeTableId: 'rtb-b',
        createdAt: '1',
      },
    ],
    servers: [
      server('ecs-a', 'subnet-a', 'vpc-a', '192.168.6.76'),
      server('ecs-b', 'subnet-b', 'vpc-b', '192.168.5.130', over.ecsBGroups),
      ...(over.extraServer ? [server('ecs-c', 'subnet-b', 'vpc-b', '192.168.5.2')] : []),
    ],
    securityGroups: [
      {
        id: 'sg-default',
        name: 'default',
        projectId: 'p',
        isDefault: true,
        rules: [rule({ id: 'r1', remote: { groupId: 'sg-default' } }), rule({ id: 'r2', direction: 'egress' })],
      },
      { id: 'sg-closed', name: 'closed', projectId: 'p', isDefault: false, rules: [] },
    ],
    routeTables: [
      {
        id: 'rtb-a',
        name: 'vpc-a-main',
        vpcId: 'vpc-a',
        main: true,
        routes: [
          { destination: '192.168.6.0/24', target: { type: 'local' } },
          { destination: '192.168.5.0/24', target: { type: 'peering', peeringId: 'pcx-ab' } },
        ],
      },
      {
        id: 'rtb-b',
        name: 'vpc-b-main',
        vpcId: 'vpc-b',
        main: true,
        routes: [
          { destination: '192.168.5.0/24', target: { type: 'local' } },
          ...(over.routesB ?? [{ destination: '192.168.6.0/25', target: { type: 'peering', peeringId: 'pcx-ab' } }]),
        ],
      },
    ],
    peerings: [{ id: 'pcx-ab', name: 'pcx-ab', projectId: 'p', requesterVpcId: 'vpc-a', accepterVpcId: 'vpc-b', accepterProjectId: 'p', status: 'active' }],
  } as unknown as Snapshot;
}

const desired = (s: Snapshot) => desiredNb(s, 'tx', () => 'ch1');

/** What the database holds once a plan for `units` was applied: each unit with a uuid, port groups with their members'. */
function applied(units: Unit[]): ObservedUnit[] {
  const uuidOf = (u: { table: string; key: string }) => `uuid-${u.table}-${u.key}`;
  return units.map((u) => ({
    table: u.table,
    key: u.key,
    uuid: uuidOf(u),
    digest: u.digest,
    ports:
      u.table === 'Port_Group'
        ? (u.members ?? []).map((m) => uuidOf({ table: 'Logical_Switch_Port', key: m }))
        : u.table === 'Logical_Switch'
          ? units.filter((p) => p.table === 'Logical_Switch_Port' && p.parent === u.key).map(uuidOf)
          : undefined,
    lbs: u.table === 'Logical_Switch' ? (u.lbs ?? []).map((k) => uuidOf({ table: 'Load_Balancer', key: k })) : undefined,
  }));
}

test('the lab becomes a router per VPC, a switch per subnet, a port per server, a port group per security group', () => {
  const units = desired(lab());
  const keys = (table: string) =>
    units
      .filter((u) => u.table === table)
      .map((u) => u.key)
      .sort();
  assert.deepEqual(keys('Logical_Router'), ['vpc-a', 'vpc-b']);
  assert.deepEqual(keys('Logical_Switch'), ['subnet-a', 'subnet-b']);
  assert.deepEqual(
    keys('Logical_Switch_Port'),
    ['ecs-a', 'ecs-b', 'sp-subnet-a', 'sp-subnet-b'],
    "the servers' ports and each switch's port towards its router",
  );
  assert.deepEqual(keys('Port_Group'), ['pg_tx_drop', 'rt:rtb-a', 'rt:rtb-b', 'sg-closed', 'sg-default']);
  const a = units.find((u) => u.key === 'vpc-a')!;
  const ports = a.children.filter((c) => c.table === 'Logical_Router_Port').map((c) => c.row.name);
  assert.deepEqual(ports, ['rp-subnet-a', 'pp-pcx-ab-vpc-a']);
  const policies = a.children.filter((c) => c.table === 'Logical_Router_Policy').map((c) => [c.row.priority, c.row.match, c.row.action]);
  assert.deepEqual(policies, [
    [1024, 'inport == "rp-subnet-a" && ip4.dst == 192.168.5.0/24', 'reroute'],
    [30000, 'inport == "pp-pcx-ab-vpc-a" && ip4 && !(ip4.dst == {192.168.6.0/25})', 'drop'],
  ]);
  assert.deepEqual(
    a.children.filter((c) => c.table === 'Logical_Router_Static_Route').map((c) => c.row.ip_prefix),
    ['192.168.5.0/24'],
  );
  const port = units.find((u) => u.key === 'ecs-a')!;
  assert.equal(port.row.enabled, true);
  assert.deepEqual(port.row.options, ['map', [['requested-chassis', 'ch1']]]);
});

test('a plan against what it made is empty; the first plan makes everything, in one transaction', () => {
  const units = desired(lab());
  const first = planNb(units, []);
  assert.equal(first.steps.filter((s) => s.action === 'create').length, units.length);
  assert.ok(first.ops.every((o) => o.op === 'insert' || o.op === 'mutate'));
  const again = planNb(units, applied(units));
  assert.deepEqual(again, { steps: [], ops: [] });
});

test("a server's groups change: its port stays, the groups' members change, nothing else", () => {
  const before = desired(lab());
  const after = desired(lab({ ecsBGroups: ['sg-closed'] }));
  const plan = planNb(after, applied(before));
  assert.ok(
    !plan.steps.some((s) => s.table === 'Logical_Switch_Port' || s.table === 'Logical_Router' || s.table === 'Logical_Switch'),
    JSON.stringify(plan.steps),
  );
  assert.ok(plan.steps.some((s) => s.key === 'sg-closed' && s.action === 'members'));
});

test('a server added: its port made and added to its switch; no router or switch made again', () => {
  const before = desired(lab());
  const plan = planNb(desired(lab({ extraServer: true })), applied(before));
  assert.deepEqual(
    plan.steps.filter((s) => s.action !== 'members'),
    [
      { action: 'replace', table: 'Port_Group', key: 'sg-default' },
      { action: 'create', table: 'Logical_Switch_Port', key: 'ecs-c' },
    ].sort((x, y) => x.table.localeCompare(y.table)),
  );
  assert.ok(plan.ops.some((o) => o.op === 'mutate' && o.table === 'Logical_Switch' && JSON.stringify(o.where).includes('uuid-Logical_Switch-subnet-b')));
});

test('a route table without a destination another subnet routes gets a drop for it; a covering route decides for it', () => {
  const units = desired(lab({ routesB: [{ destination: '192.168.0.0/16', target: { type: 'peering', peeringId: 'pcx-ab' } }] }));
  const b = units.find((u) => u.key === 'vpc-b')!;
  const policies = b.children.filter((c) => c.table === 'Logical_Router_Policy').map((c) => [c.row.match, c.row.action]);
  assert.deepEqual(policies[0], ['inport == "rp-subnet-b" && ip4.dst == 192.168.0.0/16', 'reroute']);
  const noRoute = desired(lab({ routesB: [{ destination: '192.168.6.0/25', target: { type: 'blackhole' } }] }));
  const nb = noRoute.find((u) => u.key === 'vpc-b')!;
  assert.deepEqual(
    nb.children.filter((c) => c.table === 'Logical_Router_Static_Route').map((c) => c.row.nexthop),
    ['discard'],
  );
  assert.equal(nb.children.find((c) => c.table === 'Logical_Router_Policy')!.row.action, 'drop');
});

test('security-group rules become ACL matches: ports, ICMP type and code, all ports, the whole internet', () => {
  assert.equal(ruleMatch(rule({ protocol: 'tcp', portRange: { from: 22, to: 22 } }), 'pg_x'), 'outport == @pg_x && ip4 && tcp && tcp.dst == 22');
  assert.equal(
    ruleMatch(rule({ protocol: 'udp', portRange: { from: 8000, to: 9000 }, remote: { cidr: '10.0.0.0/8' } }), 'pg_x'),
    'outport == @pg_x && ip4 && ip4.src == 10.0.0.0/8 && udp && udp.dst >= 8000 && udp.dst <= 9000',
  );
  assert.equal(ruleMatch(rule({ protocol: 'tcp', portRange: { from: 0, to: 65535 } }), 'pg_x'), 'outport == @pg_x && ip4 && tcp');
  assert.equal(
    ruleMatch(rule({ protocol: 'icmp', icmp: { type: 8, code: 0 } }), 'pg_x'),
    'outport == @pg_x && ip4 && icmp4 && icmp4.type == 8 && icmp4.code == 0',
  );
  assert.equal(ruleMatch(rule({ direction: 'egress', remote: { cidr: '192.168.0.0/16' } }), 'pg_x'), 'inport == @pg_x && ip4 && ip4.dst == 192.168.0.0/16');
});

test('a group rule admits its members as the server’s own routing sees them, not strangers sharing an address', () => {
  const s = lab();
  // ecs-b is in default too, but vpc-a reaches it only through the peering: its address is still seen (routed there).
  const units = desired(s);
  const acl = units.find((u) => u.key === 'sg-default')!.children.filter((c) => c.row.direction === 'to-lport');
  assert.deepEqual(
    acl.map((c) => c.row.match),
    [
      'outport == @pg_sg_default && ip4 && ip4.src == {192.168.5.130, 192.168.6.76} && outport == @pg_rt_rtb_a',
      'outport == @pg_sg_default && ip4 && ip4.src == {192.168.5.130, 192.168.6.76} && outport == @pg_rt_rtb_b',
    ],
  );
  // Without vpc-b's return route, vpc-a's table still reaches ecs-b; vpc-b's table no longer reaches ecs-a.
  const oneWay = desired(lab({ routesB: [] }));
  const m = oneWay
    .find((u) => u.key === 'sg-default')!
    .children.filter((c) => c.row.direction === 'to-lport')
    .map((c) => c.row.match);
  assert.ok(m.includes('outport == @pg_sg_default && ip4 && ip4.src == {192.168.5.130} && outport == @pg_rt_rtb_b'), m.join('\n'));
});

test('peering links: a /30 each, distinct even when their ids would choose the same', () => {
  const links = peeringLinks(Array.from({ length: 200 }, (_, i) => `pcx-${i}`));
  const blocks = new Set([...links.values()].map((l) => l.requester.split('.').slice(0, 3).join('.') + '/' + (Number(l.requester.split('.')[3]) >> 2)));
  assert.equal(blocks.size, 200);
  for (const l of links.values()) assert.equal(Number(l.accepter.split('.')[3]), Number(l.requester.split('.')[3]) + 1);
});

test("a TCP listener is OVN's load balancer on its clients' switches; a member's change replaces it and repoints them, nothing else", () => {
  const vip = (backends: string[]) => [{ key: 'lsn-1', vip: '192.168.5.9:9090', backends, clientSubnets: ['subnet-a', 'subnet-b'] }];
  const before = desiredNb(lab(), 'tx', () => 'ch1', vip(['192.168.5.130:8080', '192.168.6.76:8080']));
  const lb = before.find((u) => u.table === 'Load_Balancer')!;
  assert.deepEqual(lb.row.vips, ['map', [['192.168.5.9:9090', '192.168.5.130:8080,192.168.6.76:8080']]]);
  assert.deepEqual(
    before.filter((u) => u.table === 'Logical_Switch').map((u) => u.lbs),
    [['lsn-1'], ['lsn-1']],
  );
  assert.deepEqual(planNb(before, applied(before)), { steps: [], ops: [] });
  const after = desiredNb(lab(), 'tx', () => 'ch1', vip(['192.168.5.130:8080']));
  const plan = planNb(after, applied(before));
  assert.deepEqual(plan.steps, [
    { action: 'replace', table: 'Load_Balancer', key: 'lsn-1' },
    { action: 'members', table: 'Logical_Switch', key: 'subnet-a' },
    { action: 'members', table: 'Logical_Switch', key: 'subnet-b' },
  ]);
  // No member at all: no load balancer (connections reach the listener's own engine).
  assert.equal(desiredNb(lab(), 'tx', () => 'ch1', vip([])).filter((u) => u.table === 'Load_Balancer').length, 0);
});

test("a pool's health monitor is OVN's own check: a health-check row for the VIP, each backend mapped to its port and source; inserted with the load balancer", () => {
  const health = { interval: 2, timeout: 1, successCount: 2, failureCount: 3, mappings: { '192.168.5.130': 'ecs-b:192.168.5.254' } };
  const units = desiredNb(lab(), 'tx', () => 'ch1', [
    { key: 'lsn-1', vip: '192.168.5.9:9090', backends: ['192.168.5.130:8080'], clientSubnets: ['subnet-b'], health },
  ]);
  const lb = units.find((u) => u.table === 'Load_Balancer')!;
  assert.deepEqual(lb.row.ip_port_mappings, ['map', [['192.168.5.130', 'ecs-b:192.168.5.254']]]);
  assert.deepEqual(lb.children, [
    {
      table: 'Load_Balancer_Health_Check',
      column: 'health_check',
      row: {
        vip: '192.168.5.9:9090',
        options: [
          'map',
          [
            ['failure_count', '3'],
            ['interval', '2'],
            ['success_count', '2'],
            ['timeout', '1'],
          ],
        ],
      },
    },
  ]);
  const ops = planNb(units, []).ops;
  const check = ops.find((o) => o.op === 'insert' && o.table === 'Load_Balancer_Health_Check') as { 'uuid-name': string } | undefined;
  const made = ops.find((o) => o.op === 'insert' && o.table === 'Load_Balancer') as { row: Record<string, unknown> } | undefined;
  assert.ok(check && made, 'both inserted');
  assert.deepEqual(made.row.health_check, ['set', [['named-uuid', check['uuid-name']]]]);
  // A changed check makes the load balancer anew.
  const changed = desiredNb(lab(), 'tx', () => 'ch1', [
    { key: 'lsn-1', vip: '192.168.5.9:9090', backends: ['192.168.5.130:8080'], clientSubnets: ['subnet-b'], health: { ...health, failureCount: 5 } },
  ]);
  assert.notEqual(changed.find((u) => u.table === 'Load_Balancer')!.digest, lb.digest);
});

const acl = (number: number, direction: 'ingress' | 'egress', action: 'allow' | 'deny', over: Partial<AclRule> = {}): AclRule => ({
  number,
  direction,
  action,
  protocol: 'all',
  portRange: null,
  cidr: '0.0.0.0/0',
  ...over,
});

test("a network ACL's inbound rules become stateless ACLs on the subnet's router port, in their order, ending in a drop", () => {
  const rules = [
    acl(200, 'ingress', 'deny', { protocol: 'tcp', portRange: { from: 1, to: 65535 } }),
    acl(100, 'ingress', 'allow', { protocol: 'tcp', portRange: { from: 80, to: 80 }, cidr: '10.0.1.0/24' }),
    acl(300, 'ingress', 'allow', { protocol: 'icmp', icmp: { type: 8 } }),
    acl(10, 'egress', 'allow'),
  ];
  assert.deepEqual(
    naclIngressAcls(rules, 'sp-x').map((r) => [r.direction, r.priority, r.action, r.match]),
    [
      ['from-lport', 32766, 'allow-stateless', 'inport == "sp-x" && ip4 && ip4.src == 10.0.1.0/24 && tcp && tcp.dst == 80'],
      ['from-lport', 32765, 'drop', 'inport == "sp-x" && ip4 && tcp'],
      ['from-lport', 32764, 'allow-stateless', 'inport == "sp-x" && ip4 && icmp4 && icmp4.type == 8'],
      ['from-lport', 32763, 'drop', 'inport == "sp-x" && ip4'],
    ],
  );
  assert.deepEqual(
    naclIngressAcls([], 'sp-x').map((r) => [r.action, r.match]),
    [['drop', 'inport == "sp-x" && ip4']],
    'no rule: * denies everything',
  );
});

test("a network ACL's outbound rules become router policies in blocks, each allow taking the subnet's route policies in", () => {
  const routes: Policy[] = [
    { priority: 1024, match: 'inport == "rp-x" && ip4.dst == 10.9.0.0/24', action: 'reroute', nexthops: ['169.254.0.2'] },
    { priority: 1016, match: 'inport == "rp-x" && ip4.dst == 10.9.0.0/16', action: 'drop' },
  ];
  const rules = [
    acl(200, 'egress', 'allow', { protocol: 'udp', portRange: { from: 1000, to: 2000 } }),
    acl(100, 'egress', 'deny', { cidr: '10.9.0.0/24', protocol: 'tcp', portRange: { from: 22, to: 22 } }),
    acl(5, 'ingress', 'deny'),
  ];
  const p = naclEgressPolicies(rules, 'rp-x', routes);
  assert.deepEqual(
    p.map((x) => [x.priority, x.action, x.match, x.nexthops ?? null]),
    [
      [32700, 'drop', 'inport == "rp-x" && ip4 && ip4.dst == 10.9.0.0/24 && tcp && tcp.dst == 22', null],
      [32651, 'reroute', 'inport == "rp-x" && ip4.dst == 10.9.0.0/24 && udp && udp.dst >= 1000 && udp.dst <= 2000', ['169.254.0.2']],
      [32643, 'drop', 'inport == "rp-x" && ip4.dst == 10.9.0.0/16 && udp && udp.dst >= 1000 && udp.dst <= 2000', null],
      [32621, 'allow', 'inport == "rp-x" && ip4 && udp && udp.dst >= 1000 && udp.dst <= 2000', null],
      [32620, 'drop', 'inport == "rp-x" && ip4', null],
    ],
  );
  const all = naclEgressPolicies([acl(100, 'egress', 'allow'), acl(200, 'egress', 'deny')], 'rp-x', routes);
  assert.deepEqual(
    all.map((x) => [x.priority, x.action, x.match]),
    [
      [32691, 'reroute', routes[0].match],
      [32683, 'drop', routes[1].match],
      [32661, 'allow', 'inport == "rp-x" && ip4'],
    ],
    'an allow of everything: the routes as they are, and nothing after it',
  );
});

test("a subnet's ACL: a port group holding its router port (inbound), its router's policies (outbound); each changes alone", () => {
  const open = lab();
  open.networkAcls = [
    {
      id: 'acl-a',
      name: 'a',
      projectId: 'p',
      vpcId: 'vpc-a',
      isDefault: true,
      rules: [acl(100, 'ingress', 'allow'), acl(100, 'egress', 'allow')],
      createdAt: '',
    },
  ];
  const before = desiredNb(open, 'nb', () => 'ch1');
  const group = before.find((u) => u.table === 'Port_Group' && u.key === 'nacl:subnet-a')!;
  assert.equal(group.row.name, 'pg_nacl_subnet_a');
  assert.deepEqual(group.members, ['sp-subnet-a']);
  assert.ok(before.some((u) => u.table === 'Logical_Switch_Port' && u.key === 'sp-subnet-a' && u.parent === 'subnet-a'));
  assert.ok(!before.some((u) => u.key === 'nacl:subnet-b'), 'a subnet of a VPC without an ACL has no group');
  const inbound = lab();
  inbound.networkAcls = [{ ...open.networkAcls[0], rules: [acl(100, 'ingress', 'allow', { protocol: 'icmp' }), acl(100, 'egress', 'allow')] }];
  assert.deepEqual(
    planNb(
      desiredNb(inbound, 'nb', () => 'ch1'),
      applied(before),
    ).steps,
    [{ action: 'replace', table: 'Port_Group', key: 'nacl:subnet-a' }],
  );
  const outbound = lab();
  outbound.networkAcls = [{ ...open.networkAcls[0], rules: [acl(100, 'ingress', 'allow'), acl(100, 'egress', 'allow', { protocol: 'icmp' })] }];
  const after = desiredNb(outbound, 'nb', () => 'ch1');
  assert.deepEqual(planNb(after, applied(before)).steps, [{ action: 'replace', table: 'Logical_Router', key: 'vpc-a' }]);
  const policies = after
    .find((u) => u.key === 'vpc-a')!
    .children.filter((c) => c.table === 'Logical_Router_Policy')
    .map((c) => [c.row.priority, c.row.match, c.row.action]);
  assert.deepEqual(policies, [
    [32691, 'inport == "rp-subnet-a" && ip4.dst == 192.168.5.0/24 && icmp4', 'reroute'],
    [32661, 'inport == "rp-subnet-a" && ip4 && icmp4', 'allow'],
    [32660, 'inport == "rp-subnet-a" && ip4', 'drop'],
    [30000, 'inport == "pp-pcx-ab-vpc-a" && ip4 && !(ip4.dst == {192.168.6.0/25})', 'drop'],
  ]);
});

test("a VPC's DNS resolver is an endpoint in each subnet at .253; the first subnet's also holds 169.254.169.253, which its router sends there", () => {
  const s = lab();
  s.subnets.push({ ...s.subnets[0], id: 'subnet-a2', name: 'sub-a2', cidr: '192.168.6.128/25', gatewayIp: '192.168.6.129', createdAt: '2' });
  const resolvers = resolverEndpoints(s.vpcs, s.subnets);
  assert.deepEqual(
    resolvers.map((r) => [r.id, r.subnetId, r.privateIp, r.aws, r.securityGroupIds]),
    [
      ['dns-a', 'subnet-a', '192.168.6.125', true, []],
      ['dns-a2', 'subnet-a2', '192.168.6.253', false, []],
      ['dns-b', 'subnet-b', '192.168.5.253', true, []],
    ],
  );
  const units = desiredNb(s, 'nb', () => 'ch1', [], resolvers);
  const security = (id: string) => units.find((u) => u.table === 'Logical_Switch_Port' && u.key === id)!.row.port_security;
  assert.deepEqual(security('dns-a'), ['set', [`${macOf('dns-a')} 192.168.6.125 169.254.169.253`]]);
  assert.deepEqual(security('dns-a2'), ['set', [`${macOf('dns-a2')} 192.168.6.253`]]);
  const routes = units
    .find((u) => u.key === 'vpc-a')!
    .children.filter((c) => c.table === 'Logical_Router_Static_Route')
    .map((c) => [c.row.ip_prefix, c.row.nexthop]);
  assert.deepEqual(routes.at(-1), ['169.254.169.253/32', '192.168.6.125']);
  assert.ok(!desiredNb(s, 'nb', () => 'ch1').some((u) => u.children.some((c) => c.row.ip_prefix === '169.254.169.253/32')), 'no route without a resolver');
  const off = lab();
  off.vpcs = off.vpcs.map((v) => (v.id === 'vpc-a' ? { ...v, enableDnsSupport: false } : v));
  assert.deepEqual(
    resolverEndpoints(off.vpcs, off.subnets).map((r) => r.id),
    ['dns-b'],
    'no resolver where DNS is off',
  );
});

test("an internet gateway is a router port bound to the gateway chassis, its VPC's elastic IPs OVN's 1:1 NAT, its link a localnet switch; the VPC's own addresses stay local under 0.0.0.0/0", () => {
  const s = lab();
  s.internetGateways = [{ id: 'igw-0123456789abcdef', name: 'gw', projectId: 'p', vpcId: 'vpc-a', createdAt: '' }] as Snapshot['internetGateways'];
  s.elasticIps = [
    { id: 'eipalloc-1', name: 'ip', projectId: 'p', publicIp: '127.0.1.42', serverId: 'ecs-a', privateIp: '192.168.6.76', createdAt: '' },
  ] as Snapshot['elasticIps'];
  s.routeTables[0].routes.push({ destination: '0.0.0.0/0', target: { type: 'internetGateway', gatewayId: 'igw-0123456789abcdef' } } as never);
  const units = desiredNb(s, 'nb', () => 'ch1', [], [], { chassis: 'ch1' });
  const router = units.find((u) => u.key === 'vpc-a')!;
  const gc = router.children.find((c) => c.table === 'Gateway_Chassis')!;
  assert.deepEqual([gc.row.chassis_name, gc.column], ['ch1', null]);
  const gp = router.children.find((c) => c.table === 'Logical_Router_Port' && c.row.name === 'gp-igw-0123456789abcdef')!;
  assert.deepEqual(gp.row.gateway_chassis, ['set', [['named-uuid', gc.name]]]);
  assert.match(String((gp.row.networks as ['set', string[]])[1][0]), /^169\.254\.\d+\.\d+\/30$/);
  assert.deepEqual(
    router.children.filter((c) => c.table === 'NAT').map((c) => [c.row.type, c.row.external_ip, c.row.logical_ip]),
    [['dnat_and_snat', '100.64.1.42', '192.168.6.76']],
    'the elastic IP as the link knows it: OVN drops 127/8',
  );
  const policies = router.children.filter((c) => c.table === 'Logical_Router_Policy').map((c) => [c.row.priority, c.row.match, c.row.action]);
  assert.deepEqual(policies.slice(0, 3), [
    [1000, 'inport == "rp-subnet-a" && ip4.dst == 0.0.0.0/0', 'reroute'],
    [1024, 'inport == "rp-subnet-a" && ip4.dst == 192.168.5.0/24', 'reroute'],
    [1024, 'inport == "rp-subnet-a" && ip4.dst == 192.168.6.0/24', 'allow'],
  ]);
  const ext = units.find((u) => u.table === 'Logical_Switch' && u.key === 'ext:igw-0123456789abcdef')!;
  assert.deepEqual(
    ext.children.map((c) => [c.row.name, c.row.type]),
    [
      ['ln-igw-0123456789abcdef', 'localnet'],
      ['xp-igw-0123456789abcdef', 'router'],
    ],
  );
  const none = desiredNb(s, 'nb', () => 'ch1');
  assert.ok(
    !none.some((u) => u.key.startsWith('ext:')) && !none.find((u) => u.key === 'vpc-a')!.children.some((c) => c.table === 'NAT'),
    'no gateway chassis: no edge',
  );
});
