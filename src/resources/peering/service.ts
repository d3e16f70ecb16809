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
import { checkName, checkQuota, notFound, now, resolve, saveNew, write, type Ctx } from '../context.js';
import { findProject } from '../project/service.js';

function visible(ctx: Ctx, p: Peering): boolean {
  return p.projectId === ctx.projectId || p.accepterProjectId === ctx.projectId;
}

/**
 * A peering as the caller may see it. A project token that is asked to accept another
 * project's request sees its id, the requester's project and VPC ids and nothing more (not
 * the name the requester chose) until it accepts.
 */
function present(ctx: Ctx, p: Peering & { requestedAs?: string }): Peering {
  const { requestedAs, ...out } = p;
  // The requester of a blind request sees the project as it named it, whether it exists or not, until it is accepted.
  if (requestedAs !== undefined && !ctx.admin && p.projectId === ctx.projectId && p.status !== 'active') return { ...out, accepterProjectId: requestedAs };
  if (ctx.admin || p.projectId === ctx.projectId || p.status !== 'pending-acceptance') return out;
  return { ...out, name: p.id };
}

/** Every peering the caller's project is a side of, records of deleted ones included. */
export function listPeerings(ctx: Ctx): Peering[] {
  return ctx.store
    .list<Peering>('peering')
    .filter((p) => visible(ctx, p))
    .map((p) => present(ctx, p));
}

export function getPeering(ctx: Ctx, ref: string): Peering {
  if (looksLikeId('peering', ref)) {
    const p = ctx.store.get<Peering>(ref, 'peering');
    if (p && visible(ctx, p)) return present(ctx, p);
  }
  const own = ctx.store.byName<Peering>('peering', ctx.projectId, ref);
  if (own) return present(ctx, own);
  const theirs = listPeerings(ctx).filter((p) => p.name === ref);
  // Prefer a live one over records of deleted ones carrying the same name.
  const found = theirs.find((p) => p.status === 'active' || p.status === 'pending-acceptance') ?? theirs[theirs.length - 1];
  if (found) return found;
  throw notFound('peering', ref);
}

/**
 * A request towards another project, made by a project token: stored as pending whatever the
 * other side is, so that the requester learns nothing of another project (not whether the
 * project or the VPC exists, nor its CIDR). The checks run when the accepter accepts.
 */
function blindRequest(ctx: Ctx, name: string, vpc: Vpc, accepterProjectId: string, peerVpc: string, requestedAs: string): Peering {
  const peering: Peering & { requestedAs: string } = {
    id: newId('peering'),
    name,
    projectId: ctx.projectId,
    requesterVpcId: vpc.id,
    accepterVpcId: peerVpc,
    accepterProjectId,
    status: 'pending-acceptance',
    createdAt: now(),
    requestedAs,
  };
  return present(ctx, saveNew(ctx, 'peering', peering));
}

/**
 * A peering within one project is active at once (Huawei Cloud's way); `awaitAcceptance` makes
 * it wait for an accept like any other (AWS's way, which its endpoint keeps: docs/decisions.md).
 */
export function createPeering(ctx: Ctx, input: PeeringInput, opts: { awaitAcceptance?: boolean } = {}): Peering {
  return write(ctx, () => {
    const name = checkName(ctx, 'peering', input.name);
    const vpc = resolve<Vpc>(ctx, 'vpc', input.vpc, 'vpc');
    if (!ctx.admin && input.peerProject !== undefined) {
      let target: string | null;
      try {
        target = findProject(ctx.store, input.peerProject).id;
      } catch {
        target = null;
      }
      if (target !== ctx.projectId) return blindRequest(ctx, name, vpc, target ?? input.peerProject, input.peerVpc, input.peerProject);
    }
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
    if (peerProjectId === ctx.projectId) for (const v of [vpc, peer]) checkActiveQuota(ctx, v);
    const peering: Peering = {
      id: newId('peering'),
      name,
      projectId: ctx.projectId,
      requesterVpcId: vpc.id,
      accepterVpcId: peer.id,
      accepterProjectId: peerProjectId,
      status: peerProjectId === ctx.projectId && !opts.awaitAcceptance ? 'active' : 'pending-acceptance',
      createdAt: now(),
    };
    saveNew(ctx, 'peering', peering);
    return peering;
  });
}

/** AWS's limit on active peerings per VPC, as the project's quota. */
function checkActiveQuota(ctx: Ctx, vpc: Vpc): void {
  const active = ctx.store.list<Peering>('peering').filter((p) => p.status === 'active' && (p.requesterVpcId === vpc.id || p.accepterVpcId === vpc.id));
  checkQuota(ctx, 'peeringsPerVpc', active.length, `active peerings of VPC '${vpc.name}'`);
}

/**
 * The checks a request from another project waited for, run by the accepter: its VPC (named by
 * the requester, by id or name), CIDRs that do not overlap, no other live peering of the pair.
 * The refusals name the accepter's own VPC only.
 */
function checkAcceptable(ctx: Ctx, p: Peering): Vpc {
  const mine = resolve<Vpc>(ctx, 'vpc', p.accepterVpcId, 'peerVpc');
  const theirs = ctx.store.get<Vpc>(p.requesterVpcId, 'vpc');
  if (!theirs) throw new NimbusError('InvalidStateTransition', `peering ${p.id}: the requester's VPC no longer exists`);
  if (overlaps(parseCidr(mine.cidr), parseCidr(theirs.cidr))) {
    throw new NimbusError('InvalidVpcPeeringConnection.OverlappingCidr', `your VPC '${mine.name}' (${mine.cidr}) overlaps the requester's VPC ${theirs.id}`);
  }
  const other = livePeeringsOf(ctx, mine.id).find(
    (x) => x.id !== p.id && (x.requesterVpcId === theirs.id || x.accepterVpcId === theirs.id) && x.status === 'active',
  );
  if (other) throw new NimbusError('VpcPeeringConnectionAlreadyExists', `your VPC '${mine.name}' and VPC ${theirs.id} are already joined by ${other.id}`);
  return mine;
}

function answer(ctx: Ctx, ref: string, to: 'active' | 'rejected'): Peering {
  return write(ctx, () => {
    const p = ctx.store.get<Peering>(getPeering(ctx, ref).id, 'peering')!;
    if (p.accepterProjectId !== ctx.projectId) {
      throw new NimbusError(
        'OperationNotPermitted',
        `only the accepter project ${present(ctx, p).accepterProjectId} may ${to === 'active' ? 'accept' : 'reject'} peering '${p.name}'`,
      );
    }
    if (p.status !== 'pending-acceptance') {
      throw new NimbusError('InvalidStateTransition', `peering '${p.name}' is ${p.status}, not pending-acceptance`);
    }
    if (to === 'active') {
      const mine = checkAcceptable(ctx, p);
      checkActiveQuota(ctx, mine);
      p.accepterVpcId = mine.id;
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
/**
 * Lets the other side resolve the names of the caller's side (AWS's AllowDnsResolutionFromRemoteVpc):
 * the requester project sets the requester's switch, the accepter project the accepter's (one
 * project owning both sets both). Names cross only when both are on.
 */
export function setPeeringDns(ctx: Ctx, ref: string, allow: boolean, side?: 'requester' | 'accepter'): Peering {
  return write(ctx, () => {
    const p = getPeering(ctx, ref);
    if (p.status !== 'active') throw new NimbusError('InvalidStateTransition', `peering '${p.name}' is ${p.status}: only an active peering carries names`);
    const mine = { requester: p.projectId === ctx.projectId, accepter: p.accepterProjectId === ctx.projectId };
    const sides = side ? [side] : (['requester', 'accepter'] as const).filter((s) => mine[s]);
    for (const s of sides) {
      if (!mine[s]) throw new NimbusError('OperationNotPermitted', `only the ${s} project may change the ${s}'s DNS option of peering '${p.name}'`);
      if (s === 'requester') p.requesterDns = allow;
      else p.accepterDns = allow;
    }
    ctx.store.update(p, true);
    ctx.feed.record({ kind: 'peering', id: p.id, op: 'updated' });
    return p;
  });
}

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

/**
 * A request between overlapping VPCs through the AWS endpoint: AWS creates it with status
 * `failed` (and it never joins anything) where Nimbus's own API refuses it
 * (InvalidVpcPeeringConnection.OverlappingCidr). Within one project only.
 */
export function createFailedPeering(ctx: Ctx, input: { name: string; vpc: string; peerVpc: string }): Peering {
  return write(ctx, () => {
    const name = checkName(ctx, 'peering', input.name);
    const vpc = resolve<Vpc>(ctx, 'vpc', input.vpc, 'vpc');
    const peer = resolve<Vpc>(ctx, 'vpc', input.peerVpc, 'peerVpc');
    const p: Peering = {
      id: newId('peering'),
      name,
      projectId: ctx.projectId,
      requesterVpcId: vpc.id,
      accepterVpcId: peer.id,
      accepterProjectId: ctx.projectId,
      status: 'failed',
      createdAt: now(),
    };
    return saveNew(ctx, 'peering', p);
  });
}

/** Peerings that still join a VPC (pending or active); rejected and deleted ones are records only. */
export function livePeeringsOf(ctx: Ctx, vpcId: string): Peering[] {
  return ctx.store
    .list<Peering>('peering')
    .filter((p) => (p.requesterVpcId === vpcId || p.accepterVpcId === vpcId) && (p.status === 'active' || p.status === 'pending-acceptance'));
}
