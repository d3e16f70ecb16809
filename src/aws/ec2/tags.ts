/**
 * EC2's CreateTags, DeleteTags and DescribeTags. The Name tag is the resource's Nimbus name
 * (CreateTags renames; DeleteTags leaves the name and stops showing it as a tag), except on a
 * security group, whose name is its GroupName and whose Name tag is an ordinary tag.
 */
import { NimbusError } from '../../core/errors.js';
import { kindOfId } from '../../core/ids.js';
import { write, type Ctx } from '../../resources/context.js';
import * as vpcs from '../../resources/vpc/service.js';
import * as subnets from '../../resources/subnet/service.js';
import * as servers from '../../resources/server/service.js';
import * as groups from '../../resources/security-group/service.js';
import * as tables from '../../resources/route-table/service.js';
import * as peerings from '../../resources/peering/service.js';
import * as edge from '../../resources/edge/service.js';
import * as acls from '../../resources/network-acl/service.js';
import { AwsError } from '../codec.js';
import { checkTagCount } from '../tags.js';
import { ruleTagKeys, setRuleTag } from './groups.js';
import { appTag, checkTag, filtered, named, NAME_IS_TAG, setAttr, userTags, type Handler } from './kit.js';

const TAGGED = 'a VPC, subnet, instance, security group, route table, peering, internet gateway, elastic IP, NAT gateway or network ACL';

function rename(ctx: Ctx, id: string, name: string): void {
  switch (kindOfId(id)) {
    case 'vpc':
      vpcs.updateVpc(ctx, id, { name });
      break;
    case 'subnet':
      subnets.updateSubnet(ctx, id, { name });
      break;
    case 'server':
      servers.updateServer(ctx, id, { name });
      break;
    case 'routeTable':
      tables.renameRouteTable(ctx, id, { name });
      break;
    case 'peering':
      peerings.renamePeering(ctx, id, { name });
      break;
    case 'internetGateway':
      edge.renameInternetGateway(ctx, id, { name });
      break;
    case 'elasticIp':
      edge.renameAddress(ctx, id, { name });
      break;
    case 'natGateway':
      edge.renameNatGateway(ctx, id, { name });
      break;
    case 'networkAcl':
      acls.renameNetworkAcl(ctx, id, { name });
      break;
    default:
      throw new AwsError('InvalidID', `The ID '${id}' is not a resource Nimbus tags (${TAGGED})`);
  }
  setAttr(ctx, id, 'unnamed', null);
}

const NOT_FOUND = {
  vpc: 'InvalidVpcID',
  subnet: 'InvalidSubnetID',
  server: 'InvalidInstanceID',
  securityGroup: 'InvalidGroup',
  routeTable: 'InvalidRouteTableID',
  peering: 'InvalidVpcPeeringConnectionID',
  internetGateway: 'InvalidInternetGatewayID',
  elasticIp: 'InvalidAllocationID',
  natGateway: 'InvalidNatGatewayID',
  networkAcl: 'InvalidNetworkAclID',
} as const;

interface Taggable {
  id: string;
  name: string;
  type: string;
  own?: Record<string, string>;
}

function taggable(ctx: Ctx): Taggable[] {
  return [
    ...vpcs.listVpcs(ctx).map((x) => ({ id: x.id, name: x.name, type: 'vpc' })),
    ...subnets.listSubnets(ctx).map((x) => ({ id: x.id, name: x.name, type: 'subnet' })),
    ...servers.listServers(ctx).map((x) => ({ id: x.id, name: x.name, type: 'instance', own: appTag(ctx, x) })),
    ...groups.listSecurityGroups(ctx).map((x) => ({ id: x.id, name: x.name, type: NAME_IS_TAG })),
    ...tables.listRouteTables(ctx).map((x) => ({ id: x.id, name: x.name, type: 'route-table' })),
    ...peerings.listPeerings(ctx).map((x) => ({ id: x.id, name: x.name, type: 'vpc-peering-connection' })),
    ...edge.listInternetGateways(ctx).map((x) => ({ id: x.id, name: x.name, type: 'internet-gateway' })),
    ...edge
      .listAddresses(ctx)
      .filter((x) => !x.loadBalancerId)
      .map((x) => ({ id: x.id, name: x.name, type: 'elastic-ip' })),
    ...edge.listNatGateways(ctx).map((x) => ({ id: x.id, name: x.name, type: 'natgateway' })),
    ...acls.listNetworkAcls(ctx).map((x) => ({ id: x.id, name: x.name, type: 'network-acl' })),
  ];
}

/** A resource CreateTags and DeleteTags may change, by id, in the caller's project. */
function taggedResource(ctx: Ctx, id: string): Taggable {
  const r = taggable(ctx).find((x) => x.id === id);
  if (r) return r;
  const kind = kindOfId(id);
  if (!kind || !NOT_FOUND[kind as keyof typeof NOT_FOUND]) throw new AwsError('InvalidID', `The ID '${id}' is not a resource Nimbus tags (${TAGGED})`);
  throw new AwsError(`${NOT_FOUND[kind as keyof typeof NOT_FOUND]}.NotFound`, `The ID '${id}' does not exist`);
}

function appFixed(id: string): never {
  throw new NimbusError('InvalidParameterValue', `${id}: the nimbus:app tag picks the workload at launch (RunInstances) and cannot be changed`);
}

/** Whether a tag key stands for a field of the resource rather than being kept beside it. */
const isName = (r: Taggable, key: string) => key === 'Name' && r.type !== NAME_IS_TAG;

export const TAGS: Record<string, Handler> = {
  CreateTags: (ctx, input) => {
    const ids = (input.Resources ?? []) as string[];
    const tags = (input.Tags ?? []) as { Key?: string; Value?: string }[];
    if (ids.length === 0 || tags.length === 0) throw new AwsError('MissingParameter', 'ResourceId.N and Tag.N are required');
    for (const t of tags) checkTag(t.Key, t.Value);
    write(ctx, () => {
      for (const id of ids) {
        if (kindOfId(id) === 'securityGroupRule') {
          for (const t of tags) setRuleTag(ctx, id, String(t.Key), String(t.Value ?? ''));
          continue;
        }
        const r = taggedResource(ctx, id);
        for (const t of tags) {
          const key = String(t.Key);
          const value = String(t.Value ?? '');
          if (isName(r, key)) rename(ctx, r.id, value);
          else if (key === 'nimbus:app' && r.type === 'instance') appFixed(r.id);
          else ctx.store.setTag(r.id, key, value);
        }
        checkTagCount(r.id, Object.keys(userTags(ctx, r.id)).length, 1, 'TagLimitExceeded');
      }
    });
    return {};
  },
  DeleteTags: (ctx, input) => {
    const ids = (input.Resources ?? []) as string[];
    if (ids.length === 0) throw new AwsError('MissingParameter', 'ResourceId.N is required');
    const tags = (input.Tags ?? []) as { Key?: string; Value?: string }[];
    write(ctx, () => {
      for (const id of ids) {
        if (kindOfId(id) === 'securityGroupRule') {
          for (const key of tags.length > 0 ? tags.map((t) => String(t.Key)) : ruleTagKeys(ctx, id)) setRuleTag(ctx, id, key, null);
          continue;
        }
        const r = taggedResource(ctx, id);
        const have = userTags(ctx, r.id);
        // No Tag.N: every tag goes, as AWS deletes them all. A value given must match.
        const keys = tags.length > 0 ? tags : [...Object.keys(have), 'Name'].map((Key) => ({ Key, Value: undefined }));
        for (const t of keys) {
          const key = String(t.Key);
          if (isName(r, key)) {
            // The name stays (a Nimbus resource has one); AWS no longer shows it as a tag.
            if (named(ctx, r.id) && (t.Value === undefined || t.Value === r.name)) setAttr(ctx, r.id, 'unnamed', '1');
            continue;
          }
          if (key === 'nimbus:app' && r.type === 'instance') appFixed(r.id);
          if (key in have && (t.Value === undefined || t.Value === have[key])) ctx.store.setTag(r.id, key, null);
        }
      }
    });
    return {};
  },
  DescribeTags: (ctx, input) => {
    const rows = taggable(ctx).flatMap((r) =>
      Object.entries({ ...(r.type !== NAME_IS_TAG && named(ctx, r.id) ? { Name: r.name } : {}), ...r.own, ...userTags(ctx, r.id) }).map(([key, value]) => ({
        ...r,
        key,
        value,
      })),
    );
    const found = filtered(ctx, rows, input, null, (t) => ({ id: t.id, 'resource-id': t.id, 'resource-type': t.type, key: t.key, value: t.value }));
    return { Tags: found.map((t) => ({ ResourceId: t.id, ResourceType: t.type, Key: t.key, Value: t.value })) };
  },
};
