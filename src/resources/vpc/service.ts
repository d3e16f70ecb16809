/**
 * VPCs (AWS rules): a private CIDR of /8 to /28, stored with host bits cleared; each VPC
 * is made with its main route table holding the `local` route.
 */
import { NimbusError } from '../../core/errors.js';
import { PRIVATE_RANGES, containsCidr, formatCidr, parseCidr } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import type { Peering, Rename, RouteTable, Vpc, VpcInput } from '../../core/model/index.js';
import { checkName, dependencyViolation, now, resolve, saveUpdate, write, type Ctx } from '../context.js';
import { storedRouteTable } from '../route-table/service.js';

export function checkVpcCidr(text: string): string {
  const c = parseCidr(text, 'cidr');
  if (c.prefix < 8 || c.prefix > 28 || !PRIVATE_RANGES.some((r) => containsCidr(r, c))) {
    throw new NimbusError('InvalidVpc.Range', `cidr '${text}' must lie inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 with a prefix from /8 to /28`);
  }
  return formatCidr(c);
}

export function createVpc(ctx: Ctx, input: VpcInput): Vpc {
  return write(ctx, () => {
    const name = checkName(ctx, 'vpc', input.name);
    const cidr = checkVpcCidr(input.cidr);
    const id = newId('vpc');
    const rtbId = newId('routeTable');
    const vpc: Vpc = { id, name, projectId: ctx.projectId, cidr, status: 'available', mainRouteTableId: rtbId, createdAt: now() };
    ctx.store.insert('vpc', vpc);
    let rtbName = `${name}-main`;
    if (ctx.store.byName('routeTable', ctx.projectId, rtbName)) rtbName = `${name}-main-${rtbId.slice(4, 12)}`;
    const rtb = storedRouteTable({ id: rtbId, name: rtbName, projectId: ctx.projectId, vpcId: id, main: true, cidr });
    ctx.store.insert('routeTable', rtb, id);
    ctx.feed.record({ kind: 'vpc', id, op: 'created' });
    ctx.feed.record({ kind: 'routeTable', id: rtbId, op: 'created' });
    return vpc;
  });
}

export function getVpc(ctx: Ctx, ref: string): Vpc {
  return resolve<Vpc>(ctx, 'vpc', ref);
}

export function listVpcs(ctx: Ctx): Vpc[] {
  return ctx.store.list<Vpc>('vpc', { projectId: ctx.projectId });
}

export function updateVpc(ctx: Ctx, ref: string, input: Rename): Vpc {
  return write(ctx, () => {
    const vpc = getVpc(ctx, ref);
    if (input.name !== undefined) vpc.name = checkName(ctx, 'vpc', input.name, vpc.id);
    saveUpdate(ctx, 'vpc', vpc);
    return vpc;
  });
}

/** Peerings that still join a VPC (pending or active); rejected and deleted ones are records only. */
export function livePeeringsOf(ctx: Ctx, vpcId: string): Peering[] {
  return ctx.store
    .list<Peering>('peering')
    .filter((p) => (p.requesterVpcId === vpcId || p.accepterVpcId === vpcId) && (p.status === 'active' || p.status === 'pending-acceptance'));
}

export function deleteVpc(ctx: Ctx, ref: string): Vpc {
  return write(ctx, () => {
    const vpc = getVpc(ctx, ref);
    const blockers = [
      ...ctx.store.list<{ id: string; name: string }>('subnet', { parentId: vpc.id }),
      ...ctx.store.list<RouteTable>('routeTable', { parentId: vpc.id }).filter((t) => !t.main),
      ...livePeeringsOf(ctx, vpc.id),
    ];
    if (blockers.length > 0) throw dependencyViolation(`VPC '${vpc.name}'`, blockers);
    ctx.store.delete(vpc.mainRouteTableId);
    ctx.store.delete(vpc.id);
    ctx.feed.record({ kind: 'routeTable', id: vpc.mainRouteTableId, op: 'deleted' });
    ctx.feed.record({ kind: 'vpc', id: vpc.id, op: 'deleted' });
    return vpc;
  });
}
