/**
 * VPCs (AWS rules): a private CIDR of /8 to /28, stored with host bits cleared; each VPC
 * is made with its main route table holding the `local` route, and its default network ACL.
 */
import { dropFlowLogsOf } from '../flow-log/service.js';
import { NimbusError, invalid } from '../../core/errors.js';
import { PRIVATE_RANGES, containsCidr, formatCidr, parseCidr } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import type { InternetGateway, NatGateway, LoadBalancer, Member, ResourceRef, RouteTable, Server, Vpc, VpcInput, VpcUpdate } from '../../core/model/index.js';
import { kindOfId } from '../../core/ids.js';
import { deleteLoadBalancer, deleteMember } from '../load-balancer/service.js';
import { deleteServer } from '../server/service.js';
import { deleteNatGateway, detachInternetGateway } from '../edge/service.js';
import { deleteSubnet } from '../subnet/service.js';
import { deleteRouteTable, storedRouteTable } from '../route-table/service.js';
import { createDefaultAcl, deleteNetworkAcl, type StoredAcl } from '../network-acl/service.js';
import { deletePeering, livePeeringsOf } from '../peering/service.js';
import { checkName, checkQuota, dependencyViolation, now, resolve, saveUpdate, write, type Ctx } from '../context.js';

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
    checkQuota(ctx, 'vpcs', listVpcs(ctx).length, 'VPCs');
    const cidr = checkVpcCidr(input.cidr);
    const id = newId('vpc');
    const rtbId = newId('routeTable');
    const vpc: Vpc = {
      id,
      name,
      projectId: ctx.projectId,
      cidr,
      status: 'available',
      mainRouteTableId: rtbId,
      ...dnsFlags(input),
      createdAt: now(),
    };
    ctx.store.insert('vpc', vpc);
    let rtbName = `${name}-main`;
    if (ctx.store.byName('routeTable', ctx.projectId, rtbName)) rtbName = `${name}-main-${rtbId.slice(4, 12)}`;
    const rtb = storedRouteTable({ id: rtbId, name: rtbName, projectId: ctx.projectId, vpcId: id, main: true, cidr });
    ctx.store.insert('routeTable', rtb, id);
    createDefaultAcl(ctx, vpc);
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

/** The DNS switches as given, checked: names need the resolver (AWS's rule); with it off they answer nowhere (core/dns.ts dnsHostnames). */
function dnsFlags(input: { enableDnsSupport?: boolean; enableDnsHostnames?: boolean }, was: Partial<Vpc> = {}): Partial<Vpc> {
  const out: Partial<Vpc> = {};
  for (const k of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
    const v = input[k];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw invalid(`${k}: '${String(v)}' must be true or false`);
    out[k] = v;
  }
  const support = out.enableDnsSupport ?? was.enableDnsSupport ?? true;
  if (!support && out.enableDnsHostnames === true) throw invalid('enableDnsHostnames: true needs enableDnsSupport (the resolver that answers for the names)');
  return out;
}

export function updateVpc(ctx: Ctx, ref: string, input: VpcUpdate): Vpc {
  return write(ctx, () => {
    const vpc = getVpc(ctx, ref);
    if (input.name !== undefined) vpc.name = checkName(ctx, 'vpc', input.name, vpc.id);
    Object.assign(vpc, dnsFlags(input, vpc));
    saveUpdate(ctx, 'vpc', vpc);
    return vpc;
  });
}

/**
 * Everything a cascade delete of the VPC removes, in the order it goes: its load balancers (with
 * their listeners, pools, members and monitors), members elsewhere that are its servers, its
 * servers, subnets, route tables other than the main one, and the peerings that still join it.
 */
export function vpcDependants(ctx: Ctx, ref: string): ResourceRef[] {
  const vpc = getVpc(ctx, ref);
  const lbs = ctx.store.list<LoadBalancer>('loadBalancer', { projectId: ctx.projectId }).filter((l) => l.vpcId === vpc.id);
  const lbParts = lbs.flatMap((lb) => {
    const pools = ctx.store.list<{ id: string; name: string }>('pool', { parentId: lb.id });
    return [
      ...ctx.store.list<{ id: string; name: string }>('listener', { parentId: lb.id }),
      ...pools.flatMap((p) => [
        ...ctx.store.list<{ id: string; name: string }>('healthMonitor', { parentId: p.id }),
        ...ctx.store.list<{ id: string; name: string }>('member', { parentId: p.id }),
      ]),
      ...pools,
      lb,
    ];
  });
  const servers = ctx.store.list<Server>('server', { projectId: ctx.projectId }).filter((s) => s.vpcId === vpc.id);
  const serverIds = new Set(servers.map((s) => s.id));
  const seen = new Set(lbParts.map((x) => x.id));
  const members = ctx.store.list<Member>('member', { projectId: ctx.projectId }).filter((m) => m.serverId && serverIds.has(m.serverId) && !seen.has(m.id));
  return [
    ...lbParts,
    ...members,
    ...servers,
    ...ctx.store.list<NatGateway>('natGateway', { projectId: ctx.projectId }).filter((n) => n.vpcId === vpc.id),
    ...ctx.store.list<InternetGateway>('internetGateway', { projectId: ctx.projectId }).filter((g) => g.vpcId === vpc.id),
    ...ctx.store.list<{ id: string; name: string }>('subnet', { parentId: vpc.id }),
    ...ctx.store.list<RouteTable>('routeTable', { parentId: vpc.id }).filter((t) => !t.main),
    ...ctx.store.list<StoredAcl>('networkAcl', { parentId: vpc.id }).filter((a) => !a.isDefault),
    ...livePeeringsOf(ctx, vpc.id),
  ].map((d) => ({ kind: kindOfId(d.id) ?? 'resource', id: d.id, name: d.name }));
}

/**
 * Deletes a VPC with its main route table. With `cascade`, everything vpcDependants() lists goes
 * first, in one transaction (nothing is deleted when any part is refused); without, what is left
 * in it is a DependencyViolation.
 */
export function deleteVpc(ctx: Ctx, ref: string, opts: { cascade?: boolean } = {}): Vpc {
  return write(ctx, () => {
    const vpc = getVpc(ctx, ref);
    if (opts.cascade) {
      for (const d of vpcDependants(ctx, vpc.id)) {
        const kind = d.kind;
        if (kind === 'loadBalancer') deleteLoadBalancer(ctx, d.id, { cascade: true });
        else if (kind === 'member' && ctx.store.get(d.id, 'member')) deleteMember(ctx, d.id);
        else if (kind === 'server') deleteServer(ctx, d.id);
        else if (kind === 'natGateway') deleteNatGateway(ctx, d.id);
        // An internet gateway is not inside the VPC: a cascade detaches it and leaves it.
        else if (kind === 'internetGateway') detachInternetGateway(ctx, d.id);
        else if (kind === 'subnet') deleteSubnet(ctx, d.id);
        else if (kind === 'routeTable') deleteRouteTable(ctx, d.id);
        else if (kind === 'networkAcl') deleteNetworkAcl(ctx, d.id);
        else if (kind === 'peering') deletePeering(ctx, d.id);
      }
    }
    const blockers = [
      ...ctx.store.list<InternetGateway>('internetGateway', { projectId: ctx.projectId }).filter((g) => g.vpcId === vpc.id),
      ...ctx.store.list<{ id: string; name: string }>('subnet', { parentId: vpc.id }),
      ...ctx.store.list<RouteTable>('routeTable', { parentId: vpc.id }).filter((t) => !t.main),
      ...ctx.store.list<StoredAcl>('networkAcl', { parentId: vpc.id }).filter((a) => !a.isDefault),
      ...livePeeringsOf(ctx, vpc.id),
    ];
    if (blockers.length > 0) throw dependencyViolation(`VPC '${vpc.name}'`, blockers, ctx.projectId);
    ctx.store.delete(vpc.mainRouteTableId);
    dropFlowLogsOf(ctx, vpc.id, vpc.id);
    for (const a of ctx.store.list<StoredAcl>('networkAcl', { parentId: vpc.id })) {
      ctx.store.delete(a.id);
      ctx.feed.record({ kind: 'networkAcl', id: a.id, op: 'deleted' });
    }
    ctx.store.delete(vpc.id);
    ctx.feed.record({ kind: 'routeTable', id: vpc.mainRouteTableId, op: 'deleted' });
    ctx.feed.record({ kind: 'vpc', id: vpc.id, op: 'deleted' });
    return vpc;
  });
}
