/**
 * The analyzer and the data plane agree on network ACLs (privileged): the kernel on the linux
 * plane, OVN on the ovn plane (the servers spread by the daemon over three chassis, the ACLs
 * drop policies on the VPC's router). Three subnets of one VPC, two servers in two of them,
 * every pair probed with ping and TCP 8080 (a real probe beside each trace), through four ACL
 * topologies: a deny before an allow, the reply's ephemeral ports missing, an ICMP-only allow,
 * and one ACL on two subnets. Within a subnet no ACL applies (the bridge or the logical switch
 * carries it), and a reply needs rules of its own (stateless).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { ovnDaemon, skipOvn } from '../helpers/ovn.js';
import { pool } from '../../src/dataplane/linux/run.js';
import type { NimbusClient } from '../../src/client/client.js';
import type { AclRuleInput } from '../../src/core/model/index.js';

const SERVERS = [
  { name: 'a1', subnet: 's1', ip: '10.60.1.11' },
  { name: 'a2', subnet: 's1', ip: '10.60.1.12' },
  { name: 'b1', subnet: 's2', ip: '10.60.2.11' },
  { name: 'b2', subnet: 's2', ip: '10.60.2.12' },
  { name: 'c1', subnet: 's3', ip: '10.60.3.11' },
];

async function probeAll(c: NimbusClient): Promise<{ wrong: string[]; reachable: string[]; aclHops: number }> {
  const probes = SERVERS.flatMap((s) =>
    SERVERS.filter((d) => d !== s).flatMap((d) => [
      { from: s.name, to: d.ip, protocol: 'icmp' as const },
      { from: s.name, to: d.ip, protocol: 'tcp' as const, port: 8080 },
    ]),
  );
  const wrong: string[] = [];
  const reachable: string[] = [];
  let aclHops = 0;
  await pool(probes, 6, async (p) => {
    const r = await c.trace({ server: p.from, destination: p.to, protocol: p.protocol, port: p.port, probe: true });
    aclHops += [...r.forward, ...r.return].filter((h) => h.kind === 'network-acl').length;
    if (r.reachable) reachable.push(`${p.from}->${p.to}/${p.protocol}`);
    if (!r.probe!.agrees)
      wrong.push(
        `${p.from} -> ${p.to} ${p.protocol}: analyzer ${r.reachable ? 'reachable' : 'unreachable'}, kernel ${r.probe!.reachable ? 'reachable' : 'unreachable'}\n${r.text}${r.probe!.output}`,
      );
  });
  return { wrong, reachable: reachable.sort(), aclHops };
}

const rule = (
  number: number,
  direction: 'ingress' | 'egress',
  action: 'allow' | 'deny',
  protocol: AclRuleInput['protocol'],
  cidr: string,
  ports?: string,
): AclRuleInput => ({
  number,
  direction,
  action,
  protocol,
  cidr,
  ...(ports ? { ports } : {}),
});

/** Makes the ACL's rules exactly these (the ones it had go). */
async function setRules(c: NimbusClient, acl: string, rules: AclRuleInput[]): Promise<void> {
  for (const r of (await c.networkAcls.get(acl)).rules) await c.networkAcls.removeRule(acl, r.direction, r.number);
  for (const r of rules) await c.networkAcls.addRule(acl, r);
}

for (const plane of ['linux', 'ovn'] as const)
  describe(`${plane} data plane`, { skip: plane === 'linux' ? skipLinux : skipOvn }, () => {
    let t: LinuxTestDaemon;
    before(async () => {
      t = plane === 'linux' ? await linuxDaemon() : await ovnDaemon(3);
    });
    after(async () => {
      await t?.close();
    });

    test(`analyzer and ${plane === 'linux' ? 'kernel' : 'OVN'} agree on network ACLs: deny before allow, ephemeral ports missing, ICMP only, one ACL on two subnets`, async () => {
      const c = t.client;
      await c.vpcs.create({ name: 'v', cidr: '10.60.0.0/16' });
      for (const [name, cidr] of [
        ['s1', '10.60.1.0/24'],
        ['s2', '10.60.2.0/24'],
        ['s3', '10.60.3.0/24'],
      ])
        await c.subnets.create({ name, vpc: 'v', cidr });
      await c.securityGroups.create({ name: 'open' });
      await c.securityGroups.addRule('open', { direction: 'ingress', protocol: 'tcp', ports: '8080', remote: '10.60.0.0/16' });
      await c.securityGroups.addRule('open', { direction: 'ingress', protocol: 'icmp', remote: '10.60.0.0/16' });
      for (const s of SERVERS) await c.servers.create({ name: s.name, subnet: s.subnet, ip: s.ip, securityGroups: ['open'], app: 'web:8080' });
      await c.networkAcls.create({ name: 'guard', vpc: 'v' });
      await c.networkAcls.associate('guard', 's2');

      const everywhere = '0.0.0.0/0';
      const steps: [string, () => Promise<unknown>][] = [
        ['the default ACL (everything allowed)', () => c.networkAcls.associate('v-default-acl', 's2')],
        [
          'a deny before an allow: TCP 8080 from s1 into s2 denied (100), everything else allowed (200)',
          async () => {
            await setRules(c, 'guard', [
              rule(100, 'ingress', 'deny', 'tcp', '10.60.1.0/24', '8080'),
              rule(200, 'ingress', 'allow', 'all', everywhere),
              rule(100, 'egress', 'allow', 'all', everywhere),
            ]);
            await c.networkAcls.associate('guard', 's2');
          },
        ],
        [
          "the replies' ephemeral ports missing: TCP 8080 and ICMP allowed in, only ICMP out",
          () =>
            setRules(c, 'guard', [
              rule(100, 'ingress', 'allow', 'tcp', everywhere, '8080'),
              rule(110, 'ingress', 'allow', 'icmp', everywhere),
              rule(100, 'egress', 'allow', 'icmp', everywhere),
            ]),
        ],
        [
          'ICMP only, both ways',
          () => setRules(c, 'guard', [rule(100, 'ingress', 'allow', 'icmp', everywhere), rule(100, 'egress', 'allow', 'icmp', everywhere)]),
        ],
        [
          'one ACL on two subnets (s2 and s3): everything with s1 allowed, nothing else',
          async () => {
            await setRules(c, 'guard', [rule(100, 'ingress', 'allow', 'all', '10.60.1.0/24'), rule(100, 'egress', 'allow', 'all', '10.60.1.0/24')]);
            await c.networkAcls.associate('guard', 's3');
          },
        ],
      ];
      const report: string[] = [];
      const counts: number[] = [];
      for (const [what, change] of steps) {
        await change();
        const sync = await c.dataplane.sync();
        assert.deepEqual(sync.errors, [], `${what}: the data plane converged`);
        const d = await probeAll(c);
        counts.push(d.reachable.length);
        report.push(`${what}: ${d.reachable.length} of 40 reachable, ${d.aclHops} ACL hops`);
        assert.deepEqual(d.wrong, [], `${what}:\n${d.wrong.join('\n')}`);
        if (what.startsWith('the default')) assert.equal(d.aclHops, 0, 'the default ACL as made is not shown on paths');
        else assert.ok(d.aclHops > 0, `${what}: the ACL is named on the paths`);
      }
      // Within a subnet nothing changes (a1<->a2, b1<->b2 always answer); the topologies differ from each other.
      assert.equal(counts[0], 40, report.join('\n'));
      assert.ok(new Set(counts).size >= 4, report.join('\n'));
      if (process.env.NIMBUS_SHOW) console.log(report.join('\n'));
    });

    test('trace names the rule that denied a reply, as the stateless guard it is', async () => {
      const r = await t.client.trace({ server: 'a1', destination: '10.60.2.11', protocol: 'tcp', port: 8080 });
      // The last topology: s2 lets s1 in and out; a reply from s3 to s1 would pass; from s2 to s3 nothing does.
      assert.equal(r.reachable, true, r.text);
      await setRules(t.client, 'guard', [rule(100, 'ingress', 'allow', 'tcp', '0.0.0.0/0', '8080')]);
      const blocked = await t.client.trace({ server: 'a1', destination: '10.60.2.11', protocol: 'tcp', port: 8080 });
      assert.equal(blocked.reachable, false);
      assert.deepEqual(
        [blocked.blockedBy?.direction, blocked.blockedBy?.kind, blocked.blockedBy?.resourceName],
        ['return', 'network-acl', 'guard'],
        blocked.text,
      );
      assert.match(blocked.text, /reply tcp:\d+ \(ephemeral 32768-60999\) to 10\.60\.1\.11 out of s2 \(outbound, stateless\): denied by rule \*/);
    });
  });
