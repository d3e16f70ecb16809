/**
 * EC2's edge on Nimbus's services: internet gateways, elastic IPs (addresses) and NAT
 * gateways, with AWS's shapes and states, so that AWS's "VPC with public and private subnets"
 * runs through the aws CLI and the SDKs unchanged, waiters included (nat-gateway-available).
 *
 * What differs is said in docs/aws.md: a NAT gateway is `available` as soon as it is created
 * (the data plane makes it in the next pass), a deleted one is gone at once (AWS lists it as
 * `deleted` for an hour), and only public NAT gateways exist.
 */
import { NimbusError } from '../../core/errors.js';
import type { ElasticIp, InternetGateway, NatGateway } from '../../core/model/index.js';
import * as edge from '../../resources/edge/service.js';
import type { Ctx } from '../../resources/context.js';
import { AwsError } from '../codec.js';
import { accountId, created, filtered, missing, nameFor, nameTag, need, tagsOut, type Handler, type In, type Out } from './kit.js';

const igwOut = (ctx: Ctx, g: InternetGateway): Out => ({
  InternetGatewayId: g.id,
  OwnerId: accountId(ctx.projectId),
  Attachments: g.vpcId ? [{ VpcId: g.vpcId, State: 'available' }] : [],
  Tags: tagsOut(ctx, g.id, g.name),
});
const addressOut = (ctx: Ctx, e: ElasticIp): Out => ({
  PublicIp: e.publicIp,
  AllocationId: e.id,
  Domain: 'vpc',
  PublicIpv4Pool: 'nimbus',
  NetworkBorderGroup: 'nimbus',
  ...(e.associationId ? { AssociationId: e.associationId, PrivateIpAddress: e.privateIp ?? undefined } : {}),
  ...(e.serverId ? { InstanceId: e.serverId } : {}),
  ...(e.natGatewayId ? { NetworkInterfaceId: `eni-${e.natGatewayId.slice(4)}`, NetworkInterfaceOwnerId: accountId(ctx.projectId) } : {}),
  Tags: e.loadBalancerId ? [] : tagsOut(ctx, e.id, e.name),
});
const natOut = (ctx: Ctx, n: NatGateway): Out => ({
  NatGatewayId: n.id,
  SubnetId: n.subnetId,
  VpcId: n.vpcId,
  State: n.status,
  ConnectivityType: 'public',
  CreateTime: n.createdAt,
  NatGatewayAddresses: [
    {
      AllocationId: n.allocationId,
      PublicIp: n.publicIp,
      PrivateIp: n.privateIp,
      NetworkInterfaceId: `eni-${n.id.slice(4)}`,
      IsPrimary: true,
      Status: n.status === 'deleted' ? 'disassociating' : 'succeeded',
    },
  ],
  Tags: tagsOut(ctx, n.id, n.name),
});
/** The elastic IP an input names: AllocationId, or PublicIp (EC2-Classic's way, still accepted). */
const addressRef = (input: In): string => {
  if (input.AllocationId) return String(input.AllocationId);
  if (input.PublicIp) return String(input.PublicIp);
  throw new AwsError('MissingParameter', 'AllocationId (or PublicIp) is required');
};

export const EDGE: Record<string, Handler> = {
  CreateInternetGateway: (ctx, input) => {
    const name = nameFor(input, 'internet-gateway', 'igw', () => edge.listInternetGateways(ctx).map((g) => g.name));
    return {
      InternetGateway: igwOut(
        ctx,
        created(ctx, input, 'internet-gateway', () => edge.createInternetGateway(ctx, { name })),
      ),
    };
  },
  AttachInternetGateway: (ctx, input) => {
    edge.attachInternetGateway(ctx, need(input, 'InternetGatewayId'), need(input, 'VpcId'));
    return {};
  },
  DetachInternetGateway: (ctx, input) => {
    edge.detachInternetGateway(ctx, need(input, 'InternetGatewayId'), need(input, 'VpcId'));
    return {};
  },
  DeleteInternetGateway: (ctx, input) => {
    edge.deleteInternetGateway(ctx, need(input, 'InternetGatewayId'));
    return {};
  },
  DescribeInternetGateways: (ctx, input) => {
    const all = edge.listInternetGateways(ctx);
    missing(input.InternetGatewayIds, all, 'InvalidInternetGatewayID.NotFound', 'internet gateway');
    const found = filtered(ctx, all, input, 'InternetGatewayIds', (g) => ({
      id: g.id,
      'internet-gateway-id': g.id,
      'attachment.vpc-id': g.vpcId ?? undefined,
      'attachment.state': g.vpcId ? 'available' : undefined,
      'owner-id': accountId(ctx.projectId),
      'tag:Name': nameTag(ctx, g.id, g.name),
    }));
    return { InternetGateways: found.map((g) => igwOut(ctx, g)) };
  },

  AllocateAddress: (ctx, input) => {
    if (input.Domain && input.Domain !== 'vpc') throw new NimbusError('InvalidParameterValue', `Domain: '${String(input.Domain)}': only vpc addresses exist`);
    if (input.PublicIpv4Pool && input.PublicIpv4Pool !== 'nimbus' && input.PublicIpv4Pool !== 'amazon')
      throw new NimbusError('InvalidParameterValue', `PublicIpv4Pool: '${String(input.PublicIpv4Pool)}': the one pool is 127.0.1.0/24`);
    const name = nameFor(input, 'elastic-ip', 'eip', () => edge.listAddresses(ctx).map((e) => e.name));
    const e = created(ctx, input, 'elastic-ip', () => edge.allocateElasticIp(ctx, { name, ...(input.Address ? { publicIp: String(input.Address) } : {}) }));
    return { PublicIp: e.publicIp, AllocationId: e.id, Domain: 'vpc', PublicIpv4Pool: 'nimbus', NetworkBorderGroup: 'nimbus' };
  },
  AssociateAddress: (ctx, input) => {
    const ref = addressRef(input);
    // An instance's one interface (eni-X) stands for the instance (ecs-X).
    const eni = input.NetworkInterfaceId ? String(input.NetworkInterfaceId) : undefined;
    if (eni && (!eni.startsWith('eni-') || !ctx.store.get(`ecs-${eni.slice(4)}`, 'server')))
      throw new AwsError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${eni}' does not exist`);
    const server = eni ? `ecs-${eni.slice(4)}` : need(input, 'InstanceId');
    // AllowReassociation: the address moves from where it is (AWS's behaviour with the flag).
    if (input.AllowReassociation) {
      const e = edge.getAddress(ctx, ref);
      if (e.serverId && e.serverId !== server) edge.disassociateAddress(ctx, e.id);
    }
    const e = edge.associateAddress(ctx, ref, { server });
    return { AssociationId: e.associationId ?? undefined };
  },
  DisassociateAddress: (ctx, input) => {
    const ref = input.AssociationId ? String(input.AssociationId) : input.PublicIp ? String(input.PublicIp) : undefined;
    if (!ref) throw new AwsError('MissingParameter', 'AssociationId (or PublicIp) is required');
    edge.disassociateAddress(ctx, ref);
    return {};
  },
  ReleaseAddress: (ctx, input) => {
    edge.releaseAddress(ctx, addressRef(input));
    return {};
  },
  DescribeAddresses: (ctx, input) => {
    const all = edge.listAddresses(ctx);
    missing(input.AllocationIds, all, 'InvalidAllocationID.NotFound', 'allocation');
    const ips = (input.PublicIps ?? []) as string[];
    const gone = ips.filter((ip) => !all.some((e) => e.publicIp === ip));
    if (gone.length > 0) throw new AwsError('InvalidAddress.NotFound', `Address '${gone.join(', ')}' not found`);
    const found = filtered(ctx, all, input, 'AllocationIds', (e) => ({
      id: e.id,
      'allocation-id': e.id,
      'public-ip': e.publicIp,
      'association-id': e.associationId ?? undefined,
      'instance-id': e.serverId ?? undefined,
      'private-ip-address': e.privateIp ?? undefined,
      'network-interface-id': e.serverId
        ? `eni-${e.serverId.slice(e.serverId.indexOf('-') + 1)}`
        : e.natGatewayId
          ? `eni-${e.natGatewayId.slice(4)}`
          : undefined,
      'network-interface-owner-id': e.serverId || e.natGatewayId ? accountId(ctx.projectId) : undefined,
      'public-ipv4-pool': 'nimbus',
      domain: 'vpc',
      'tag:Name': nameTag(ctx, e.id, e.name),
    })).filter((e) => ips.length === 0 || ips.includes(e.publicIp));
    return { Addresses: found.map((e) => addressOut(ctx, e)) };
  },

  CreateNatGateway: (ctx, input) => {
    if (input.ConnectivityType && input.ConnectivityType !== 'public')
      throw new NimbusError('InvalidParameterValue', `ConnectivityType: '${String(input.ConnectivityType)}': Nimbus has public NAT gateways only`);
    const name = nameFor(input, 'natgateway', 'nat', () => edge.listNatGateways(ctx).map((n) => n.name));
    const n = created(ctx, input, 'natgateway', () =>
      edge.createNatGateway(ctx, {
        name,
        subnet: need(input, 'SubnetId'),
        elasticIp: need(input, 'AllocationId'),
        ...(input.PrivateIpAddress ? { ip: String(input.PrivateIpAddress) } : {}),
      }),
    );
    return { NatGateway: natOut(ctx, n), ...(input.ClientToken ? { ClientToken: String(input.ClientToken) } : {}) };
  },
  DescribeNatGateways: (ctx, input) => {
    const all = edge.listNatGateways(ctx);
    missing(input.NatGatewayIds, all, 'NatGatewayNotFound', 'NAT gateway');
    const found = filtered(
      ctx,
      all,
      input,
      'NatGatewayIds',
      (n) => ({
        id: n.id,
        'nat-gateway-id': n.id,
        state: n.status,
        'subnet-id': n.subnetId,
        'vpc-id': n.vpcId,
        'tag:Name': nameTag(ctx, n.id, n.name),
      }),
      'Filter',
    );
    return { NatGateways: found.map((n) => natOut(ctx, n)) };
  },
  DeleteNatGateway: (ctx, input) => {
    const n = edge.deleteNatGateway(ctx, need(input, 'NatGatewayId'));
    return { NatGatewayId: n.id };
  },
};
