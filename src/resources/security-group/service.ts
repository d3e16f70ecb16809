/**
 * Security groups (Huawei Cloud rules): project-wide, may hold servers of several VPCs,
 * stateful. A new group allows all outbound traffic and nothing inbound; each project's
 * `default` group also lets its own members in, and cannot be deleted.
 */
import { checkText } from '../../core/text.js';
import { parseIcmp, type IcmpMatch } from '../../core/icmp.js';
import { NimbusError, invalid } from '../../core/errors.js';
import { normalizeCidr } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import type {
  PortRange,
  Protocol,
  RuleInput,
  SecurityGroup,
  SecurityGroupInput,
  SecurityGroupRule,
  SecurityGroupUpdate,
  Server,
} from '../../core/model/index.js';
import { isPort } from '../../core/model/index.js';
import { checkName, checkQuota, dependencyViolation, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';

const PROTOCOLS: readonly Protocol[] = ['icmp', 'tcp', 'udp', 'all'];

function egressAll(): SecurityGroupRule {
  return { id: newId('securityGroupRule'), direction: 'egress', protocol: 'all', portRange: null, remote: { cidr: '0.0.0.0/0' } };
}

/** Makes the project's `default` group (inside the caller's transaction). */
export function createDefaultGroup(ctx: Ctx): SecurityGroup {
  const id = newId('securityGroup');
  const sg: SecurityGroup = {
    id,
    name: 'default',
    projectId: ctx.projectId,
    description: 'Default group: members reach each other; all outbound traffic allowed',
    isDefault: true,
    rules: [{ id: newId('securityGroupRule'), direction: 'ingress', protocol: 'all', portRange: null, remote: { groupId: id } }, egressAll()],
    createdAt: now(),
  };
  saveNew(ctx, 'securityGroup', sg);
  return sg;
}

export function createSecurityGroup(ctx: Ctx, input: SecurityGroupInput): SecurityGroup {
  return write(ctx, () => {
    if (input.name === 'default') throw new NimbusError('InvalidGroup.Reserved', "security group name 'default' is reserved for the project's default group");
    if (typeof input.name === 'string' && ctx.store.byName('securityGroup', ctx.projectId, input.name)) {
      throw new NimbusError('InvalidGroup.Duplicate', `security group '${input.name}' already exists in this project`);
    }
    const name = checkName(ctx, 'securityGroup', input.name);
    checkQuota(ctx, 'securityGroups', listSecurityGroups(ctx).length, 'security groups');
    const sg: SecurityGroup = {
      id: newId('securityGroup'),
      name,
      projectId: ctx.projectId,
      description: input.description === undefined ? '' : checkText('description', input.description, 255),
      isDefault: false,
      rules: [egressAll()],
      createdAt: now(),
    };
    saveNew(ctx, 'securityGroup', sg);
    return sg;
  });
}

export function getSecurityGroup(ctx: Ctx, ref: string): SecurityGroup {
  return resolve<SecurityGroup>(ctx, 'securityGroup', ref);
}

export function listSecurityGroups(ctx: Ctx): SecurityGroup[] {
  return ctx.store.list<SecurityGroup>('securityGroup', { projectId: ctx.projectId });
}

export function updateSecurityGroup(ctx: Ctx, ref: string, input: SecurityGroupUpdate): SecurityGroup {
  return write(ctx, () => {
    const sg = getSecurityGroup(ctx, ref);
    if (input.name !== undefined && input.name !== sg.name) {
      if (sg.isDefault) throw new NimbusError('CannotDelete', 'the default security group cannot be renamed');
      if (ctx.store.byName('securityGroup', ctx.projectId, input.name)) {
        throw new NimbusError('InvalidGroup.Duplicate', `security group '${input.name}' already exists in this project`);
      }
      sg.name = checkName(ctx, 'securityGroup', input.name, sg.id);
    }
    if (input.description !== undefined) sg.description = checkText('description', input.description, 255);
    saveUpdate(ctx, 'securityGroup', sg);
    return sg;
  });
}

export function deleteSecurityGroup(ctx: Ctx, ref: string): SecurityGroup {
  return write(ctx, () => {
    const sg = getSecurityGroup(ctx, ref);
    if (sg.isDefault) throw new NimbusError('CannotDelete', `security group '${sg.name}' is the project's default group and cannot be deleted`);
    const servers = ctx.store.list<Server>('server', { projectId: ctx.projectId }).filter((s) => s.securityGroupIds.includes(sg.id));
    const groups = listSecurityGroups(ctx).filter((g) => g.id !== sg.id && g.rules.some((r) => 'groupId' in r.remote && r.remote.groupId === sg.id));
    if (servers.length + groups.length > 0) throw dependencyViolation(`security group '${sg.name}'`, [...servers, ...groups]);
    saveDelete(ctx, 'securityGroup', sg);
    return sg;
  });
}

/** A port or a range; 0-65535 is every port (AWS's "All TCP"), and a range from 0 starts at 1 (no traffic uses port 0). */
export function parsePorts(text: string): PortRange | null {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  let from = m ? Number(m[1]) : NaN;
  const to = m ? Number(m[2] ?? m[1]) : NaN;
  if (m && m[2] !== undefined && from === 0) from = 1;
  if (!m || !isPort(from) || !isPort(to) || from > to)
    throw invalid(`ports: '${text}' must be a port (1-65535), a range such as 8000-8100, or 0-65535 for all`);
  return from === 1 && to === 65535 ? null : { from, to };
}

function sameRule(a: SecurityGroupRule, b: SecurityGroupRule): boolean {
  return (
    a.direction === b.direction &&
    a.protocol === b.protocol &&
    JSON.stringify(a.portRange) === JSON.stringify(b.portRange) &&
    JSON.stringify(a.icmp ?? null) === JSON.stringify(b.icmp ?? null) &&
    JSON.stringify(a.remote) === JSON.stringify(b.remote)
  );
}

export function addRule(ctx: Ctx, groupRef: string, input: RuleInput): SecurityGroup {
  return write(ctx, () => {
    const sg = getSecurityGroup(ctx, groupRef);
    if (input.direction !== 'ingress' && input.direction !== 'egress') {
      throw invalid(`direction: '${String(input.direction)}' must be ingress or egress`);
    }
    checkQuota(
      ctx,
      input.direction === 'ingress' ? 'inboundRulesPerGroup' : 'outboundRulesPerGroup',
      sg.rules.filter((r) => r.direction === input.direction).length,
      `${input.direction === 'ingress' ? 'inbound' : 'outbound'} rules in security group '${sg.name}'`,
    );
    if (!PROTOCOLS.includes(input.protocol)) throw invalid(`protocol: '${String(input.protocol)}' must be one of ${PROTOCOLS.join(', ')}`);
    let portRange: PortRange | null = null;
    if (input.ports !== undefined && input.ports !== '') {
      if (input.protocol !== 'tcp' && input.protocol !== 'udp') {
        throw invalid(`ports: '${input.ports}' applies only to tcp and udp, not to ${input.protocol}`);
      }
      portRange = parsePorts(input.ports);
    }
    let icmp: IcmpMatch | undefined;
    if (input.icmp !== undefined && input.icmp !== '') {
      if (input.protocol !== 'icmp') throw invalid(`icmp: '${input.icmp}' applies only to icmp, not to ${input.protocol}`);
      icmp = parseIcmp(input.icmp);
    }
    if (typeof input.remote !== 'string' || input.remote === '') throw invalid('remote: a CIDR or a security group is required');
    const remote = /^[\d.]+\/\d+$/.test(input.remote)
      ? { cidr: normalizeCidr(input.remote, 'remote') }
      : { groupId: resolve<SecurityGroup>(ctx, 'securityGroup', input.remote, 'remote').id };
    const rule: SecurityGroupRule = {
      id: newId('securityGroupRule'),
      direction: input.direction,
      protocol: input.protocol,
      portRange,
      ...(icmp ? { icmp } : {}),
      remote,
    };
    if (input.description) rule.description = checkText('description', input.description, 255);
    if (sg.rules.some((r) => sameRule(r, rule))) {
      throw new NimbusError('InvalidPermission.Duplicate', `security group '${sg.name}' already has this ${rule.direction} rule`);
    }
    sg.rules.push(rule);
    saveUpdate(ctx, 'securityGroup', sg);
    return sg;
  });
}

export function removeRule(ctx: Ctx, groupRef: string, ruleId: string): SecurityGroup {
  return write(ctx, () => {
    const sg = getSecurityGroup(ctx, groupRef);
    const i = sg.rules.findIndex((r) => r.id === ruleId);
    if (i < 0) throw new NimbusError('InvalidPermission.NotFound', `security group '${sg.name}' has no rule '${ruleId}'`);
    sg.rules.splice(i, 1);
    saveUpdate(ctx, 'securityGroup', sg);
    return sg;
  });
}
