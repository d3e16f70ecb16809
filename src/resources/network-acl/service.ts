/**
 * Network ACLs (AWS's NACLs, Huawei Cloud's network ACLs): a stateless guard at a subnet's
 * edge. Each VPC has a default ACL, made with it, that allows everything (rule 100 each way)
 * and cannot be deleted; every subnet not associated with another ACL uses it. A new ACL has
 * no rules: it denies everything until rules are added. Rules are numbered 1-32766 per
 * direction; the lowest that matches decides (evaluateAcl in core/acl.ts).
 */
import { NimbusError, invalid } from '../../core/errors.js';
import { aclOfSubnet, defaultAclRules } from '../../core/acl.js';
import { formatCidr, parseCidr } from '../../core/cidr.js';
import { parseIcmp } from '../../core/icmp.js';
import { newId } from '../../core/ids.js';
import type { AclRule, AclRuleInput, NetworkAcl, NetworkAclInput, Rename, StoredAcl, Subnet, Vpc } from '../../core/model/index.js';

export type { StoredAcl } from '../../core/model/index.js';
import { parsePorts } from '../security-group/service.js';
import { checkName, checkQuota, dependencyViolation, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';

function present(ctx: Ctx, a: StoredAcl): NetworkAcl {
  const all = ctx.store.list<StoredAcl>('networkAcl', { parentId: a.vpcId });
  const subnetIds = ctx.store
    .list<Subnet>('subnet', { parentId: a.vpcId })
    .filter((s) => aclOfSubnet(all, s)?.id === a.id)
    .map((s) => s.id);
  return { ...a, rules: sorted(a.rules), subnetIds };
}

const sorted = (rules: AclRule[]) => [...rules].sort((x, y) => (x.direction === y.direction ? x.number - y.number : x.direction === 'ingress' ? -1 : 1));

/** The default ACL a new VPC gets (inside its transaction): named after it, everything allowed. */
export function createDefaultAcl(ctx: Ctx, vpc: Vpc): StoredAcl {
  const id = newId('networkAcl');
  let name = `${vpc.name}-default-acl`.slice(0, 63);
  if (ctx.store.byName('networkAcl', ctx.projectId, name)) name = `${vpc.name.slice(0, 40)}-acl-${id.slice(4, 12)}`;
  const acl: StoredAcl = { id, name, projectId: ctx.projectId, vpcId: vpc.id, isDefault: true, rules: defaultAclRules(), createdAt: now() };
  saveNew(ctx, 'networkAcl', acl, vpc.id);
  return acl;
}

const getStored = (ctx: Ctx, ref: string) => resolve<StoredAcl>(ctx, 'networkAcl', ref);

export function getNetworkAcl(ctx: Ctx, ref: string): NetworkAcl {
  return present(ctx, getStored(ctx, ref));
}

export function listNetworkAcls(ctx: Ctx, filter: { vpc?: string } = {}): NetworkAcl[] {
  const acls = filter.vpc
    ? ctx.store.list<StoredAcl>('networkAcl', { parentId: resolve<Vpc>(ctx, 'vpc', filter.vpc).id })
    : ctx.store.list<StoredAcl>('networkAcl', { projectId: ctx.projectId });
  return acls.map((a) => present(ctx, a));
}

export function createNetworkAcl(ctx: Ctx, input: NetworkAclInput): NetworkAcl {
  return write(ctx, () => {
    const name = checkName(ctx, 'networkAcl', input.name);
    const vpc = resolve<Vpc>(ctx, 'vpc', input.vpc, 'vpc');
    checkQuota(
      ctx,
      'networkAclsPerVpc',
      ctx.store.list<StoredAcl>('networkAcl', { parentId: vpc.id }).filter((a) => !a.isDefault).length,
      `network ACLs of VPC '${vpc.name}'`,
    );
    const acl: StoredAcl = { id: newId('networkAcl'), name, projectId: ctx.projectId, vpcId: vpc.id, isDefault: false, rules: [], createdAt: now() };
    saveNew(ctx, 'networkAcl', acl, vpc.id);
    return present(ctx, acl);
  });
}

export function renameNetworkAcl(ctx: Ctx, ref: string, input: Rename): NetworkAcl {
  return write(ctx, () => {
    const a = getStored(ctx, ref);
    if (input.name !== undefined) a.name = checkName(ctx, 'networkAcl', input.name, a.id);
    saveUpdate(ctx, 'networkAcl', a);
    return present(ctx, a);
  });
}

export function deleteNetworkAcl(ctx: Ctx, ref: string): NetworkAcl {
  return write(ctx, () => {
    const a = present(ctx, getStored(ctx, ref));
    // AWS's answers: the default ACL goes with its VPC; one in use is a dependency of its subnets.
    if (a.isDefault) throw new NimbusError('DependencyViolation', `network ACL '${a.name}' is the default ACL of ${a.vpcId}: it goes with its VPC`);
    if (a.subnetIds.length > 0)
      throw dependencyViolation(
        `network ACL '${a.name}'`,
        a.subnetIds.map((id) => ctx.store.get<{ id: string; name: string }>(id, 'subnet') ?? { id, name: id }),
      );
    saveDelete(ctx, 'networkAcl', a);
    return a;
  });
}

/** Associates a subnet with an ACL of its VPC (the default one returns it to the default). */
export function associateAcl(ctx: Ctx, ref: string, subnetRef: string): NetworkAcl {
  return write(ctx, () => {
    const a = getStored(ctx, ref);
    const subnet = resolve<Subnet>(ctx, 'subnet', subnetRef, 'subnet');
    if (subnet.vpcId !== a.vpcId) throw invalid(`subnet: '${subnet.name}' is in ${subnet.vpcId}, network ACL '${a.name}' in ${a.vpcId}`);
    const was = subnet.networkAclId;
    if (a.isDefault) delete subnet.networkAclId;
    else subnet.networkAclId = a.id;
    saveUpdate(ctx, 'subnet', subnet);
    if (was && was !== a.id) ctx.feed.record({ kind: 'networkAcl', id: was, op: 'updated' });
    ctx.feed.record({ kind: 'networkAcl', id: a.id, op: 'updated' });
    return present(ctx, a);
  });
}

/** A rule from its input: its number, protocol, ports or ICMP type, and CIDR checked. */
export function aclRuleOf(input: AclRuleInput): AclRule {
  if (!Number.isInteger(input.number) || input.number < 1 || input.number > 32766) throw invalid(`number: ${String(input.number)} must be from 1 to 32766`);
  if (input.direction !== 'ingress' && input.direction !== 'egress') throw invalid(`direction: '${String(input.direction)}' must be ingress or egress`);
  if (input.action !== 'allow' && input.action !== 'deny') throw invalid(`action: '${String(input.action)}' must be allow or deny`);
  if (!['tcp', 'udp', 'icmp', 'all'].includes(input.protocol)) throw invalid(`protocol: '${String(input.protocol)}' must be one of tcp, udp, icmp, all`);
  let portRange: AclRule['portRange'] = null;
  if (input.ports !== undefined && input.ports !== '') {
    if (input.protocol !== 'tcp' && input.protocol !== 'udp') throw invalid(`ports: '${input.ports}' applies only to tcp and udp, not to ${input.protocol}`);
    portRange = parsePorts(input.ports);
  }
  const rule: AclRule = {
    number: input.number,
    direction: input.direction,
    action: input.action,
    protocol: input.protocol,
    portRange,
    cidr: formatCidr(parseCidr(String(input.cidr ?? ''), 'cidr')),
  };
  if (input.icmp !== undefined && input.icmp !== '') {
    if (input.protocol !== 'icmp') throw invalid(`icmp: '${input.icmp}' applies only to icmp, not to ${input.protocol}`);
    rule.icmp = parseIcmp(input.icmp);
  }
  return rule;
}

/** Adds a rule; `replace` puts it in place of the rule of that number (AWS's ReplaceNetworkAclEntry). */
export function addAclRule(ctx: Ctx, ref: string, input: AclRuleInput, opts: { replace?: boolean } = {}): NetworkAcl {
  return write(ctx, () => {
    const a = getStored(ctx, ref);
    const rule = aclRuleOf(input);
    const same = a.rules.findIndex((r) => r.direction === rule.direction && r.number === rule.number);
    if (opts.replace) {
      if (same < 0) throw new NimbusError('InvalidNetworkAclEntry.NotFound', `network ACL '${a.name}' has no ${rule.direction} rule ${rule.number}`);
      a.rules[same] = rule;
    } else {
      if (same >= 0) throw new NimbusError('NetworkAclEntryAlreadyExists', `network ACL '${a.name}' already has ${rule.direction} rule ${rule.number}`);
      checkQuota(ctx, 'rulesPerNetworkAcl', a.rules.filter((r) => r.direction === rule.direction).length, `${rule.direction} rules of network ACL '${a.name}'`);
      a.rules.push(rule);
    }
    a.rules = sorted(a.rules);
    saveUpdate(ctx, 'networkAcl', a);
    return present(ctx, a);
  });
}

export function removeAclRule(ctx: Ctx, ref: string, direction: 'ingress' | 'egress', number: number): NetworkAcl {
  return write(ctx, () => {
    const a = getStored(ctx, ref);
    const i = a.rules.findIndex((r) => r.direction === direction && r.number === number);
    if (i < 0) throw new NimbusError('InvalidNetworkAclEntry.NotFound', `network ACL '${a.name}' has no ${direction} rule ${number}`);
    a.rules.splice(i, 1);
    saveUpdate(ctx, 'networkAcl', a);
    return present(ctx, a);
  });
}
