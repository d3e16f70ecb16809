/**
 * allowedServices() folds the analyzer's verdicts into port ranges: at every edge of every
 * rule, one port either side, and a spread of other ports, the ranges hold exactly the ports
 * reachable() admits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceLab } from '../../test/helpers/cloud.js';
import { createServer } from '../resources/server/service.js';
import { addRule, createSecurityGroup } from '../resources/security-group/service.js';
import { addRoute } from '../resources/route-table/service.js';
import { createPeering } from '../resources/peering/service.js';
import { readSnapshot } from '../resources/snapshot.js';
import { compile } from './topology.js';
import { reachable } from './trace.js';
import { allowedServices, type PortRange } from './services.js';

const inRanges = (ranges: PortRange[], port: number) => ranges.some(([a, b]) => port >= a && port <= b);

test('the ranges hold exactly the ports the analyzer admits, for every pair of servers', () => {
  const { ctx, store } = referenceLab();
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.0/24', target: 'pcx-ab' });
  addRoute(ctx, { vpc: 'vpc-b', destination: '192.168.6.0/25', target: 'pcx-ab' });
  createSecurityGroup(ctx, { name: 'web' });
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '192.168.6.0/24' });
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '8000-8100', remote: '192.168.6.76/32' });
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'udp', ports: '53', remote: 'web' });
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '65000-65535', remote: '0.0.0.0/0' });
  createServer(ctx, { name: 'web-1', subnet: 'sub-b', ip: '192.168.5.140', securityGroups: ['web'] });
  createServer(ctx, { name: 'web-2', subnet: 'sub-b', ip: '192.168.5.141', securityGroups: ['web'] });
  const t = compile(readSnapshot(store));

  const servers = [...t.servers.values()];
  const ports = new Set([1, 2, 52, 53, 54, 7999, 8000, 8001, 8079, 8080, 8081, 8100, 8101, 64999, 65000, 65535]);
  for (let p = 7; p < 65535; p += 997) ports.add(p);
  let admitted = 0;
  for (const src of servers) {
    for (const dst of servers) {
      const s = allowedServices(t, src.id, dst.privateIp, dst.id);
      for (const protocol of ['tcp', 'udp'] as const) {
        for (const port of ports) {
          const want = reachable(t, { sourceServerId: src.id, destination: dst.privateIp, protocol, port });
          if (want) admitted++;
          assert.equal(inRanges(s[protocol], port), want, `${src.name} -> ${dst.name} ${protocol}:${port}`);
        }
      }
      assert.equal(s.icmp, reachable(t, { sourceServerId: src.id, destination: dst.privateIp, protocol: 'icmp' }), `${src.name} -> ${dst.name} icmp`);
    }
  }
  assert.ok(admitted > 0, 'some paths are open, so the comparison means something');
});

test('ranges are merged and cut at the rules, nothing more', () => {
  const { ctx, store } = referenceLab();
  createSecurityGroup(ctx, { name: 'web' });
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '192.168.6.0/24' });
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '8081-8090', remote: '192.168.6.0/24' });
  addRule(ctx, 'web', { direction: 'ingress', protocol: 'tcp', ports: '9000', remote: '10.0.0.0/8' });
  createServer(ctx, { name: 'web-1', subnet: 'sub-a', ip: '192.168.6.90', securityGroups: ['web'] });
  createServer(ctx, { name: 'ecs-a2', subnet: 'sub-a', ip: '192.168.6.91' });
  const t = compile(readSnapshot(store));
  const a = [...t.servers.values()].find((s) => s.name === 'ecs-a')!;
  const web = [...t.servers.values()].find((s) => s.name === 'web-1')!;
  const a2 = [...t.servers.values()].find((s) => s.name === 'ecs-a2')!;
  assert.deepEqual(allowedServices(t, a.id, web.privateIp, web.id), { tcp: [[8080, 8090]], udp: [], icmp: false });
  // The default group lets its members reach each other on everything; web-1 is not one of them.
  assert.deepEqual(allowedServices(t, a.id, a2.privateIp, a2.id), { tcp: [[1, 65535]], udp: [[1, 65535]], icmp: true });
  assert.deepEqual(allowedServices(t, web.id, a.privateIp, a.id), { tcp: [], udp: [], icmp: false });
});
