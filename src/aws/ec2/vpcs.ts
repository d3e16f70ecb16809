/**
 * VPCs and subnets, with the attributes AWS keeps on them: DNS support and host names on a
 * VPC, the on-launch settings of a subnet and its availability zone. Nimbus records them and
 * shows them back. DNS support and host names are the VPC's own switches (core/dns.ts).
 */
import { NimbusError } from '../../core/errors.js';
import type { Subnet, Vpc } from '../../core/model/index.js';
import type { Ctx } from '../../resources/context.js';
import * as vpcs from '../../resources/vpc/service.js';
import { dnsHostnames, dnsSupport } from '../../core/dns.js';
import * as subnets from '../../resources/subnet/service.js';
import { AwsError } from '../codec.js';
import { accountId, attr, boolValue, created, filtered, missing, nameFor, nameTag, need, setAttr, tagsOut, type Handler, type Out } from './kit.js';
import { zoneOf, ZONES } from './account.js';

const VPC_ATTRIBUTES = { enableDnsSupport: 'true', enableDnsHostnames: 'false', enableNetworkAddressUsageMetrics: 'false' } as const;
type VpcAttribute = keyof typeof VPC_ATTRIBUTES;

/** The DNS switches are the VPC's own (core/dns.ts); a VPC made before them kept AWS's view as attributes. */
function vpcAttr(ctx: Ctx, id: string, key: VpcAttribute): boolean {
  const v = ctx.store.get<Vpc>(id, 'vpc');
  const kept = attr(ctx, id, key);
  if (v && key !== 'enableNetworkAddressUsageMetrics' && (v[key] !== undefined || kept === undefined))
    return key === 'enableDnsSupport' ? dnsSupport(v) : dnsHostnames(v);
  return (kept ?? VPC_ATTRIBUTES[key]) === 'true';
}

const vpcOut = (ctx: Ctx, v: Vpc): Out => ({
  VpcId: v.id,
  CidrBlock: v.cidr,
  State: 'available',
  OwnerId: accountId(ctx.projectId),
  InstanceTenancy: 'default',
  DhcpOptionsId: 'default',
  IsDefault: false,
  CidrBlockAssociationSet: [{ AssociationId: `vpc-cidr-assoc-${v.id.slice(4)}`, CidrBlock: v.cidr, CidrBlockState: { State: 'associated' } }],
  Tags: tagsOut(ctx, v.id, v.name),
});

const SUBNET_FLAGS = { MapPublicIpOnLaunch: 'false', EnableResourceNameDnsARecordOnLaunch: 'false', HostnameType: 'ip-name' } as const;
const subnetAttr = (ctx: Ctx, id: string, key: keyof typeof SUBNET_FLAGS) => attr(ctx, id, key) ?? SUBNET_FLAGS[key];

const subnetOut = (ctx: Ctx, s: Subnet, region: string): Out => ({
  SubnetId: s.id,
  SubnetArn: `arn:aws:ec2:${region}:${accountId(ctx.projectId)}:subnet/${s.id}`,
  VpcId: s.vpcId,
  CidrBlock: s.cidr,
  State: 'available',
  AvailableIpAddressCount: s.availableIpCount,
  AvailabilityZone: zoneOf(ctx, s.id, region),
  AvailabilityZoneId: `nimbus-az${ZONES.indexOf(zoneOf(ctx, s.id, region).slice(-1)) + 1}`,
  OwnerId: accountId(ctx.projectId),
  DefaultForAz: false,
  MapPublicIpOnLaunch: subnetAttr(ctx, s.id, 'MapPublicIpOnLaunch') === 'true',
  MapCustomerOwnedIpOnLaunch: false,
  AssignIpv6AddressOnCreation: false,
  EnableDns64: false,
  Ipv6Native: false,
  Ipv6CidrBlockAssociationSet: [],
  PrivateDnsNameOptionsOnLaunch: {
    HostnameType: subnetAttr(ctx, s.id, 'HostnameType'),
    EnableResourceNameDnsARecord: subnetAttr(ctx, s.id, 'EnableResourceNameDnsARecordOnLaunch') === 'true',
    EnableResourceNameDnsAAAARecord: false,
  },
  Tags: tagsOut(ctx, s.id, s.name),
});

/** A change to an attribute Nimbus has only one value of: accepted when it asks for that value. */
function onlyValue(name: string, given: unknown, only: boolean): void {
  const v = boolValue(given);
  if (v !== undefined && v !== only) throw new NimbusError('InvalidParameterValue', `${name}: Nimbus has no IPv6 or DNS64, so it is always ${only}`);
}

export const VPCS: Record<string, Handler> = {
  CreateVpc: (ctx, input) => {
    if (!input.CidrBlock) throw new AwsError('MissingParameter', 'CidrBlock is required');
    // AWS's VPCs are /16 to /28; Nimbus's own API keeps its wider documented range (/8 to /28).
    const prefix = Number(/\/(\d{1,2})$/.exec(String(input.CidrBlock))?.[1] ?? NaN);
    if (prefix < 16 || prefix > 28) throw new AwsError('InvalidVpc.Range', `The CIDR '${String(input.CidrBlock)}' is invalid: a VPC's block is /16 to /28`);
    if (input.AmazonProvidedIpv6CidrBlock === true) throw new NimbusError('InvalidParameterValue', 'AmazonProvidedIpv6CidrBlock: Nimbus has no IPv6');
    if (input.InstanceTenancy && input.InstanceTenancy !== 'default')
      throw new NimbusError('InvalidParameterValue', `InstanceTenancy '${String(input.InstanceTenancy)}': only default`);
    const name = nameFor(input, 'vpc', 'vpc', () => vpcs.listVpcs(ctx).map((v) => v.name));
    return {
      Vpc: vpcOut(
        ctx,
        // As AWS makes a VPC that is not the default one: its resolver on, host names off.
        created(ctx, input, 'vpc', () => vpcs.createVpc(ctx, { name, cidr: String(input.CidrBlock), enableDnsSupport: true, enableDnsHostnames: false })),
      ),
    };
  },
  DescribeVpcs: (ctx, input) => {
    const all = vpcs.listVpcs(ctx);
    missing(input.VpcIds, all, 'InvalidVpcID.NotFound', 'vpc');
    const found = filtered(ctx, all, input, 'VpcIds', (v) => ({
      id: v.id,
      'vpc-id': v.id,
      'cidr-block': v.cidr,
      cidr: v.cidr,
      'cidr-block-association.cidr-block': v.cidr,
      'dhcp-options-id': 'default',
      'owner-id': accountId(ctx.projectId),
      state: 'available',
      'tag:Name': nameTag(ctx, v.id, v.name),
      'is-default': 'false',
    }));
    return { Vpcs: found.map((v) => vpcOut(ctx, v)) };
  },
  DeleteVpc: (ctx, input) => {
    vpcs.deleteVpc(ctx, need(input, 'VpcId'));
    return {};
  },
  DescribeVpcAttribute: (ctx, input) => {
    const v = vpcs.getVpc(ctx, need(input, 'VpcId'));
    const name = need(input, 'Attribute');
    if (!(name in VPC_ATTRIBUTES))
      throw new NimbusError('InvalidParameterValue', `Attribute '${name}' must be one of ${Object.keys(VPC_ATTRIBUTES).join(', ')}`);
    const key = name as VpcAttribute;
    const field = key.charAt(0).toUpperCase() + key.slice(1);
    return { VpcId: v.id, [field]: { Value: vpcAttr(ctx, v.id, key) } };
  },
  ModifyVpcAttribute: (ctx, input) => {
    const v = vpcs.getVpc(ctx, need(input, 'VpcId'));
    const changes = (Object.keys(VPC_ATTRIBUTES) as VpcAttribute[])
      .map((key) => [key, boolValue(input[key.charAt(0).toUpperCase() + key.slice(1)])] as const)
      .filter(([, value]) => value !== undefined);
    if (changes.length !== 1) throw new AwsError('InvalidParameterCombination', 'ModifyVpcAttribute changes exactly one attribute per call');
    const [key, value] = changes[0];
    if (key === 'enableDnsHostnames' && value && !vpcAttr(ctx, v.id, 'enableDnsSupport'))
      throw new NimbusError('InvalidParameterValue', `${v.id}: enableDnsHostnames needs enableDnsSupport`);
    if (key === 'enableNetworkAddressUsageMetrics') setAttr(ctx, v.id, key, String(value) === VPC_ATTRIBUTES[key] ? null : String(value));
    else {
      // The switches are the VPC's own now; an attribute kept from before them goes.
      vpcs.updateVpc(ctx, v.id, { [key]: value });
      setAttr(ctx, v.id, key, null);
    }
    return {};
  },
  // ClassicLink was retired in 2022; AWS answers this, and tools expect it.
  DescribeVpcClassicLink: () => {
    throw new AwsError('UnsupportedOperation', 'The functionality you requested is not available in this region.');
  },
  DescribeVpcClassicLinkDnsSupport: () => {
    throw new AwsError('UnsupportedOperation', 'The functionality you requested is not available in this region.');
  },

  CreateSubnet: (ctx, input, region) => {
    const vpc = need(input, 'VpcId');
    const cidr = need(input, 'CidrBlock');
    const zone = input.AvailabilityZone ? String(input.AvailabilityZone) : undefined;
    if (zone !== undefined && !ZONES.some((z) => zone === `${region}${z}`))
      throw new AwsError(
        'InvalidParameterValue',
        `Value (${zone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${ZONES.map((z) => region + z).join(', ')}.`,
      );
    if (input.Ipv6CidrBlock || input.Ipv6Native === true) throw new NimbusError('InvalidParameterValue', 'Ipv6CidrBlock: Nimbus has no IPv6');
    const name = nameFor(input, 'subnet', 'subnet', () => subnets.listSubnets(ctx).map((s) => s.name));
    const made = created(ctx, input, 'subnet', () => {
      const s = subnets.createSubnet(ctx, { name, vpc, cidr });
      if (zone && zone !== `${region}a`) setAttr(ctx, s.id, 'zone', zone.slice(-1));
      return s;
    });
    return { Subnet: subnetOut(ctx, made, region) };
  },
  DescribeSubnets: (ctx, input, region) => {
    const all = subnets.listSubnets(ctx);
    missing(input.SubnetIds, all, 'InvalidSubnetID.NotFound', 'subnet');
    const found = filtered(ctx, all, input, 'SubnetIds', (s) => ({
      id: s.id,
      'subnet-id': s.id,
      'vpc-id': s.vpcId,
      'cidr-block': s.cidr,
      cidr: s.cidr,
      'cidr-block-association.cidr-block': s.cidr,
      'availability-zone': zoneOf(ctx, s.id, region),
      'default-for-az': 'false',
      'map-public-ip-on-launch': subnetAttr(ctx, s.id, 'MapPublicIpOnLaunch'),
      'owner-id': accountId(ctx.projectId),
      state: 'available',
      'tag:Name': nameTag(ctx, s.id, s.name),
    }));
    return { Subnets: found.map((s) => subnetOut(ctx, s, region)) };
  },
  DeleteSubnet: (ctx, input) => {
    subnets.deleteSubnet(ctx, need(input, 'SubnetId'));
    return {};
  },
  ModifySubnetAttribute: (ctx, input) => {
    const s = subnets.getSubnet(ctx, need(input, 'SubnetId'));
    onlyValue('AssignIpv6AddressOnCreation', input.AssignIpv6AddressOnCreation, false);
    onlyValue('EnableDns64', input.EnableDns64, false);
    onlyValue('MapCustomerOwnedIpOnLaunch', input.MapCustomerOwnedIpOnLaunch, false);
    onlyValue('EnableResourceNameDnsAAAARecordOnLaunch', input.EnableResourceNameDnsAAAARecordOnLaunch, false);
    const set = (key: keyof typeof SUBNET_FLAGS, value: string | undefined) => {
      if (value !== undefined) setAttr(ctx, s.id, key, value === SUBNET_FLAGS[key] ? null : value);
    };
    set('MapPublicIpOnLaunch', boolValue(input.MapPublicIpOnLaunch)?.toString());
    set('EnableResourceNameDnsARecordOnLaunch', boolValue(input.EnableResourceNameDnsARecordOnLaunch)?.toString());
    if (input.PrivateDnsHostnameTypeOnLaunch !== undefined) {
      const type = String(input.PrivateDnsHostnameTypeOnLaunch);
      if (type !== 'ip-name' && type !== 'resource-name')
        throw new NimbusError('InvalidParameterValue', `PrivateDnsHostnameTypeOnLaunch '${type}' must be ip-name or resource-name`);
      set('HostnameType', type);
    }
    return {};
  },
};
