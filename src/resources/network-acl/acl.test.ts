/**
 * Network ACLs through the service, and their evaluation: AWS's rules (numbers 1-32766, one
 * per number and direction, the lowest match decides, `*` denies), a default ACL per VPC that
 * cannot be deleted, an ACL in use that cannot be either, and older VPCs given their default
 * ACL by the store's migration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryCloud, refuses } from '../../../test/helpers/cloud.js';
import { evaluateAcl } from '../../core/acl.js';
import { ipToInt } from '../../core/cidr.js';
import type { AclRule } from '../../core/model/index.js';
import { Store } from '../../store/db.js';
import { createVpc, deleteVpc } from '../vpc/service.js';
import { createSubnet, getSubnet } from '../subnet/service.js';
import { addAclRule, associateAcl, createNetworkAcl, deleteNetworkAcl, getNetworkAcl, listNetworkAcls, removeAclRule } from './service.js';

const r = (
  number: number,
  direction: 'ingress' | 'egress',
  action: 'allow' | 'deny',
  protocol: AclRule['protocol'],
  cidr: string,
  extra: Partial<AclRule> = {},
): AclRule => ({
  number,
  direction,
  action,
  protocol,
  portRange: null,
  cidr,
  ...extra,
});

test('evaluation: the lowest number that matches decides, whatever the order given; nothing matching is denied', () => {
  const rules = [
    r(200, 'ingress', 'allow', 'all', '0.0.0.0/0'),
    r(100, 'ingress', 'deny', 'tcp', '10.0.1.0/24', { portRange: { from: 22, to: 22 } }),
    r(100, 'egress', 'allow', 'icmp', '0.0.0.0/0', { icmp: { type: 0 } }),
  ];
  const from = (ip: string, port: number) => ({ protocol: 'tcp' as const, port, remote: ipToInt(ip) });
  assert.deepEqual(
    [
      evaluateAcl(rules, 'ingress', from('10.0.1.5', 22)),
      evaluateAcl(rules, 'ingress', from('10.0.2.5', 22)),
      evaluateAcl(rules, 'ingress', from('10.0.1.5', 80)),
    ].map((v) => [v.allowed, v.rule?.number]),
    [
      [false, 100],
      [true, 200],
      [true, 200],
    ],
  );
  const icmp = (type: number) => ({ protocol: 'icmp' as const, icmpType: type, icmpCode: 0, remote: ipToInt('8.8.8.8') });
  assert.deepEqual(
    [evaluateAcl(rules, 'egress', icmp(0)).allowed, evaluateAcl(rules, 'egress', icmp(8))],
    [true, { allowed: false, rule: null }],
    'only the type asked; the rest falls to *',
  );
  assert.deepEqual(evaluateAcl([], 'ingress', from('1.2.3.4', 1)), { allowed: false, rule: null });
});

test('a VPC comes with its default ACL (everything allowed), which guards its subnets until another does and goes with it', () => {
  const { ctx } = memoryCloud();
  createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' });
  createSubnet(ctx, { name: 's', vpc: 'v', cidr: '10.0.1.0/24' });
  const [def] = listNetworkAcls(ctx, { vpc: 'v' });
  assert.deepEqual([def.name, def.isDefault, def.rules.length, def.subnetIds], ['v-default-acl', true, 2, [getSubnet(ctx, 's').id]]);
  refuses(() => deleteNetworkAcl(ctx, def.id), 'DependencyViolation', 'default ACL');
  const own = createNetworkAcl(ctx, { name: 'guard', vpc: 'v' });
  assert.deepEqual(own.rules, [], 'a new ACL denies everything');
  associateAcl(ctx, 'guard', 's');
  assert.deepEqual([getNetworkAcl(ctx, 'guard').subnetIds.length, getNetworkAcl(ctx, def.id).subnetIds.length], [1, 0]);
  refuses(() => deleteNetworkAcl(ctx, 'guard'), 'DependencyViolation', 's');
  refuses(() => deleteVpc(ctx, 'v'), 'DependencyViolation', 'guard');
  associateAcl(ctx, def.id, 's');
  assert.equal(getSubnet(ctx, 's').networkAclId, undefined, 'back to the default');
  deleteVpc(ctx, 'v', { cascade: true });
  assert.deepEqual(listNetworkAcls(ctx), []);
});

test('rules: numbers 1-32766, one per number and direction, replace and remove name theirs, a subnet of another VPC is refused', () => {
  const { ctx } = memoryCloud();
  createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' });
  createVpc(ctx, { name: 'w', cidr: '10.1.0.0/16' });
  createSubnet(ctx, { name: 'sw', vpc: 'w', cidr: '10.1.1.0/24' });
  createNetworkAcl(ctx, { name: 'guard', vpc: 'v' });
  const add = (number: number, extra: Record<string, string> = {}) =>
    addAclRule(ctx, 'guard', { number, direction: 'ingress', action: 'allow', protocol: 'tcp', cidr: '0.0.0.0/0', ...extra });
  add(100, { ports: '80' });
  refuses(() => add(100), 'NetworkAclEntryAlreadyExists', '100');
  refuses(() => add(0), 'InvalidParameterValue', '0');
  refuses(() => add(32767), 'InvalidParameterValue', '32767');
  refuses(() => add(5, { cidr: '10.0.0.0/33' }), 'InvalidParameterValue', '10.0.0.0/33');
  add(5, { cidr: '10.0.0.1/16' });
  assert.equal(getNetworkAcl(ctx, 'guard').rules.find((x) => x.number === 5)?.cidr, '10.0.0.0/16', 'host bits cleared, as every CIDR');
  removeAclRule(ctx, 'guard', 'ingress', 5);
  refuses(
    () => addAclRule(ctx, 'guard', { number: 5, direction: 'ingress', action: 'allow', protocol: 'icmp', ports: '80', cidr: '0.0.0.0/0' }),
    'InvalidParameterValue',
    'ports',
  );
  addAclRule(ctx, 'guard', { number: 100, direction: 'egress', action: 'deny', protocol: 'all', cidr: '0.0.0.0/0' });
  addAclRule(ctx, 'guard', { number: 100, direction: 'ingress', action: 'deny', protocol: 'udp', cidr: '10.0.0.0/8' }, { replace: true });
  assert.deepEqual(
    getNetworkAcl(ctx, 'guard').rules.map((x) => [x.direction, x.number, x.action, x.protocol]),
    [
      ['ingress', 100, 'deny', 'udp'],
      ['egress', 100, 'deny', 'all'],
    ],
  );
  refuses(
    () => addAclRule(ctx, 'guard', { number: 7, direction: 'ingress', action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' }, { replace: true }),
    'InvalidNetworkAclEntry.NotFound',
    '7',
  );
  refuses(() => removeAclRule(ctx, 'guard', 'egress', 9), 'InvalidNetworkAclEntry.NotFound', '9');
  removeAclRule(ctx, 'guard', 'egress', 100);
  assert.equal(getNetworkAcl(ctx, 'guard').rules.length, 1);
  refuses(() => associateAcl(ctx, 'guard', 'sw'), 'InvalidParameterValue', 'sw');
});

test('a store made before ACLs gives every VPC its default ACL on opening, everything allowed as before', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-acl-'));
  try {
    const file = join(dir, 'nimbus.db');
    new Store(file).close();
    // As an older daemon left it: a VPC and no ACL.
    const db = new Database(file);
    const version = db.pragma('user_version', { simple: true }) as number;
    db.prepare("DELETE FROM resources WHERE kind = 'networkAcl'").run();
    db.prepare(
      "INSERT INTO resources (id, kind, project_id, name_key, parent_id, seq, body) VALUES ('vpc-00000000000000aa', 'vpc', 'proj-1', 'old', NULL, 1, json_object('id', 'vpc-00000000000000aa', 'name', 'old', 'projectId', 'proj-1', 'createdAt', 'then'))",
    ).run();
    db.pragma(`user_version = ${version - 1}`);
    db.close();
    const store = new Store(file);
    const acls = store.list<{ id: string; name: string; vpcId: string; isDefault: boolean; rules: AclRule[] }>('networkAcl');
    store.close();
    assert.equal(acls.length, 1);
    assert.deepEqual(
      [acls[0].name, acls[0].vpcId, acls[0].isDefault, acls[0].rules.map((x) => x.action)],
      ['old-default-acl', 'vpc-00000000000000aa', true, ['allow', 'allow']],
    );
    assert.match(acls[0].id, /^acl-[0-9a-f]{16}$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
