/**
 * Subnets (AWS rules): inside their VPC, no smaller than /28, no overlap with a sibling.
 * The gateway is the first host; five addresses are reserved (see core/cidr.ts).
 */
import { dropFlowLogsOf } from '../flow-log/service.js';
import { NimbusError, invalid } from '../../core/errors.js';
import { containsCidr, formatCidr, gatewayOf, intToIp, overlaps, parseCidr, usableCount } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import type { Rename, Subnet, SubnetInput, Vpc } from '../../core/model/index.js';
import { checkName, checkQuota, dependencyViolation, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';
import type { StoredRouteTable } from '../route-table/service.js';

export function createSubnet(ctx: Ctx, input: SubnetInput): Subnet {
  return write(ctx, () => {
    const name = checkName(ctx, 'subnet', input.name);
    const vpc = resolve<Vpc>(ctx, 'vpc', input.vpc, 'vpc');
    checkQuota(ctx, 'subnetsPerVpc', ctx.store.list('subnet', { parentId: vpc.id }).length, `subnets in VPC '${vpc.name}'`);
    const c = parseCidr(input.cidr, 'cidr');
    const cidr = formatCidr(c);
    if (c.prefix > 28 || !containsCidr(parseCidr(vpc.cidr), c)) {
      throw new NimbusError('InvalidSubnet.Range', `cidr '${input.cidr}' must lie inside VPC '${vpc.name}' (${vpc.cidr}) with a prefix of /28 or larger`);
    }
    const sibling = ctx.store.list<Subnet>('subnet', { parentId: vpc.id }).find((s) => overlaps(parseCidr(s.cidr), c));
    if (sibling) {
      throw new NimbusError('InvalidSubnet.Conflict', `cidr '${cidr}' overlaps subnet '${sibling.name}' (${sibling.cidr})`);
    }
    let routeTableId = vpc.mainRouteTableId;
    if (input.routeTable) {
      const t = resolve<StoredRouteTable>(ctx, 'routeTable', input.routeTable, 'routeTable');
      if (t.vpcId !== vpc.id) {
        throw invalid(`routeTable: '${t.name}' belongs to ${t.vpcId}, not to VPC '${vpc.name}'`);
      }
      routeTableId = t.id;
    }
    const subnet: Subnet = {
      id: newId('subnet'),
      name,
      projectId: ctx.projectId,
      vpcId: vpc.id,
      cidr,
      gatewayIp: intToIp(gatewayOf(c)),
      routeTableId,
      explicitRouteTable: routeTableId !== vpc.mainRouteTableId,
      availableIpCount: usableCount(c),
      status: 'available',
      createdAt: now(),
    };
    saveNew(ctx, 'subnet', subnet, vpc.id);
    return subnet;
  });
}

export function getSubnet(ctx: Ctx, ref: string): Subnet {
  return resolve<Subnet>(ctx, 'subnet', ref);
}

export function listSubnets(ctx: Ctx, filter: { vpc?: string } = {}): Subnet[] {
  if (filter.vpc) return ctx.store.list<Subnet>('subnet', { parentId: resolve<Vpc>(ctx, 'vpc', filter.vpc, 'vpc').id });
  return ctx.store.list<Subnet>('subnet', { projectId: ctx.projectId });
}

export function updateSubnet(ctx: Ctx, ref: string, input: Rename): Subnet {
  return write(ctx, () => {
    const subnet = getSubnet(ctx, ref);
    if (input.name !== undefined) subnet.name = checkName(ctx, 'subnet', input.name, subnet.id);
    saveUpdate(ctx, 'subnet', subnet);
    return subnet;
  });
}

export function deleteSubnet(ctx: Ctx, ref: string): Subnet {
  return write(ctx, () => {
    const subnet = getSubnet(ctx, ref);
    const users = [
      ...ctx.store.list<{ id: string; name: string }>('server', { parentId: subnet.id }),
      ...ctx.store.list<{ id: string; name: string }>('loadBalancer', { parentId: subnet.id }),
      ...ctx.store.list<{ id: string; name: string }>('natGateway', { parentId: subnet.id }),
    ];
    if (users.length > 0) throw dependencyViolation(`subnet '${subnet.name}'`, users);
    dropFlowLogsOf(ctx, subnet.vpcId, subnet.id);
    saveDelete(ctx, 'subnet', subnet);
    return subnet;
  });
}
