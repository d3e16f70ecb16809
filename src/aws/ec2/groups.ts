/**
 * Security groups and their rules. Nimbus's groups belong to the project, not to a VPC: the
 * VpcId given at creation is recorded and shown back, and the project's default group stands
 * for each VPC's default group (it applies to every server launched without a group).
 * Rules are Nimbus rules, one per address range; IpPermissions gathers them as AWS does.
 */
import { parseIcmp } from '../../core/icmp.js';
import { NimbusError, invalid } from '../../core/errors.js';
import type { SecurityGroup, SecurityGroupRule } from '../../core/model/index.js';
import type { Ctx } from '../../resources/context.js';
import * as groups from '../../resources/security-group/service.js';
import * as vpcs from '../../resources/vpc/service.js';
import { AwsError } from '../codec.js';
import { accountId, attr, checkTag, created, filtered, missing, plainTags, setAttr, type Handler, type In, type Out } from './kit.js';

/** The VPC a group is shown in: the one given at creation; the default group is every VPC's (the one asked for, else the first). */
function vpcOf(ctx: Ctx, g: SecurityGroup, asked?: string): string | undefined {
  if (!g.isDefault) return attr(ctx, g.id, 'vpc');
  return asked ?? vpcs.listVpcs(ctx)[0]?.id;
}

const protocolOut = (r: SecurityGroupRule) => (r.protocol === 'all' ? '-1' : r.protocol);
const portsOut = (r: SecurityGroupRule): { FromPort?: number; ToPort?: number } =>
  r.portRange
    ? { FromPort: r.portRange.from, ToPort: r.portRange.to }
    : r.protocol === 'icmp'
      ? { FromPort: r.icmp?.type ?? -1, ToPort: r.icmp?.code ?? -1 }
      : r.protocol === 'all'
        ? {}
        : { FromPort: 0, ToPort: 65535 };

/** The rules of one direction as AWS's IpPermissions: one permission per protocol and ports, its ranges and groups inside. */
function permissions(ctx: Ctx, rules: SecurityGroupRule[], direction: 'ingress' | 'egress'): Out[] {
  const byKey = new Map<string, { head: Out; ranges: Out[]; pairs: Out[] }>();
  const fresh = (head: Out): { head: Out; ranges: Out[]; pairs: Out[] } => ({ head, ranges: [], pairs: [] });
  for (const r of rules.filter((x) => x.direction === direction)) {
    const head = { IpProtocol: protocolOut(r), ...portsOut(r) };
    const key = JSON.stringify(head);
    const p = byKey.get(key) ?? fresh(head);
    byKey.set(key, p);
    const description = r.description ? { Description: r.description } : {};
    if ('cidr' in r.remote) p.ranges.push({ CidrIp: r.remote.cidr, ...description });
    else p.pairs.push({ GroupId: r.remote.groupId, UserId: accountId(ctx.projectId), ...description });
  }
  return [...byKey.values()].map((p) => ({ ...p.head, IpRanges: p.ranges, Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: p.pairs }));
}

const groupOut = (ctx: Ctx, g: SecurityGroup, vpc?: string): Out => ({
  GroupId: g.id,
  GroupName: g.name,
  Description: g.description,
  OwnerId: accountId(ctx.projectId),
  VpcId: vpcOf(ctx, g, vpc),
  IpPermissions: permissions(ctx, g.rules, 'ingress'),
  IpPermissionsEgress: permissions(ctx, g.rules, 'egress'),
  Tags: plainTags(ctx, g.id),
});

// A rule is no resource of the store: its tags are kept on its group, as attributes named after it.
const RULE_TAG = (ruleId: string) => `rule:${ruleId}:`;

/** The tags of a rule (AWS tags rules since 2021: security-group-rule). */
function ruleTags(ctx: Ctx, groupId: string, ruleId: string): Out[] {
  const prefix = `aws:${RULE_TAG(ruleId)}`;
  return Object.entries(ctx.store.tags(groupId))
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, Value]) => ({ Key: k.slice(prefix.length), Value }));
}

/** Sets (or, with null, removes) a tag of a rule; the rule is found in the caller's groups. */
export function setRuleTag(ctx: Ctx, ruleId: string, key: string, value: string | null): void {
  const g = groups.listSecurityGroups(ctx).find((x) => x.rules.some((r) => r.id === ruleId));
  if (!g) throw new AwsError('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${ruleId}' does not exist`);
  setAttr(ctx, g.id, RULE_TAG(ruleId) + key, value);
  if (ruleTags(ctx, g.id, ruleId).length > 50) throw new AwsError('TagLimitExceeded', `${ruleId}: at most 50 tags per resource`);
}

/** The keys of a rule's tags. */
export const ruleTagKeys = (ctx: Ctx, ruleId: string): string[] => {
  const g = groups.listSecurityGroups(ctx).find((x) => x.rules.some((r) => r.id === ruleId));
  return g ? ruleTags(ctx, g.id, ruleId).map((t) => String(t.Key)) : [];
};

const ruleOut = (ctx: Ctx, g: SecurityGroup, r: SecurityGroupRule): Out => {
  const ports = portsOut(r);
  return {
    SecurityGroupRuleId: r.id,
    GroupId: g.id,
    GroupOwnerId: accountId(ctx.projectId),
    IsEgress: r.direction === 'egress',
    IpProtocol: protocolOut(r),
    FromPort: ports.FromPort ?? -1,
    ToPort: ports.ToPort ?? -1,
    ...('cidr' in r.remote ? { CidrIpv4: r.remote.cidr } : { ReferencedGroupInfo: { GroupId: r.remote.groupId, UserId: accountId(ctx.projectId) } }),
    ...(r.description ? { Description: r.description } : {}),
    Tags: ruleTags(ctx, g.id, r.id),
  };
};

type RuleInput = Parameters<typeof groups.addRule>[2];

/** The rules an IpPermissions list stands for, as Nimbus rule inputs. */
function ruleInputs(perms: In[], direction: 'ingress' | 'egress', revoking = false): RuleInput[] {
  const out: RuleInput[] = [];
  for (const p of perms) {
    const proto = String(p.IpProtocol ?? '');
    const protocol = proto === '-1' || proto === 'all' ? 'all' : proto === '6' ? 'tcp' : proto === '17' ? 'udp' : proto === '1' ? 'icmp' : proto;
    if (!['tcp', 'udp', 'icmp', 'all'].includes(protocol)) throw invalid(`IpProtocol '${proto}' is not one of tcp, udp, icmp, -1`);
    const from = p.FromPort === undefined ? undefined : Number(p.FromPort);
    const to = p.ToPort === undefined ? undefined : Number(p.ToPort);
    // tcp/udp: FromPort-ToPort, -1 or 0-65535 for all (AWS's "All TCP"); icmp: FromPort is the type, ToPort the code, -1 any.
    const ports =
      (protocol === 'tcp' || protocol === 'udp') && from !== undefined && from !== -1
        ? from === to || to === undefined
          ? `${from}`
          : `${from}-${to}`
        : undefined;
    const icmp = protocol === 'icmp' && from !== undefined && from !== -1 ? (to === undefined || to === -1 ? `${from}` : `${from}/${to}`) : undefined;
    // No group holds an IPv6 or prefix list rule: revoking one matches nothing (AWS's InvalidPermission.NotFound).
    if (!revoking && ((p.Ipv6Ranges ?? []) as In[]).length > 0) throw new NimbusError('InvalidParameterValue', 'Ipv6Ranges: Nimbus has no IPv6');
    if (!revoking && ((p.PrefixListIds ?? []) as In[]).length > 0) throw new NimbusError('InvalidParameterValue', 'PrefixListIds: Nimbus has no prefix lists');
    const remotes: { remote: string; description?: string }[] = [
      ...((p.IpRanges ?? []) as In[]).map((r) => ({ remote: String(r.CidrIp), description: r.Description })),
      ...((p.UserIdGroupPairs ?? []) as In[]).map((g) => ({ remote: String(g.GroupId ?? g.GroupName), description: g.Description })),
    ];
    if (remotes.length === 0 && revoking) continue;
    if (remotes.length === 0) throw invalid('IpPermissions: each needs IpRanges (CidrIp) or UserIdGroupPairs (GroupId)');
    for (const r of remotes)
      out.push({
        direction,
        protocol: protocol as 'tcp',
        ...(ports ? { ports } : {}),
        ...(icmp ? { icmp } : {}),
        remote: r.remote,
        ...(r.description ? { description: r.description } : {}),
      });
  }
  return out;
}

/** The flat form of what the caller passed (GroupId with IpProtocol/FromPort/ToPort/CidrIp) as IpPermissions. */
function permsOf(input: In): In[] {
  if (input.IpPermissions?.length) return input.IpPermissions as In[];
  if (input.IpProtocol !== undefined || input.CidrIp !== undefined) {
    return [
      {
        IpProtocol: input.IpProtocol ?? '-1',
        FromPort: input.FromPort,
        ToPort: input.ToPort,
        IpRanges: input.CidrIp ? [{ CidrIp: input.CidrIp }] : [],
        UserIdGroupPairs: input.SourceSecurityGroupName ? [{ GroupName: input.SourceSecurityGroupName }] : [],
      },
    ];
  }
  throw invalid('IpPermissions: at least one permission is required');
}

function groupRef(input: In): string {
  const ref = input.GroupId ?? input.GroupName;
  if (!ref) throw new AwsError('MissingParameter', 'GroupId or GroupName is required');
  return String(ref);
}

function authorize(direction: 'ingress' | 'egress'): Handler {
  return (ctx, input) => {
    const ref = groupRef(input);
    const rules = ruleInputs(permsOf(input), direction);
    let g = groups.getSecurityGroup(ctx, ref);
    const added: SecurityGroupRule[] = [];
    for (const r of rules) {
      const before = new Set(g.rules.map((x) => x.id));
      g = groups.addRule(ctx, ref, r);
      added.push(...g.rules.filter((x) => !before.has(x.id)));
    }
    for (const spec of (input.TagSpecifications ?? []) as In[]) {
      if (spec.ResourceType !== 'security-group-rule') continue;
      for (const t of (spec.Tags ?? []) as In[]) {
        checkTag(t.Key, t.Value);
        for (const r of added) setRuleTag(ctx, r.id, String(t.Key), String(t.Value ?? ''));
      }
    }
    return { Return: true, SecurityGroupRules: added.map((r) => ruleOut(ctx, g, r)) };
  };
}

function revoke(direction: 'ingress' | 'egress'): Handler {
  return (ctx, input) => {
    const ref = groupRef(input);
    let g = groups.getSecurityGroup(ctx, ref);
    const ids = new Set((input.SecurityGroupRuleIds ?? []) as string[]);
    const wanted = ids.size > 0 ? [] : ruleInputs(permsOf(input), direction, true);
    const groupIdOf = (remote: string) => (remote.includes('/') ? remote : groups.getSecurityGroup(ctx, remote).id);
    const victims = g.rules.filter(
      (r) =>
        r.direction === direction &&
        (ids.has(r.id) ||
          wanted.some(
            (w) =>
              w.protocol === r.protocol &&
              JSON.stringify(w.ports ? groups.parsePorts(w.ports) : null) === JSON.stringify(r.portRange) &&
              JSON.stringify(w.icmp ? parseIcmp(w.icmp) : null) === JSON.stringify(r.icmp ?? null) &&
              ('cidr' in r.remote ? r.remote.cidr === w.remote : r.remote.groupId === groupIdOf(w.remote)),
          )),
    );
    if (victims.length === 0) throw new NimbusError('InvalidPermission.NotFound', `no ${direction} rule of security group '${g.name}' matches`);
    for (const r of victims) {
      for (const t of ruleTags(ctx, g.id, r.id)) setAttr(ctx, g.id, RULE_TAG(r.id) + String(t.Key), null);
      g = groups.removeRule(ctx, ref, r.id);
    }
    return { Return: true };
  };
}

export const GROUPS: Record<string, Handler> = {
  CreateSecurityGroup: (ctx, input) => {
    if (!input.GroupName || !input.Description) throw new AwsError('MissingParameter', 'GroupName and GroupDescription are required');
    const vpc = input.VpcId ? vpcs.getVpc(ctx, String(input.VpcId)).id : undefined;
    const g = created(ctx, input, 'security-group', () => {
      const made = groups.createSecurityGroup(ctx, { name: String(input.GroupName), description: String(input.Description) });
      if (vpc) setAttr(ctx, made.id, 'vpc', vpc);
      return made;
    });
    return { GroupId: g.id, SecurityGroupArn: `arn:aws:ec2::${accountId(ctx.projectId)}:security-group/${g.id}`, Tags: plainTags(ctx, g.id) };
  },
  DescribeSecurityGroups: (ctx, input) => {
    const all = groups.listSecurityGroups(ctx);
    missing(input.GroupIds, all, 'InvalidGroup.NotFound', 'security group');
    const names = (input.GroupNames ?? []) as string[];
    const vpcIds = vpcs.listVpcs(ctx).map((v) => v.id);
    const found = filtered(ctx, all, input, 'GroupIds', (g) => ({
      id: g.id,
      'group-id': g.id,
      'group-name': g.name,
      description: g.description,
      'vpc-id': g.isDefault ? vpcIds : vpcOf(ctx, g),
      'owner-id': accountId(ctx.projectId),
    })).filter((g) => names.length === 0 || names.includes(g.name));
    const askedVpc = ((input.Filters ?? []) as In[]).find((f) => f.Name === 'vpc-id')?.Values?.[0] as string | undefined;
    return { SecurityGroups: found.map((g) => groupOut(ctx, g, askedVpc)) };
  },
  DeleteSecurityGroup: (ctx, input) => {
    const g = groups.deleteSecurityGroup(ctx, groupRef(input));
    return { Return: true, GroupId: g.id };
  },
  DescribeSecurityGroupRules: (ctx, input) => {
    const rows = groups.listSecurityGroups(ctx).flatMap((g) => g.rules.map((r) => ({ id: r.id, g, r })));
    missing(input.SecurityGroupRuleIds, rows, 'InvalidSecurityGroupRuleId.NotFound', 'security group rule');
    const found = filtered(ctx, rows, input, 'SecurityGroupRuleIds', (x) => ({
      id: x.id,
      'security-group-rule-id': x.id,
      'group-id': x.g.id,
    }));
    return { SecurityGroupRules: found.map((x) => ruleOut(ctx, x.g, x.r)) };
  },
  AuthorizeSecurityGroupIngress: authorize('ingress'),
  AuthorizeSecurityGroupEgress: authorize('egress'),
  RevokeSecurityGroupIngress: revoke('ingress'),
  RevokeSecurityGroupEgress: revoke('egress'),
};
