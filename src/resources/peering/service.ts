/**
 * VPC peering (AWS rules, Huawei's acceptance): two different VPCs with non-overlapping
 * CIDRs, at most one live peering per pair. Within one project it is active at once;
 * towards another project it waits for that project to accept or reject it. Deleting keeps
 * the record with status `deleted`, so routes through it show as blackholes.
 */
import { NimbusError } from '../../core/errors.js';
import { overlaps, parseCidr } from '../../core/cidr.js';
import { looksLikeId, newId } from '../../core/ids.js';
import type { Peering, PeeringInput, Rename, Vpc } from '../../core/model/index.js';
import { checkName, notFound, now, resolve, saveNew, write, type Ctx } from '../context.js';
import { findProject } from '../project/service.js';

function visible(ctx: Ctx, p: Peering): boolean {
  return p.projectId === ctx.projectId || p.accepterProjectId === ctx.projectId;
}

/** Every peering the caller's project is a side of, records of deleted ones included. */
export function listPeerings(ctx: Ctx): Peering[] {
  return ctx.store.list<Peering>('peering').filter((p) => visible(ctx, p));
}

export function getPeering(ctx: Ctx, ref: string): Peering {
  if (looksLikeId('peering', ref)) {
    const p = ctx.store.get<Peering>(ref, 'peering');
    if (p && visible(ctx, p)) return p;
  }
  const own = ctx.store.byName<Peering>('peering', ctx.projectId, ref);
  if (own) return own;
  const theirs = listPeerings(ctx).filter((p) => p.name === ref);
  // Prefer a live one over records of deleted ones carrying the same name.
  const found = theirs.find((p) => p.status !== 'deleted' && p.status !== 'rejected') ?? theirs[theirs.length - 1];
  if (found) return found;
  throw notFound('peering', ref);
}

export function createPeering(ctx: Ctx, input: PeeringInput): Peering {
  return write(ctx, () => {
    const name = checkName(ctx, 'peering', input.name);
    const vpc = resolve<Vpc>(ctx, 'vpc', input.vpc, 'vpc');
    const peerProjectId = input.peerProject ? findProject(ctx.store, input.peerProject).id : ctx.projectId;
    const peer = resolve<Vpc>({ ...ctx, projectId: peerProjectId }, 'vpc', input.peerVpc, 'peerVpc');
    if (peer.id === vpc.id) {
      throw new NimbusError('InvalidVpcPeeringConnection.OverlappingCidr', `a VPC cannot peer with itself ('${vpc.name}')`);
    }
    if (overlaps(parseCidr(vpc.cidr), parseCidr(peer.cidr))) {
      throw new NimbusError(
        'InvalidVpcPeeringConnection.OverlappingCidr',
        `VPC '${vpc.name}' (${vpc.cidr}) and VPC '${peer.name}' (${peer.cidr}) have overlapping CIDRs`,
      );
    }
    const existing = livePeeringsOf(ctx, vpc.id).find((p) => p.requesterVpcId === peer.id || p.accepterVpcId === peer.id);
    if (existing) {
      throw new NimbusError('VpcPeeringConnectionAlreadyExists', `VPCs '${vpc.name}' and '${peer.name}' are already joined by ${existing.id}`);
    }
    const peering: Peering = {
      id: newId('peering'),
      name,
      projectId: ctx.projectId,
      requesterVpcId: vpc.id,
      accepterVpcId: peer.id,
      accepterProjectId: peerProjectId,
      status: peerProjectId === ctx.projectId ? 'active' : 'pending-acceptance',
      createdAt: now(),
    };
    saveNew(ctx, 'peering', peering);
    return peering;
  });
}

function answer(ctx: Ctx, ref: string, to: 'active' | 'rejected'): Peering {
  return write(ctx, () => {
    const p = getPeering(ctx, ref);
    if (p.accepterProjectId !== ctx.projectId) {
      throw new NimbusError(
        'OperationNotPermitted',
        `only the accepter project ${p.accepterProjectId} may ${to === 'active' ? 'accept' : 'reject'} peering '${p.name}'`,
      );
    }
    if (p.status !== 'pending-acceptance') {
      throw new NimbusError('InvalidStateTransition', `peering '${p.name}' is ${p.status}, not pending-acceptance`);
    }
    p.status = to;
    ctx.store.update(p, to === 'active');
    ctx.feed.record({ kind: 'peering', id: p.id, op: 'updated' });
    return p;
  });
}

export const acceptPeering = (ctx: Ctx, ref: string): Peering => answer(ctx, ref, 'active');
export const rejectPeering = (ctx: Ctx, ref: string): Peering => answer(ctx, ref, 'rejected');

export function renamePeering(ctx: Ctx, ref: string, input: Rename): Peering {
  return write(ctx, () => {
    const p = getPeering(ctx, ref);
    if (p.projectId !== ctx.projectId) throw new NimbusError('OperationNotPermitted', `only the requester project may rename peering '${p.name}'`);
    if (input.name !== undefined) p.name = checkName(ctx, 'peering', input.name, p.id);
    ctx.store.update(p, p.status === 'active' || p.status === 'pending-acceptance');
    ctx.feed.record({ kind: 'peering', id: p.id, op: 'updated' });
    return p;
  });
}

/** Either side may delete; routes through it stay, as blackholes. */
export function deletePeering(ctx: Ctx, ref: string): Peering {
  return write(ctx, () => {
    const p = getPeering(ctx, ref);
    if (p.status === 'deleted') throw new NimbusError('InvalidStateTransition', `peering '${p.name}' is already deleted`);
    p.status = 'deleted';
    ctx.store.update(p, false);
    ctx.feed.record({ kind: 'peering', id: p.id, op: 'deleted' });
    return p;
  });
}

/** Peerings that still join a VPC (pending or active); rejected and deleted ones are records only. */
export function livePeeringsOf(ctx: Ctx, vpcId: string): Peering[] {
  return ctx.store
    .list<Peering>('peering')
    .filter((p) => (p.requesterVpcId === vpcId || p.accepterVpcId === vpcId) && (p.status === 'active' || p.status === 'pending-acceptance'));
}
