/**
 * Route tables and their routes (AWS rules). Each VPC has a main table with the `local`
 * route; subnets follow the main table unless associated with another. A route's state is
 * derived on read: `blackhole` when its target is a blackhole or a peering that is not active.
 */
import { NimbusError, invalid } from '../../core/errors.js';
import { formatCidr, overlaps, parseCidr, containsCidr } from '../../core/cidr.js';
import { looksLikeId, newId } from '../../core/ids.js';
import type {
  InternetGateway,
  NatGateway,
  Peering,
  Rename,
  Route,
  RouteInput,
  RouteTable,
  RouteTableInput,
  RouteTarget,
  Subnet,
  Vpc,
} from '../../core/model/index.js';
import { edgeTarget } from '../edge/service.js';
import { checkName, checkQuota, dependencyViolation, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';

const LINK_LOCAL = parseCidr('169.254.0.0/16');

/** A route table as stored: routes without their derived state. */
export interface StoredRouteTable {
  id: string;
  name: string;
  projectId: string;
  vpcId: string;
  main: boolean;
  routes: { destination: string; target: RouteTarget }[];
  createdAt: string;
}

export function storedRouteTable(t: { id: string; name: string; projectId: string; vpcId: string; main: boolean; cidr: string }): StoredRouteTable {
  return {
    id: t.id,
    name: t.name,
    projectId: t.projectId,
    vpcId: t.vpcId,
    main: t.main,
    routes: [{ destination: t.cidr, target: { type: 'local' } }],
    createdAt: now(),
  };
}

/** Fills in route states and associated subnets. */
export function present(ctx: Ctx, t: StoredRouteTable): RouteTable {
  const routes: Route[] = t.routes.map((r) => ({ ...r, state: routeState(ctx, r.target, t.vpcId) }));
  const subnetIds = ctx.store
    .list<Subnet>('subnet', { parentId: t.vpcId })
    .filter((s) => s.routeTableId === t.id)
    .map((s) => s.id);
  return { ...t, routes, subnetIds };
}

function routeState(ctx: Ctx, target: RouteTarget, vpcId: string): Route['state'] {
  if (target.type === 'local') return 'active';
  if (target.type === 'blackhole') return 'blackhole';
  if (target.type === 'internetGateway') return ctx.store.get<InternetGateway>(target.gatewayId, 'internetGateway')?.vpcId === vpcId ? 'active' : 'blackhole';
  if (target.type === 'natGateway') return ctx.store.get<NatGateway>(target.natGatewayId, 'natGateway')?.status === 'available' ? 'active' : 'blackhole';
  const p = ctx.store.get<Peering>(target.peeringId, 'peering');
  return p && p.status === 'active' ? 'active' : 'blackhole';
}

function getStored(ctx: Ctx, ref: string): StoredRouteTable {
  return resolve<StoredRouteTable>(ctx, 'routeTable', ref);
}

export function getRouteTable(ctx: Ctx, ref: string): RouteTable {
  return present(ctx, getStored(ctx, ref));
}

export function listRouteTables(ctx: Ctx, filter: { vpc?: string } = {}): RouteTable[] {
  const tables = filter.vpc
    ? ctx.store.list<StoredRouteTable>('routeTable', { parentId: resolve<Vpc>(ctx, 'vpc', filter.vpc).id })
    : ctx.store.list<StoredRouteTable>('routeTable', { projectId: ctx.projectId });
  return tables.map((t) => present(ctx, t));
}

export function createRouteTable(ctx: Ctx, input: RouteTableInput): RouteTable {
  return write(ctx, () => {
    const name = checkName(ctx, 'routeTable', input.name);
    const vpc = resolve<Vpc>(ctx, 'vpc', input.vpc, 'vpc');
    const t = storedRouteTable({ id: newId('routeTable'), name, projectId: ctx.projectId, vpcId: vpc.id, main: false, cidr: vpc.cidr });
    saveNew(ctx, 'routeTable', t, vpc.id);
    return present(ctx, t);
  });
}

export function renameRouteTable(ctx: Ctx, ref: string, input: Rename): RouteTable {
  return write(ctx, () => {
    const t = getStored(ctx, ref);
    if (input.name !== undefined) t.name = checkName(ctx, 'routeTable', input.name, t.id);
    saveUpdate(ctx, 'routeTable', t);
    return present(ctx, t);
  });
}

export function deleteRouteTable(ctx: Ctx, ref: string): RouteTable {
  return write(ctx, () => {
    const t = present(ctx, getStored(ctx, ref));
    // AWS's answer: the main table is a dependency of its VPC.
    if (t.main) throw new NimbusError('DependencyViolation', `route table '${t.name}' is the main table of ${t.vpcId}: it goes with its VPC`);
    if (t.subnetIds.length > 0) {
      throw dependencyViolation(
        `route table '${t.name}'`,
        t.subnetIds.map((id) => ctx.store.get<{ id: string; name: string }>(id, 'subnet') ?? { id, name: id }),
      );
    }
    saveDelete(ctx, 'routeTable', t);
    return t;
  });
}

/** Associates a subnet with a table of its VPC (the subnet leaves whatever table it had). */
export function associate(ctx: Ctx, ref: string, subnetRef: string): RouteTable {
  return write(ctx, () => {
    const t = getStored(ctx, ref);
    const subnet = resolve<Subnet>(ctx, 'subnet', subnetRef, 'subnet');
    if (subnet.vpcId !== t.vpcId) {
      throw invalid(`subnet: '${subnet.name}' is in ${subnet.vpcId}, route table '${t.name}' in ${t.vpcId}`);
    }
    subnet.routeTableId = t.id;
    subnet.explicitRouteTable = !t.main;
    saveUpdate(ctx, 'subnet', subnet);
    ctx.feed.record({ kind: 'routeTable', id: t.id, op: 'updated' });
    return present(ctx, t);
  });
}

/** Returns a subnet to its VPC's main table. */
export function disassociate(ctx: Ctx, subnetRef: string): Subnet {
  return write(ctx, () => {
    const subnet = resolve<Subnet>(ctx, 'subnet', subnetRef, 'subnet');
    const vpc = ctx.store.get<Vpc>(subnet.vpcId, 'vpc')!;
    const old = subnet.routeTableId;
    subnet.routeTableId = vpc.mainRouteTableId;
    subnet.explicitRouteTable = false;
    saveUpdate(ctx, 'subnet', subnet);
    ctx.feed.record({ kind: 'routeTable', id: old, op: 'updated' });
    return subnet;
  });
}

/** A route to add: to the table named (by name or id), or to `vpc`'s main table. */
export type RouteRequest = RouteInput & { routeTable?: string; vpc?: string };

function tableFor(ctx: Ctx, input: { routeTable?: string; vpc?: string }): StoredRouteTable {
  if (input.routeTable) return getStored(ctx, input.routeTable);
  if (input.vpc) return getStored(ctx, resolve<Vpc>(ctx, 'vpc', input.vpc, 'vpc').mainRouteTableId);
  throw invalid('routeTable: a route table or a VPC (for its main table) is required');
}

/** A peering this VPC is a side of, by id or by name in either side's project. */
function peeringOfVpc(ctx: Ctx, vpcId: string, ref: string): Peering {
  const sides = ctx.store
    .list<Peering>('peering')
    .filter((p) => (p.status === 'active' || p.status === 'pending-acceptance') && (p.requesterVpcId === vpcId || p.accepterVpcId === vpcId));
  const found = looksLikeId('peering', ref) ? sides.find((p) => p.id === ref) : sides.find((p) => p.name === ref);
  if (!found) {
    throw new NimbusError('InvalidVpcPeeringConnectionID.NotFound', `peering '${ref}' does not exist or does not join ${vpcId}`);
  }
  return found;
}

/** A route's target: blackhole, an internet gateway attached to the VPC, a NAT gateway in it, or a peering joining it. */
function routeTarget(ctx: Ctx, vpc: Vpc, ref: string): RouteTarget {
  if (ref === 'blackhole') return { type: 'blackhole' };
  const edge = edgeTarget(ctx, ref);
  if (edge?.type === 'internetGateway') {
    if (edge.gateway.vpcId !== vpc.id) {
      throw new NimbusError('Gateway.NotAttached', `internet gateway '${edge.gateway.name}' is not attached to VPC '${vpc.name}' (${vpc.id})`);
    }
    return { type: 'internetGateway', gatewayId: edge.gateway.id };
  }
  if (edge?.type === 'natGateway') {
    if (edge.nat.vpcId !== vpc.id) throw invalid(`target: NAT gateway '${edge.nat.name}' is in ${edge.nat.vpcId}, not in VPC '${vpc.name}' (${vpc.id})`);
    return { type: 'natGateway', natGatewayId: edge.nat.id };
  }
  return { type: 'peering', peeringId: peeringOfVpc(ctx, vpc.id, ref).id };
}

export function addRoute(ctx: Ctx, input: RouteRequest): RouteTable {
  return write(ctx, () => {
    const t = tableFor(ctx, input);
    const vpc = ctx.store.get<Vpc>(t.vpcId, 'vpc')!;
    checkQuota(ctx, 'routesPerTable', t.routes.filter((r) => r.target.type !== 'local').length, `routes in route table '${t.name}'`);
    const dest = parseCidr(input.destination, 'destination');
    const destination = formatCidr(dest);
    // Peering links are addressed from the link-local range; AWS refuses 169.254.168.0/22 too.
    if (containsCidr(LINK_LOCAL, dest))
      throw invalid(`destination: ${destination} is inside ${formatCidr(LINK_LOCAL)}, the link-local range that peering links use`);
    const vpcCidr = parseCidr(vpc.cidr);
    // A route broader than the VPC (0.0.0.0/0) never overrides `local`: longest prefix wins.
    if (overlaps(dest, vpcCidr) && !containsCidr(dest, vpcCidr)) {
      throw new NimbusError('InvalidRoute.Conflict', `destination ${destination} overlaps the VPC's own CIDR ${vpc.cidr}`);
    }
    if (containsCidr(dest, vpcCidr) && dest.prefix === vpcCidr.prefix) {
      throw new NimbusError('InvalidRoute.Conflict', `destination ${destination} is the VPC's own CIDR, served by the local route`);
    }
    if (t.routes.some((r) => r.destination === destination)) {
      throw new NimbusError('RouteAlreadyExists', `route table '${t.name}' already has a route to ${destination}`);
    }
    if (typeof input.target !== 'string' || input.target === '') throw invalid('target: a peering, internet gateway, NAT gateway or blackhole is required');
    const target = routeTarget(ctx, vpc, input.target);
    t.routes.push({ destination, target });
    saveUpdate(ctx, 'routeTable', t);
    return present(ctx, t);
  });
}

export function removeRoute(ctx: Ctx, input: { routeTable?: string; vpc?: string; destination: string }): RouteTable {
  return write(ctx, () => {
    const t = tableFor(ctx, input);
    const destination = formatCidr(parseCidr(input.destination, 'destination'));
    const i = t.routes.findIndex((r) => r.destination === destination);
    if (i < 0) throw new NimbusError('InvalidRoute.NotFound', `route table '${t.name}' has no route to ${destination}`);
    if (t.routes[i].target.type === 'local') throw invalid(`destination: the local route ${destination} cannot be removed`);
    t.routes.splice(i, 1);
    saveUpdate(ctx, 'routeTable', t);
    return present(ctx, t);
  });
}
