/**
 * Network ACLs as EC2 serves them: entries numbered 1-32766 with AWS's protocol numbers
 * (-1, 6, 17, 1), the final `*` rule shown as 32767 as AWS shows it, and associations with
 * ids of their own (`aclassoc-<subnet's hex>`): ReplaceNetworkAclAssociation moves a subnet.
 */
import { NimbusError } from '../../core/errors.js';
import type { AclRule, AclRuleInput, NetworkAcl, Subnet } from '../../core/model/index.js';
import type { Ctx } from '../../resources/context.js';
import * as acls from '../../resources/network-acl/service.js';
import { AwsError } from '../codec.js';
import { accountId, boolValue, created, filtered, missing, nameFor, nameTag, need, tagsOut, type Handler, type In, type Out } from './kit.js';

const PROTOCOL_OUT: Record<AclRule['protocol'], string> = { all: '-1', tcp: '6', udp: '17', icmp: '1' };
const PROTOCOL_IN: Record<string, AclRule['protocol']> = {
  '-1': 'all',
  all: 'all',
  '6': 'tcp',
  tcp: 'tcp',
  '17': 'udp',
  udp: 'udp',
  '1': 'icmp',
  icmp: 'icmp',
};

const assocId = (subnetId: string) => `aclassoc-${subnetId.slice(subnetId.indexOf('-') + 1)}`;

function entryOut(r: AclRule): Out {
  return {
    RuleNumber: r.number,
    Protocol: PROTOCOL_OUT[r.protocol],
    RuleAction: r.action,
    Egress: r.direction === 'egress',
    CidrBlock: r.cidr,
    ...(r.portRange ? { PortRange: { From: r.portRange.from, To: r.portRange.to } } : {}),
    ...(r.protocol === 'icmp' ? { IcmpTypeCode: { Type: r.icmp?.type ?? -1, Code: r.icmp?.code ?? -1 } } : {}),
  };
}

const star = (egress: boolean): Out => ({ RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: egress, CidrBlock: '0.0.0.0/0' });

function aclOut(ctx: Ctx, a: NetworkAcl): Out {
  return {
    NetworkAclId: a.id,
    VpcId: a.vpcId,
    IsDefault: a.isDefault,
    OwnerId: accountId(ctx.projectId),
    Entries: [...a.rules.map(entryOut), star(false), star(true)],
    Associations: a.subnetIds.map((s) => ({ NetworkAclAssociationId: assocId(s), NetworkAclId: a.id, SubnetId: s })),
    Tags: tagsOut(ctx, a.id, a.name),
  };
}

/** An entry's input in AWS's form as a Nimbus rule input. */
function ruleInput(input: In): AclRuleInput {
  const protocol = PROTOCOL_IN[String(input.Protocol ?? '')];
  if (!protocol)
    throw new NimbusError('InvalidParameterValue', `Protocol '${String(input.Protocol)}': Nimbus's ACLs take -1 (all), 6 (tcp), 17 (udp) and 1 (icmp)`);
  if (input.Ipv6CidrBlock) throw new NimbusError('InvalidParameterValue', 'Ipv6CidrBlock: Nimbus has no IPv6');
  const action = String(need(input, 'RuleAction'));
  if (action !== 'allow' && action !== 'deny') throw new NimbusError('InvalidParameterValue', `RuleAction '${action}' must be allow or deny`);
  const from = input.PortRange?.From;
  const to = input.PortRange?.To;
  const icmpType = input.IcmpTypeCode?.Type;
  const icmpCode = input.IcmpTypeCode?.Code;
  return {
    number: Number(need(input, 'RuleNumber')),
    direction: boolValue(input.Egress) ? 'egress' : 'ingress',
    action,
    protocol,
    cidr: need(input, 'CidrBlock'),
    ...((protocol === 'tcp' || protocol === 'udp') && from !== undefined ? { ports: from === to || to === undefined ? `${from}` : `${from}-${to}` } : {}),
    ...(protocol === 'icmp' && icmpType !== undefined && Number(icmpType) !== -1
      ? { icmp: icmpCode === undefined || Number(icmpCode) === -1 ? `${icmpType}` : `${icmpType}/${icmpCode}` }
      : {}),
  };
}

export const ACLS: Record<string, Handler> = {
  CreateNetworkAcl: (ctx, input) => {
    const vpc = need(input, 'VpcId');
    const name = nameFor(input, 'network-acl', 'acl', () => acls.listNetworkAcls(ctx).map((a) => a.name));
    const a = created(ctx, input, 'network-acl', () => acls.createNetworkAcl(ctx, { name, vpc }));
    return { NetworkAcl: aclOut(ctx, acls.getNetworkAcl(ctx, a.id)) };
  },
  DescribeNetworkAcls: (ctx, input) => {
    const all = acls.listNetworkAcls(ctx);
    missing(input.NetworkAclIds, all, 'InvalidNetworkAclID.NotFound', 'network ACL');
    const found = filtered(ctx, all, input, 'NetworkAclIds', (a) => ({
      id: a.id,
      'network-acl-id': a.id,
      'vpc-id': a.vpcId,
      default: String(a.isDefault),
      'owner-id': accountId(ctx.projectId),
      'association.subnet-id': a.subnetIds,
      'association.association-id': a.subnetIds.map(assocId),
      'association.network-acl-id': a.id,
      'entry.rule-number': a.rules.map((r) => String(r.number)),
      'entry.rule-action': a.rules.map((r) => r.action),
      'entry.cidr': a.rules.map((r) => r.cidr),
      'entry.egress': a.rules.map((r) => String(r.direction === 'egress')),
      'entry.protocol': a.rules.map((r) => PROTOCOL_OUT[r.protocol]),
      'tag:Name': nameTag(ctx, a.id, a.name),
    }));
    return { NetworkAcls: found.map((a) => aclOut(ctx, a)) };
  },
  DeleteNetworkAcl: (ctx, input) => {
    acls.deleteNetworkAcl(ctx, need(input, 'NetworkAclId'));
    return {};
  },
  CreateNetworkAclEntry: (ctx, input) => {
    acls.addAclRule(ctx, need(input, 'NetworkAclId'), ruleInput(input));
    return {};
  },
  ReplaceNetworkAclEntry: (ctx, input) => {
    acls.addAclRule(ctx, need(input, 'NetworkAclId'), ruleInput(input), { replace: true });
    return {};
  },
  DeleteNetworkAclEntry: (ctx, input) => {
    acls.removeAclRule(ctx, need(input, 'NetworkAclId'), boolValue(input.Egress) ? 'egress' : 'ingress', Number(need(input, 'RuleNumber')));
    return {};
  },
  ReplaceNetworkAclAssociation: (ctx, input) => {
    const id = need(input, 'AssociationId');
    const subnet = id.startsWith('aclassoc-') ? ctx.store.get<Subnet>(`subnet-${id.slice('aclassoc-'.length)}`, 'subnet') : undefined;
    if (!subnet || subnet.projectId !== ctx.projectId) throw new AwsError('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`);
    acls.associateAcl(ctx, need(input, 'NetworkAclId'), subnet.id);
    // AWS gives the moved subnet a new association id; Nimbus's is the subnet's, the same before and after.
    return { NewAssociationId: assocId(subnet.id) };
  },
};
