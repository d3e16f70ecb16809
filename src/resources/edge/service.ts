/**
 * The cloud's edge, with AWS's semantics (Huawei's names in docs/edge.md):
 *
 * - An internet gateway is attached to one VPC at most, and a VPC has one at most. A route
 *   `0.0.0.0/0 -> igw-...` makes a subnet public. It cannot be deleted while attached, nor
 *   detached while addresses of its VPC are mapped to elastic IPs.
 * - An elastic IP is a public address of the pool (public-ips.ts), associated 1:1 with a server
 *   whose VPC has an internet gateway attached, or held by a NAT gateway. A server's deletion
 *   disassociates it; it cannot be released while associated.
 * - A NAT gateway takes an address of its subnet (its ENI) and an elastic IP; routes naming it
 *   become blackholes when it goes.
 */
import { randomBytes } from 'node:crypto';
import { NimbusError, invalid } from '../../core/errors.js';
import { looksLikeId, newId } from '../../core/ids.js';
import type { ElasticIp, InternetGateway, LoadBalancer, NatGateway, Server, Subnet, Vpc } from '../../core/model/index.js';
import { checkName, checkQuota, dependencyViolation, notFound, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';
import { allocatePublicIp } from '../public-ips.js';
import { allocateAddress, deleteHolder, saveHolder } from '../subnet/addresses.js';

// ---- internet gateways ----

export const getInternetGateway = (ctx: Ctx, ref: string) => resolve<InternetGateway>(ctx, 'internetGateway', ref, 'internetGateway');
export const listInternetGateways = (ctx: Ctx) => ctx.store.list<InternetGateway>('internetGateway', { projectId: ctx.projectId });

/** The internet gateway attached to a VPC, if any (every project's: a VPC is one project's). */
export function gatewayOfVpc(ctx: Ctx, vpcId: string): InternetGateway | undefined {
  return ctx.store.list<InternetGateway>('internetGateway', { projectId: ctx.projectId }).find((g) => g.vpcId === vpcId);
}

export function createInternetGateway(ctx: Ctx, input: { name: string; vpc?: string }): InternetGateway {
  return write(ctx, () => {
    const name = checkName(ctx, 'internetGateway', input.name);
    checkQuota(ctx, 'internetGateways', listInternetGateways(ctx).length, 'internet gateways');
    const igw: InternetGateway = { id: newId('internetGateway'), name, projectId: ctx.projectId, vpcId: null, state: 'detached', createdAt: now() };
    saveNew(ctx, 'internetGateway', igw);
    return input.vpc ? attachInternetGateway(ctx, igw.id, input.vpc) : igw;
  });
}

export function renameInternetGateway(ctx: Ctx, ref: string, input: { name?: string }): InternetGateway {
  return write(ctx, () => {
    const igw = getInternetGateway(ctx, ref);
    if (input.name !== undefined) igw.name = checkName(ctx, 'internetGateway', input.name, igw.id);
    return saveUpdate(ctx, 'internetGateway', igw);
  });
}

export function attachInternetGateway(ctx: Ctx, ref: string, vpcRef: string): InternetGateway {
  return write(ctx, () => {
    const igw = getInternetGateway(ctx, ref);
    const vpc = resolve<Vpc>(ctx, 'vpc', vpcRef, 'vpc');
    if (igw.vpcId) {
      throw new NimbusError('Resource.AlreadyAssociated', `internet gateway '${igw.name}' is already attached to ${igw.vpcId}; detach it first`);
    }
    const other = gatewayOfVpc(ctx, vpc.id);
    if (other) throw new NimbusError('Resource.AlreadyAssociated', `VPC '${vpc.name}' already has internet gateway '${other.name}' (${other.id}) attached`);
    igw.vpcId = vpc.id;
    igw.state = 'attached';
    return saveUpdate(ctx, 'internetGateway', igw);
  });
}

/** Elastic IPs mapped to addresses of a VPC (servers' and NAT gateways'). */
function mappedIn(ctx: Ctx, vpcId: string): ElasticIp[] {
  return listStoredAddresses(ctx).filter((e) => {
    if (e.serverId) return ctx.store.get<Server>(e.serverId, 'server')?.vpcId === vpcId;
    if (e.natGatewayId) return ctx.store.get<NatGateway>(e.natGatewayId, 'natGateway')?.vpcId === vpcId;
    return false;
  });
}

export function detachInternetGateway(ctx: Ctx, ref: string, vpcRef?: string): InternetGateway {
  return write(ctx, () => {
    const igw = getInternetGateway(ctx, ref);
    if (!igw.vpcId) throw new NimbusError('Gateway.NotAttached', `internet gateway '${igw.name}' is not attached to any VPC`);
    if (vpcRef !== undefined) {
      const vpc = resolve<Vpc>(ctx, 'vpc', vpcRef, 'vpc');
      if (vpc.id !== igw.vpcId) throw new NimbusError('Gateway.NotAttached', `internet gateway '${igw.name}' is not attached to '${vpc.name}' (${vpc.id})`);
    }
    const mapped = mappedIn(ctx, igw.vpcId);
    if (mapped.length > 0) {
      throw dependencyViolation(`internet gateway '${igw.name}' (the public addresses of ${igw.vpcId})`, mapped);
    }
    igw.vpcId = null;
    igw.state = 'detached';
    return saveUpdate(ctx, 'internetGateway', igw);
  });
}

export function deleteInternetGateway(ctx: Ctx, ref: string): InternetGateway {
  return write(ctx, () => {
    const igw = getInternetGateway(ctx, ref);
    if (igw.vpcId) throw new NimbusError('DependencyViolation', `internet gateway '${igw.name}' is attached to ${igw.vpcId}; detach it first`);
    return saveDelete(ctx, 'internetGateway', igw);
  });
}

// ---- elastic IPs ----

function listStoredAddresses(ctx: Ctx): ElasticIp[] {
  return ctx.store.list<ElasticIp>('elasticIp', { projectId: ctx.projectId });
}

/** A load balancer's public IP shown as an elastic IP (Huawei shows it so): read-only. */
export function lbAddress(lb: LoadBalancer): ElasticIp {
  return {
    id: `eipalloc-${lb.id.slice(lb.id.indexOf('-') + 1)}`,
    name: lb.name,
    projectId: lb.projectId,
    publicIp: lb.publicIp!,
    associationId: null,
    serverId: null,
    natGatewayId: null,
    loadBalancerId: lb.id,
    privateIp: lb.vip,
    createdAt: lb.createdAt,
  };
}

/** The project's elastic IPs, with its load balancers' public IPs after them. */
export function listAddresses(ctx: Ctx): ElasticIp[] {
  const lbs = ctx.store.list<LoadBalancer>('loadBalancer', { projectId: ctx.projectId }).filter((l) => l.publicIp);
  return [...listStoredAddresses(ctx), ...lbs.map(lbAddress)];
}

/** An elastic IP by allocation id, name, public IP or association id. */
function findStored(ctx: Ctx, ref: unknown): ElasticIp {
  if (typeof ref !== 'string' || ref === '') throw invalid('elasticIp: an allocation id, name or public IP is required');
  const all = listStoredAddresses(ctx);
  const found = all.find((e) => e.id === ref || e.publicIp === ref || e.associationId === ref) ?? ctx.store.byName<ElasticIp>('elasticIp', ctx.projectId, ref);
  if (found) return found;
  const lb = listAddresses(ctx).find((e) => e.loadBalancerId && (e.id === ref || e.publicIp === ref));
  if (lb) throw new NimbusError('InvalidAddress.Locked', `${lb.publicIp} is the public IP of load balancer '${lb.name}': it goes with its load balancer`);
  if (ref.startsWith('eipassoc-')) throw new NimbusError('InvalidAssociationID.NotFound', `association '${ref}' does not exist`);
  throw notFound('elasticIp', ref);
}

export function getAddress(ctx: Ctx, ref: string): ElasticIp {
  if (typeof ref === 'string') {
    const lb = listAddresses(ctx).find((e) => e.loadBalancerId && (e.id === ref || e.publicIp === ref));
    if (lb) return lb;
  }
  return findStored(ctx, ref);
}

export function allocateElasticIp(ctx: Ctx, input: { name: string; publicIp?: string }): ElasticIp {
  return write(ctx, () => {
    const name = checkName(ctx, 'elasticIp', input.name);
    checkQuota(ctx, 'elasticIps', listStoredAddresses(ctx).length, 'elastic IPs');
    const eip: ElasticIp = {
      id: newId('elasticIp'),
      name,
      projectId: ctx.projectId,
      publicIp: allocatePublicIp(ctx, input.publicIp),
      associationId: null,
      serverId: null,
      natGatewayId: null,
      privateIp: null,
      createdAt: now(),
    };
    return saveNew(ctx, 'elasticIp', eip);
  });
}

export function renameAddress(ctx: Ctx, ref: string, input: { name?: string }): ElasticIp {
  return write(ctx, () => {
    const eip = findStored(ctx, ref);
    if (input.name !== undefined) eip.name = checkName(ctx, 'elasticIp', input.name, eip.id);
    return saveUpdate(ctx, 'elasticIp', eip);
  });
}

/** Refuses a mapping into a VPC with no internet gateway attached (AWS's Gateway.NotAttached). */
function requireGateway(ctx: Ctx, vpcId: string): void {
  if (gatewayOfVpc(ctx, vpcId)) return;
  const vpc = ctx.store.get<Vpc>(vpcId, 'vpc');
  throw new NimbusError('Gateway.NotAttached', `VPC '${vpc?.name ?? vpcId}' (${vpcId}) has no internet gateway attached: attach one first`);
}

export function associateAddress(ctx: Ctx, ref: string, input: { server: string }): ElasticIp {
  return write(ctx, () => {
    const eip = findStored(ctx, ref);
    const server = resolve<Server>(ctx, 'server', input.server, 'server');
    if (eip.associationId) {
      const to = eip.serverId ?? eip.natGatewayId;
      throw new NimbusError('Resource.AlreadyAssociated', `elastic IP ${eip.publicIp} is already associated with ${to}; disassociate it first`);
    }
    const has = listStoredAddresses(ctx).find((e) => e.serverId === server.id);
    if (has) throw new NimbusError('Resource.AlreadyAssociated', `server '${server.name}' already has elastic IP ${has.publicIp} (${has.id})`);
    requireGateway(ctx, server.vpcId);
    eip.associationId = `eipassoc-${randomBytes(8).toString('hex')}`;
    eip.serverId = server.id;
    eip.privateIp = server.privateIp;
    return saveUpdate(ctx, 'elasticIp', eip);
  });
}

export function disassociateAddress(ctx: Ctx, ref: string): ElasticIp {
  return write(ctx, () => {
    const eip = findStored(ctx, ref);
    if (eip.natGatewayId)
      throw new NimbusError(
        'InvalidAddress.Locked',
        `elastic IP ${eip.publicIp} is held by NAT gateway ${eip.natGatewayId}: it is freed when the gateway is deleted`,
      );
    if (!eip.associationId) throw new NimbusError('InvalidAssociationID.NotFound', `elastic IP ${eip.publicIp} is not associated`);
    eip.associationId = null;
    eip.serverId = null;
    eip.privateIp = null;
    return saveUpdate(ctx, 'elasticIp', eip);
  });
}

export function releaseAddress(ctx: Ctx, ref: string): ElasticIp {
  return write(ctx, () => {
    const eip = findStored(ctx, ref);
    if (eip.associationId) {
      throw new NimbusError(
        'InvalidIPAddress.InUse',
        `elastic IP ${eip.publicIp} is associated with ${eip.serverId ?? eip.natGatewayId}; disassociate it first`,
      );
    }
    return saveDelete(ctx, 'elasticIp', eip);
  });
}

/** Frees a deleted server's elastic IP (AWS disassociates it on termination); call inside write(). */
export function releaseServerAddress(ctx: Ctx, serverId: string): void {
  for (const e of ctx.store.list<ElasticIp>('elasticIp', { projectId: ctx.projectId })) {
    if (e.serverId !== serverId) continue;
    e.associationId = null;
    e.serverId = null;
    e.privateIp = null;
    saveUpdate(ctx, 'elasticIp', e);
  }
}

// ---- NAT gateways ----

export const getNatGateway = (ctx: Ctx, ref: string) => resolve<NatGateway>(ctx, 'natGateway', ref, 'natGateway');
export const listNatGateways = (ctx: Ctx) => ctx.store.list<NatGateway>('natGateway', { projectId: ctx.projectId });

export function createNatGateway(ctx: Ctx, input: { name: string; subnet: string; elasticIp: string; ip?: string }): NatGateway {
  return write(ctx, () => {
    const name = checkName(ctx, 'natGateway', input.name);
    const subnet = resolve<Subnet>(ctx, 'subnet', input.subnet, 'subnet');
    checkQuota(ctx, 'natGateways', listNatGateways(ctx).length, 'NAT gateways');
    const eip = findStored(ctx, input.elasticIp);
    if (eip.associationId) {
      throw new NimbusError('Resource.AlreadyAssociated', `elastic IP ${eip.publicIp} is already associated with ${eip.serverId ?? eip.natGatewayId}`);
    }
    requireGateway(ctx, subnet.vpcId);
    const nat: NatGateway = {
      id: newId('natGateway'),
      name,
      projectId: ctx.projectId,
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      allocationId: eip.id,
      publicIp: eip.publicIp,
      privateIp: allocateAddress(ctx, subnet, input.ip),
      // The data plane makes it at once; `--wait` waits for it as for a server.
      status: 'available',
      createdAt: now(),
    };
    saveHolder(ctx, 'natGateway', nat, subnet);
    eip.associationId = `eipassoc-${randomBytes(8).toString('hex')}`;
    eip.natGatewayId = nat.id;
    eip.privateIp = nat.privateIp;
    saveUpdate(ctx, 'elasticIp', eip);
    return nat;
  });
}

export function renameNatGateway(ctx: Ctx, ref: string, input: { name?: string }): NatGateway {
  return write(ctx, () => {
    const nat = getNatGateway(ctx, ref);
    if (input.name !== undefined) nat.name = checkName(ctx, 'natGateway', input.name, nat.id);
    return saveUpdate(ctx, 'natGateway', nat);
  });
}

/** Deletes a NAT gateway: its address goes back to its subnet, its elastic IP is freed, routes to it turn blackhole. */
export function deleteNatGateway(ctx: Ctx, ref: string): NatGateway {
  return write(ctx, () => {
    const nat = getNatGateway(ctx, ref);
    const eip = ctx.store.get<ElasticIp>(nat.allocationId, 'elasticIp');
    if (eip && eip.natGatewayId === nat.id) {
      eip.associationId = null;
      eip.natGatewayId = null;
      eip.privateIp = null;
      saveUpdate(ctx, 'elasticIp', eip);
    }
    deleteHolder(ctx, 'natGateway', nat);
    return { ...nat, status: 'deleted' };
  });
}

/** A route target by reference: an internet gateway or NAT gateway of the project, by id or name, or undefined. */
export function edgeTarget(ctx: Ctx, ref: string): { type: 'internetGateway'; gateway: InternetGateway } | { type: 'natGateway'; nat: NatGateway } | undefined {
  const names = (kind: 'internetGateway' | 'natGateway') => looksLikeId(kind, ref) || ctx.store.byName(kind, ctx.projectId, ref) !== undefined;
  if (names('internetGateway')) {
    const gateway = ctx.store.byName<InternetGateway>('internetGateway', ctx.projectId, ref) ?? ctx.store.get<InternetGateway>(ref, 'internetGateway');
    // AWS's code for a route to a gateway that is not there.
    if (!gateway || gateway.projectId !== ctx.projectId) throw new NimbusError('InvalidGatewayID.NotFound', `internet gateway '${ref}' does not exist`);
    return { type: 'internetGateway', gateway };
  }
  if (names('natGateway')) return { type: 'natGateway', nat: resolve<NatGateway>(ctx, 'natGateway', ref) };
  return undefined;
}
