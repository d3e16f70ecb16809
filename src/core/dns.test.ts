/**
 * Private DNS's pure parts: where a subnet's resolver answers, the names a VPC's resolver
 * knows (by hostnames switch, load balancers, peerings that let names through both ways), and
 * dnsmasq's arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsHostnames, dnsmasqArgs, dnsSupport, hostRecords, label, resolvConf, servedVpcs, subnetResolver, vpcDomain, type DnsWorld } from './dns.js';

test("a subnet's resolver is its third-to-last address, one that no server takes", () => {
  assert.equal(subnetResolver('10.0.1.0/24'), '10.0.1.253');
  assert.equal(subnetResolver('192.168.6.0/25'), '192.168.6.125');
  assert.equal(subnetResolver('10.0.0.16/28'), '10.0.0.29');
});

test('names are DNS labels in lower case; the switches default on, and names need the resolver', () => {
  assert.equal(label('Web_01.prod'), 'web-01-prod');
  assert.equal(vpcDomain('Prod', 'Team A'), 'prod.team-a.nimbus.internal');
  assert.ok(dnsSupport({}) && dnsHostnames({}));
  assert.ok(!dnsHostnames({ enableDnsSupport: false, enableDnsHostnames: true }));
  assert.ok(dnsSupport({ enableDnsHostnames: false }) && !dnsHostnames({ enableDnsHostnames: false }));
});

const world = (over: Partial<DnsWorld> = {}): DnsWorld => ({
  vpcs: [
    { id: 'vpc-a', name: 'a', projectName: 'p' },
    { id: 'vpc-b', name: 'b', projectName: 'q' },
  ],
  servers: [
    { name: 'web', vpcId: 'vpc-a', privateIp: '10.0.1.5' },
    { name: 'db', vpcId: 'vpc-b', privateIp: '10.1.1.5' },
  ],
  loadBalancers: [
    { name: 'front', vpcId: 'vpc-a', vip: '10.0.1.50' },
    { name: 'web', vpcId: 'vpc-a', vip: '10.0.1.51' },
  ],
  peerings: [],
  ...over,
});

test("a VPC's resolver knows its servers by name and by AWS's ip- names, and its load balancers", () => {
  assert.deepEqual(hostRecords(world(), 'vpc-a'), [
    { ip: '10.0.1.5', names: ['web.a.p.nimbus.internal', 'ip-10-0-1-5.ec2.internal', 'ip-10-0-1-5'] },
    { ip: '10.0.1.50', names: ['front.lb.a.p.nimbus.internal', 'front.a.p.nimbus.internal'] },
    // A load balancer named as a server of the VPC keeps only its lb. name: the server has the short one.
    { ip: '10.0.1.51', names: ['web.lb.a.p.nimbus.internal'] },
  ]);
  const off = world({ vpcs: [{ id: 'vpc-a', name: 'a', projectName: 'p', enableDnsHostnames: false }] });
  assert.deepEqual(hostRecords(off, 'vpc-a'), [{ ip: '10.0.1.5', names: ['ip-10-0-1-5.ec2.internal', 'ip-10-0-1-5'] }]);
});

test("a peered VPC's full names are served only when both sides let them through (its short names come through the search list)", () => {
  const one = world({ peerings: [{ requesterVpcId: 'vpc-a', accepterVpcId: 'vpc-b', requesterDns: true }] });
  assert.deepEqual(servedVpcs(one, 'vpc-a'), ['vpc-a']);
  const both = world({ peerings: [{ requesterVpcId: 'vpc-a', accepterVpcId: 'vpc-b', requesterDns: true, accepterDns: true }] });
  assert.deepEqual(servedVpcs(both, 'vpc-a'), ['vpc-a', 'vpc-b']);
  assert.deepEqual(servedVpcs(both, 'vpc-b'), ['vpc-b', 'vpc-a']);
  assert.deepEqual(
    hostRecords(both, 'vpc-a').find((r) => r.ip === '10.1.1.5'),
    { ip: '10.1.1.5', names: ['db.b.q.nimbus.internal', 'ip-10-1-1-5.ec2.internal'] },
  );
});

test("dnsmasq asks nobody, reads no file, binds the resolver's addresses, and takes its names as arguments", () => {
  const args = dnsmasqArgs(['169.254.169.253', '10.0.1.253'], [{ ip: '10.0.1.5', names: ['web.a.p.nimbus.internal', 'ip-10-0-1-5'] }]);
  for (const a of [
    '--no-resolv',
    '--no-hosts',
    '--conf-file=/dev/null',
    '--local=/#/',
    '--bind-dynamic',
    '--listen-address=169.254.169.253',
    '--listen-address=10.0.1.253',
  ])
    assert.ok(args.includes(a), a);
  assert.ok(!args.some((a) => a.startsWith('--server=')));
  assert.equal(args.at(-1), '--host-record=web.a.p.nimbus.internal,ip-10-0-1-5,10.0.1.5');
  assert.match(resolvConf('10.0.1.253', ['a.p.nimbus.internal']), /^nameserver 10\.0\.1\.253\nsearch a\.p\.nimbus\.internal ec2\.internal\n/m);
});
