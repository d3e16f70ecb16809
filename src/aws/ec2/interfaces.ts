/**
 * A server's one network interface, as EC2 shows it inside an instance and by itself
 * (DescribeNetworkInterfaces): its subnet, address, groups and elastic IP. Nimbus has no
 * interfaces of their own: each is its server's, made and gone with it.
 */
import { interfaceIdOf } from '../../core/account.js';
import type { ElasticIp, SecurityGroup, Server } from '../../core/model/index.js';
import type { Ctx } from '../../resources/context.js';
import * as servers from '../../resources/server/service.js';
import { AwsError } from '../codec.js';
import { zoneOf } from './account.js';
import { accountId, filtered, type Handler, type Out } from './kit.js';

export function groupsOf(ctx: Ctx, s: Server): Out[] {
  return s.securityGroupIds.map((id) => ({ GroupId: id, GroupName: ctx.store.get<SecurityGroup>(id, 'securityGroup')?.name ?? id }));
}

/** An instance's elastic IP, as AWS shows it on the instance. */
export function publicIpOf(ctx: Ctx, serverId: string): ElasticIp | undefined {
  return ctx.store.list<ElasticIp>('elasticIp', { projectId: ctx.projectId }).find((x) => x.serverId === serverId);
}

export const eniOf = (s: Server) => interfaceIdOf(s.id);

/** The instance's one network interface, as DescribeInstances and DescribeNetworkInterfaces show it. */
export function interfaceOut(ctx: Ctx, s: Server, region: string, inInstance: boolean): Out {
  const eip = publicIpOf(ctx, s.id);
  const association = eip ? { Association: { PublicIp: eip.publicIp, IpOwnerId: accountId(ctx.projectId), PublicDnsName: '' } } : {};
  return {
    NetworkInterfaceId: eniOf(s),
    SubnetId: s.subnetId,
    VpcId: s.vpcId,
    ...(inInstance ? {} : { AvailabilityZone: zoneOf(ctx, s.subnetId, region), InterfaceType: 'interface', RequesterManaged: false }),
    Description: '',
    OwnerId: accountId(ctx.projectId),
    Status: 'in-use',
    MacAddress: macOf(s),
    PrivateIpAddress: s.privateIp,
    PrivateDnsName: `ip-${s.privateIp.replace(/\./g, '-')}.ec2.internal`,
    SourceDestCheck: true,
    Groups: groupsOf(ctx, s),
    Attachment: {
      AttachmentId: `eni-attach-${s.id.slice(s.id.indexOf('-') + 1)}`,
      DeviceIndex: 0,
      NetworkCardIndex: 0,
      Status: 'attached',
      DeleteOnTermination: true,
      AttachTime: new Date(s.createdAt),
      ...(inInstance ? {} : { InstanceId: s.id, InstanceOwnerId: accountId(ctx.projectId) }),
    },
    PrivateIpAddresses: [{ PrivateIpAddress: s.privateIp, Primary: true, ...association }],
    Ipv6Addresses: [],
    ...association,
    ...(inInstance ? {} : { TagSet: [] }),
  };
}

/** A locally administered MAC drawn from the server's id (stable; the kernel's own is the namespace's). */
function macOf(s: Server): string {
  const hex = Buffer.from(s.id).toString('hex').padEnd(10, '0').slice(-10);
  return `02:${hex.match(/../g)!.join(':')}`;
}

export const INTERFACES: Record<string, Handler> = {
  DescribeNetworkInterfaces: (ctx, input, region) => {
    const all = servers.listServers(ctx).map((s) => ({ id: eniOf(s), s }));
    const asked = (input.NetworkInterfaceIds ?? []) as string[];
    const gone = asked.filter((id) => !all.some((x) => x.id === id));
    if (gone.length > 0) throw new AwsError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${gone.join(', ')}' does not exist`);
    const found = filtered(ctx, all, input, 'NetworkInterfaceIds', ({ id, s }) => ({
      id,
      'network-interface-id': id,
      'subnet-id': s.subnetId,
      'vpc-id': s.vpcId,
      'private-ip-address': s.privateIp,
      'addresses.private-ip-address': s.privateIp,
      'attachment.instance-id': s.id,
      'attachment.status': 'attached',
      'group-id': s.securityGroupIds,
      status: 'in-use',
      description: '',
      'owner-id': accountId(ctx.projectId),
      'availability-zone': zoneOf(ctx, s.subnetId, region),
      'interface-type': 'interface',
      'requester-managed': 'false',
    }));
    return { NetworkInterfaces: found.map(({ s }) => interfaceOut(ctx, s, region, false)) };
  },
};
