/**
 * The analyzer, as tables of hop-by-hop paths: each case builds a topology through the
 * services, traces, and checks the verdict, the hops and the component that blocked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryCloud, referenceLab } from '../../test/helpers/cloud.js';
import type { Ctx } from '../resources/context.js';
import { createVpc } from '../resources/vpc/service.js';
import { createSubnet } from '../resources/subnet/service.js';
import { createServer, getServer, setServerStatus } from '../resources/server/service.js';
import { addRule, createSecurityGroup, removeRule, getSecurityGroup } from '../resources/security-group/service.js';
import { addRoute } from '../resources/route-table/service.js';
import { createPeering, deletePeering } from '../resources/peering/service.js';
import { readSnapshot } from '../resources/snapshot.js';
import { compile } from './topology.js';
import { addAclRule, associateAcl, createNetworkAcl } from '../resources/network-acl/service.js';
import { reachable, trace } from './trace.js';
import type { TraceProtocol, TraceResult } from '../core/model/index.js';
import { formatTrace, formatVirtualPing } from './format.js';

function run(ctx: Ctx, from: string, to: string, protocol: TraceProtocol = 'icmp', port?: number): TraceResult {
  return trace(compile(readSnapshot(ctx.store)), { sourceServerId: getServer(ctx, from).id, destination: to, protocol, port });
}

/** `kind name` of each hop, the way the tables below spell paths. */
function path(hops: TraceResult['forward']): string[] {
  return hops.map((h) => `${h.ok ? '' : 'DROP '}${h.kind} ${h.resourceName}`);
}

test('reference lab part 1: isolated, then one route (no way back), then both routes', () => {
  const { ctx } = referenceLab();
  const before = run(ctx, 'ecs-a', '192.168.5.130');
  assert.equal(before.reachable, false);
  assert.deepEqual(path(before.forward), ['security-group-egress default', 'DROP route vpc-a-main']);
  assert.equal(before.blockedBy?.reason, 'no route matches 192.168.5.130');

  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.0/24', target: 'pcx-ab' });
  const oneWay = run(ctx, 'ecs-a', '192.168.5.130');
  assert.equal(oneWay.reachable, false);
  assert.deepEqual(path(oneWay.forward), [
    'security-group-egress default',
    'route vpc-a-main',
    'peering pcx-ab',
    'delivery sub-b',
    'security-group-ingress default',
  ]);
  assert.deepEqual(path(oneWay.return), ['DROP route vpc-b-main']);
  assert.equal(oneWay.blockedBy?.direction, 'return');

  addRoute(ctx, { vpc: 'vpc-b', destination: '192.168.6.0/25', target: 'pcx-ab' });
  const both = run(ctx, 'ecs-a', '192.168.5.130');
  assert.equal(both.reachable, true);
  assert.deepEqual(path(both.return), ['route vpc-b-main', 'peering pcx-ab', 'delivery sub-a', 'stateful ecs-a']);
  assert.equal(both.destinationServer?.name, 'ecs-b');
  assert.equal(both.routers, 2, 'two routers: vpc-a and vpc-b');
  assert.match(formatTrace(both), /verdict: reachable \(ecs-b\)/);
  assert.match(formatVirtualPing(both, 2), /icmp_seq=2 ttl=62\n[\s\S]*2 packets transmitted, 2 received, 0% packet loss/);
  assert.equal(run(ctx, 'ecs-b', '192.168.6.76').reachable, true, 'and the other way round');
});

test('peering is not transitive: traffic over two peerings is dropped in the middle VPC', () => {
  const { ctx } = memoryCloud();
  for (const [n, c] of [
    ['a', '10.1.0.0/16'],
    ['b', '10.2.0.0/16'],
    ['c', '10.3.0.0/16'],
  ]) {
    createVpc(ctx, { name: `vpc-${n}`, cidr: c });
    createSubnet(ctx, { name: `sub-${n}`, vpc: `vpc-${n}`, cidr: c.replace('/16', '/24') });
    createServer(ctx, { name: `ecs-${n}`, subnet: `sub-${n}` });
  }
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  createPeering(ctx, { name: 'pcx-bc', vpc: 'vpc-b', peerVpc: 'vpc-c' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '10.3.0.0/16', target: 'pcx-ab' });
  addRoute(ctx, { vpc: 'vpc-b', destination: '10.3.0.0/16', target: 'pcx-bc' });
  addRoute(ctx, { vpc: 'vpc-c', destination: '10.1.0.0/16', target: 'pcx-bc' });
  addRoute(ctx, { vpc: 'vpc-b', destination: '10.1.0.0/16', target: 'pcx-ab' });
  const r = run(ctx, 'ecs-a', '10.3.0.2');
  assert.equal(r.reachable, false);
  assert.deepEqual(path(r.forward), ['security-group-egress default', 'route vpc-a-main', 'peering pcx-ab', 'DROP delivery vpc-b']);
  assert.match(r.blockedBy!.reason, /not transitive/);
});

test('overlapping CIDRs in unpeered VPCs: the same address means a different server in each', () => {
  const { ctx } = memoryCloud();
  for (const n of ['x', 'y']) {
    createVpc(ctx, { name: `vpc-${n}`, cidr: '10.0.0.0/16' });
    createSubnet(ctx, { name: `sub-${n}`, vpc: `vpc-${n}`, cidr: '10.0.1.0/24' });
    createServer(ctx, { name: `ecs-${n}1`, subnet: `sub-${n}`, ip: '10.0.1.10' });
    createServer(ctx, { name: `ecs-${n}2`, subnet: `sub-${n}`, ip: '10.0.1.20' });
  }
  const fromX = run(ctx, 'ecs-x1', '10.0.1.20');
  assert.equal(fromX.reachable, true);
  assert.equal(fromX.destinationServer?.name, 'ecs-x2');
  assert.equal(fromX.routers, 0, 'same subnet: no router');
  assert.equal(run(ctx, 'ecs-y1', '10.0.1.20').destinationServer?.name, 'ecs-y2');
  const nobody = run(ctx, 'ecs-x1', '10.0.1.30');
  assert.deepEqual(path(nobody.forward), ['security-group-egress default', 'route vpc-x-main', 'DROP delivery sub-x']);
});

test('a deleted peering turns its routes into blackholes', () => {
  const { ctx } = referenceLab();
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.0/24', target: 'pcx-ab' });
  addRoute(ctx, { vpc: 'vpc-b', destination: '192.168.6.0/25', target: 'pcx-ab' });
  deletePeering(ctx, 'pcx-ab');
  const r = run(ctx, 'ecs-a', '192.168.5.130');
  assert.equal(r.reachable, false);
  assert.deepEqual(path(r.forward), ['security-group-egress default', 'DROP route vpc-a-main']);
  assert.equal(r.blockedBy?.reason, '192.168.5.0/24 -> pcx-ab (blackhole: peering is deleted)');
});

test('an explicit blackhole route drops, and the longest prefix wins over a broader route', () => {
  const { ctx } = referenceLab();
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.0.0/16', target: 'pcx-ab' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.128/25', target: 'blackhole' });
  addRoute(ctx, { vpc: 'vpc-b', destination: '192.168.6.0/24', target: 'pcx-ab' });
  assert.equal(run(ctx, 'ecs-a', '192.168.5.130').blockedBy?.reason, '192.168.5.128/25 -> blackhole: dropped');
  createServer(ctx, { name: 'ecs-b2', subnet: 'sub-b', ip: '192.168.5.20' });
  assert.equal(run(ctx, 'ecs-a', '192.168.5.20').reachable, true, 'the /16 carries what the /25 blackhole does not');
});

test('security groups: a closed port blocks at ingress, a narrowed egress blocks at the source, replies are stateful', () => {
  const { ctx } = referenceLab();
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.0/24', target: 'pcx-ab' });
  addRoute(ctx, { vpc: 'vpc-b', destination: '192.168.6.0/25', target: 'pcx-ab' });
  createSecurityGroup(ctx, { name: 'web' });
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '192.168.6.0/24' });
  createServer(ctx, { name: 'web-1', subnet: 'sub-b', ip: '192.168.5.140', securityGroups: ['web'] });

  const table: [TraceProtocol, number | undefined, boolean, string | null][] = [
    ['tcp', 8080, true, null],
    ['tcp', 22, false, 'security-group-ingress'],
    ['icmp', undefined, false, 'security-group-ingress'],
    ['udp', 8080, false, 'security-group-ingress'],
  ];
  for (const [protocol, port, reachable, blockedAt] of table) {
    const r = run(ctx, 'ecs-a', '192.168.5.140', protocol, port);
    assert.equal(r.reachable, reachable, `${protocol}/${port}`);
    assert.equal(r.blockedBy?.kind ?? null, blockedAt, `${protocol}/${port}`);
  }
  assert.equal(run(ctx, 'web-1', '192.168.6.76', 'tcp', 8080).blockedBy?.kind, 'security-group-ingress', 'web-1 is not in default, so ecs-a does not admit it');

  createSecurityGroup(ctx, { name: 'locked' });
  const locked = getSecurityGroup(ctx, 'locked');
  removeRule(ctx, 'locked', locked.rules[0].id);
  createServer(ctx, { name: 'mute', subnet: 'sub-a', ip: '192.168.6.77', securityGroups: ['locked'] });
  const r = run(ctx, 'mute', '192.168.5.140', 'tcp', 8080);
  assert.deepEqual(path(r.forward).slice(0, 1), ['DROP security-group-egress locked']);
});

test('an icmp rule with a type admits only that type: echo requests pass a type-8 rule and not a type-0 one', () => {
  const { ctx } = referenceLab();
  for (const [name, icmp, ip] of [
    ['echo', '8', '192.168.6.81'],
    ['echo-0', '8/0', '192.168.6.82'],
    ['reply', '0', '192.168.6.83'],
    ['unreachable', '3/4', '192.168.6.84'],
  ] as const) {
    createSecurityGroup(ctx, { name });
    addRule(ctx, name, { direction: 'ingress', protocol: 'icmp', icmp, remote: '0.0.0.0/0' });
    createServer(ctx, { name: `to-${name}`, subnet: 'sub-a', ip, securityGroups: [name] });
  }
  assert.equal(run(ctx, 'ecs-a', '192.168.6.81').reachable, true);
  assert.equal(run(ctx, 'ecs-a', '192.168.6.82').reachable, true);
  const reply = run(ctx, 'ecs-a', '192.168.6.83');
  assert.equal(reply.blockedBy?.kind, 'security-group-ingress');
  assert.equal(run(ctx, 'ecs-a', '192.168.6.84').reachable, false);
  const ok = run(ctx, 'ecs-a', '192.168.6.81');
  assert.match(ok.forward.find((h) => h.kind === 'security-group-ingress')!.detail, /icmp type 8/);
});

test('a stopped server neither sends nor answers', () => {
  const { ctx } = referenceLab();
  createServer(ctx, { name: 'ecs-a2', subnet: 'sub-a', ip: '192.168.6.80' });
  assert.equal(run(ctx, 'ecs-a', '192.168.6.80').reachable, true);
  setServerStatus(ctx, 'ecs-a2', 'stopped');
  assert.match(run(ctx, 'ecs-a', '192.168.6.80').blockedBy!.reason, /stopped/);
  assert.equal(run(ctx, 'ecs-a2', '192.168.6.76').blockedBy?.kind, 'source');
  assert.equal(run(ctx, 'ecs-a', '192.168.6.76').reachable, true, 'a server reaches its own address');
});

test('refuses a tcp trace without a port', () => {
  const { ctx } = referenceLab();
  assert.throws(() => run(ctx, 'ecs-a', '192.168.5.130', 'tcp'), /port/);
});

test('the verdict-only path agrees with trace on every pair of a mixed topology', () => {
  const { ctx } = referenceLab();
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.0/24', target: 'pcx-ab' });
  createVpc(ctx, { name: 'vpc-c', cidr: '192.168.5.0/24' });
  createSubnet(ctx, { name: 'sub-c', vpc: 'vpc-c', cidr: '192.168.5.0/25' });
  createServer(ctx, { name: 'ecs-c', subnet: 'sub-c', ip: '192.168.5.100' });
  createSecurityGroup(ctx, { name: 'web' });
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '0.0.0.0/0' });
  createServer(ctx, { name: 'web-1', subnet: 'sub-b', ip: '192.168.5.140', securityGroups: ['web'] });
  createServer(ctx, { name: 'off', subnet: 'sub-a', ip: '192.168.6.90' });
  setServerStatus(ctx, 'off', 'stopped');
  // A network ACL on sub-b: TCP 8080 in from anywhere and replies out; nothing else (ICMP, TCP 22) crosses its edge.
  createNetworkAcl(ctx, { name: 'b-guard', vpc: 'vpc-b' });
  addAclRule(ctx, 'b-guard', { number: 100, direction: 'ingress', action: 'allow', protocol: 'tcp', ports: '8080', cidr: '0.0.0.0/0' });
  addAclRule(ctx, 'b-guard', { number: 100, direction: 'egress', action: 'allow', protocol: 'tcp', ports: '1024-65535', cidr: '0.0.0.0/0' });
  associateAcl(ctx, 'b-guard', 'sub-b');
  const agree = () => {
    const topo = compile(readSnapshot(ctx.store));
    const servers = [...topo.servers.values()];
    let checked = 0;
    let reached = 0;
    let byAcl = 0;
    for (const a of servers) {
      for (const b of [...servers.map((s) => s.privateIp), '192.168.6.99', '10.0.0.1']) {
        for (const [protocol, port] of [
          ['icmp', undefined],
          ['tcp', 8080],
          ['tcp', 22],
        ] as const) {
          const q = { sourceServerId: a.id, destination: b, protocol, port };
          const full = trace(topo, q);
          assert.equal(reachable(topo, q), full.reachable, `${a.name} -> ${b} ${protocol}/${port}`);
          checked++;
          if (full.reachable) reached++;
          if (full.blockedBy?.kind === 'network-acl') byAcl++;
        }
      }
    }
    return { checked, reached, byAcl };
  };
  const before = agree();
  assert.ok(before.checked > 100);
  // After the return route exists pairs across the peering become reachable, and some are stopped by the ACL: every verdict was exercised.
  addRoute(ctx, { vpc: 'vpc-b', destination: '192.168.6.0/25', target: 'pcx-ab' });
  const after = agree();
  assert.ok(after.reached > before.reached, JSON.stringify([before, after]));
  assert.ok(after.byAcl > 0, JSON.stringify(after));
  const topo2 = compile(readSnapshot(ctx.store));
  const q = { sourceServerId: getServer(ctx, 'ecs-a').id, destination: '192.168.5.130', protocol: 'tcp' as const, port: 8080 };
  assert.equal(reachable(topo2, q), true);
  assert.equal(trace(topo2, q).reachable, true);
});
