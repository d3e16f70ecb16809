/**
 * VPC peering connections as AWS has them: a request waits in `pending-acceptance` until the
 * accepter accepts it, also when both VPCs are the caller's (Nimbus's own API makes those
 * active at once, as Huawei Cloud does: docs/decisions.md). A request between overlapping
 * CIDRs is made in status `failed`, as AWS makes it. The peer account is a 12-digit account id.
 */
import { NimbusError } from '../../core/errors.js';
import type { Peering, Vpc } from '../../core/model/index.js';
import type { Ctx } from '../../resources/context.js';
import * as peerings from '../../resources/peering/service.js';
import { findProject } from '../../resources/project/service.js';
import { AwsError } from '../codec.js';
import { projectOfAccount } from '../kit.js';
import { accountId, boolValue, created, filtered, missing, nameFor, nameTag, need, tagsOut, type Handler, type Out } from './kit.js';

const MESSAGES: Record<string, string> = {
  'pending-acceptance': 'Pending Acceptance by the peer account',
  active: 'Active',
  failed: 'Overlapping CIDR range',
  rejected: 'Rejected',
  deleted: 'Deleted',
};

function peeringOut(ctx: Ctx, p: Peering, region: string): Out {
  const vpc = (id: string) => ctx.store.get<Vpc>(id, 'vpc');
  const info = (id: string, project: string) => {
    const cidr = vpc(id)?.cidr;
    const dns = id === p.requesterVpcId ? !!p.requesterDns : !!p.accepterDns;
    return {
      VpcId: id,
      OwnerId: accountId(project),
      Region: region,
      ...(cidr && p.status === 'active'
        ? { CidrBlock: cidr, CidrBlockSet: [{ CidrBlock: cidr }] }
        : cidr && project === ctx.projectId
          ? { CidrBlock: cidr }
          : {}),
      ...(p.status === 'active'
        ? {
            PeeringOptions: {
              AllowDnsResolutionFromRemoteVpc: dns,
              AllowEgressFromLocalClassicLinkToRemoteVpc: false,
              AllowEgressFromLocalVpcToRemoteClassicLink: false,
            },
          }
        : {}),
    };
  };
  return {
    VpcPeeringConnectionId: p.id,
    RequesterVpcInfo: info(p.requesterVpcId, p.projectId),
    AccepterVpcInfo: info(p.accepterVpcId, p.accepterProjectId),
    Status: { Code: p.status, Message: MESSAGES[p.status] ?? p.status },
    ...(p.status === 'pending-acceptance' ? { ExpirationTime: new Date(Date.parse(p.createdAt) + 7 * 24 * 3600 * 1000) } : {}),
    Tags: tagsOut(ctx, p.id, p.name),
  };
}

/** The project PeerOwnerId names: a 12-digit account id (or, as before, a project's id or name). */
function peerProjectOf(ctx: Ctx, owner: unknown): string | undefined {
  if (owner === undefined || owner === '') return undefined;
  const ref = String(owner);
  const byAccount = projectOfAccount(ctx, ref);
  if (byAccount) return byAccount;
  if (/^\d{12}$/.test(ref)) throw new AwsError('InvalidVpcPeeringConnectionID.NotFound', `The account '${ref}' has no VPC here`);
  return findProject(ctx.store, ref).id;
}

export const PEERINGS: Record<string, Handler> = {
  CreateVpcPeeringConnection: (ctx, input, region) => {
    const vpc = need(input, 'VpcId');
    const peerVpc = need(input, 'PeerVpcId');
    if (input.PeerRegion && input.PeerRegion !== region)
      throw new NimbusError('InvalidParameterValue', `PeerRegion '${String(input.PeerRegion)}': Nimbus is one region`);
    const name = nameFor(input, 'vpc-peering-connection', 'pcx', () => peerings.listPeerings(ctx).map((p) => p.name));
    const peerProject = peerProjectOf(ctx, input.PeerOwnerId);
    const p = created(ctx, input, 'vpc-peering-connection', () => {
      try {
        return peerings.createPeering(ctx, { name, vpc, peerVpc, ...(peerProject ? { peerProject } : {}) }, { awaitAcceptance: true });
      } catch (err) {
        // AWS makes a request between overlapping CIDRs, in status failed; Nimbus's own API refuses it.
        const overlap = err instanceof NimbusError && err.code === 'InvalidVpcPeeringConnection.OverlappingCidr' && vpc !== peerVpc;
        if (!overlap || (peerProject && peerProject !== ctx.projectId)) throw err;
        return peerings.createFailedPeering(ctx, { name, vpc, peerVpc });
      }
    });
    return { VpcPeeringConnection: peeringOut(ctx, p, region) };
  },
  AcceptVpcPeeringConnection: (ctx, input, region) => ({
    VpcPeeringConnection: peeringOut(ctx, peerings.acceptPeering(ctx, need(input, 'VpcPeeringConnectionId')), region),
  }),
  RejectVpcPeeringConnection: (ctx, input) => {
    peerings.rejectPeering(ctx, need(input, 'VpcPeeringConnectionId'));
    return { Return: true };
  },
  DeleteVpcPeeringConnection: (ctx, input) => {
    peerings.deletePeering(ctx, need(input, 'VpcPeeringConnectionId'));
    return { Return: true };
  },
  DescribeVpcPeeringConnections: (ctx, input, region) => {
    const all = peerings.listPeerings(ctx);
    missing(input.VpcPeeringConnectionIds, all, 'InvalidVpcPeeringConnectionID.NotFound', 'vpc peering connection');
    const found = filtered(ctx, all, input, 'VpcPeeringConnectionIds', (p) => ({
      id: p.id,
      'vpc-peering-connection-id': p.id,
      'status-code': p.status,
      state: p.status,
      'requester-vpc-info.vpc-id': p.requesterVpcId,
      'requester-vpc-info.owner-id': accountId(p.projectId),
      'accepter-vpc-info.vpc-id': p.accepterVpcId,
      'accepter-vpc-info.owner-id': accountId(p.accepterProjectId),
      'tag:Name': nameTag(ctx, p.id, p.name),
    }));
    return { VpcPeeringConnections: found.map((p) => peeringOut(ctx, p, region)) };
  },
  // Nimbus has no DNS across peerings yet (issue 26) and no ClassicLink: the options are what they are.
  // AllowDnsResolutionFromRemoteVpc on a side lets the other side resolve that side's names (set by that side's owner); ClassicLink's stay false.
  ModifyVpcPeeringConnectionOptions: (ctx, input) => {
    let p = peerings.getPeering(ctx, need(input, 'VpcPeeringConnectionId'));
    for (const [side, key] of [
      ['RequesterPeeringConnectionOptions', 'requester'],
      ['AccepterPeeringConnectionOptions', 'accepter'],
    ] as const) {
      const opts = (input[side] ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(opts))
        if (k !== 'AllowDnsResolutionFromRemoteVpc' && v === true)
          throw new NimbusError('InvalidParameterValue', `${side}.${k}: Nimbus keeps it false (peering ${p.id})`);
      const dns = boolValue(opts.AllowDnsResolutionFromRemoteVpc);
      if (dns !== undefined) p = peerings.setPeeringDns(ctx, p.id, dns, key);
    }
    const out = (on: boolean) => ({
      AllowDnsResolutionFromRemoteVpc: on,
      AllowEgressFromLocalClassicLinkToRemoteVpc: false,
      AllowEgressFromLocalVpcToRemoteClassicLink: false,
    });
    return { AccepterPeeringConnectionOptions: out(!!p.accepterDns), RequesterPeeringConnectionOptions: out(!!p.requesterDns) };
  },
};
