/**
 * What tools ask about the account before they build: regions, availability zones, account
 * attributes, key pairs and images. Nimbus is one machine: every region name a caller signs
 * for is this machine, and its zones a, b and c are names a subnet records (the same host).
 */
import { NimbusError } from '../../core/errors.js';
import { AwsError } from '../codec.js';
import type { Server } from '../../core/model/index.js';
import type { Ctx } from '../../resources/context.js';
import { accountId, filtered, type Handler, type Out } from './kit.js';

export const ZONES = ['a', 'b', 'c'];

export { zoneOf } from '../kit.js';

/** The image every server runs when none is named: the host's own system. */
export const DEFAULT_IMAGE = 'ami-nimbus';

/** The images of this project: the default one and every one its servers were launched from. */
function images(ctx: Ctx): string[] {
  const named = ctx.store.list<Server>('server', { projectId: ctx.projectId }).map((s) => s.image ?? DEFAULT_IMAGE);
  return [...new Set([DEFAULT_IMAGE, ...named])].sort();
}

function imageOut(ctx: Ctx, id: string): Out {
  return {
    ImageId: id,
    Name: id === DEFAULT_IMAGE ? 'nimbus-host' : id,
    Description:
      id === DEFAULT_IMAGE ? "The host's own system (every Nimbus server runs it)" : 'An image named at launch (recorded; the server runs the host system)',
    State: 'available',
    OwnerId: accountId(ctx.projectId),
    Public: false,
    Architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64',
    ImageType: 'machine',
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    RootDeviceType: 'ebs',
    RootDeviceName: '/dev/xvda',
    VirtualizationType: 'hvm',
    Hypervisor: 'xen',
    EnaSupport: true,
    BlockDeviceMappings: [],
    CreationDate: '2026-01-01T00:00:00.000Z',
  };
}

export const ACCOUNT: Record<string, Handler> = {
  DescribeRegions: (_ctx, input, region) => {
    const names = (input.RegionNames ?? []) as string[];
    const all = [...new Set([region, ...names])];
    return { Regions: all.map((RegionName) => ({ RegionName, Endpoint: 'nimbus', OptInStatus: 'opt-in-not-required' })) };
  },
  DescribeAvailabilityZones: (ctx, input, region) => {
    const zones = ZONES.map((z, i) => ({ name: `${region}${z}`, id: `nimbus-az${i + 1}` }));
    const wanted = [...((input.ZoneNames ?? []) as string[]), ...((input.ZoneIds ?? []) as string[])];
    const bad = wanted.filter((w) => !zones.some((z) => z.name === w || z.id === w));
    if (bad.length > 0)
      throw new NimbusError('InvalidParameterValue', `The availability zone '${bad.join(', ')}' is not one of ${zones.map((z) => z.name).join(', ')}`);
    const found = filtered(ctx, zones, input, null, (z) => ({
      id: z.name,
      'zone-name': z.name,
      'zone-id': z.id,
      'region-name': region,
      state: 'available',
      'zone-type': 'availability-zone',
      'opt-in-status': 'opt-in-not-required',
    })).filter((z) => wanted.length === 0 || wanted.includes(z.name) || wanted.includes(z.id));
    return {
      AvailabilityZones: found.map((z) => ({
        ZoneName: z.name,
        ZoneId: z.id,
        RegionName: region,
        State: 'available',
        ZoneType: 'availability-zone',
        OptInStatus: 'opt-in-not-required',
        GroupName: region,
        NetworkBorderGroup: region,
        Messages: [],
      })),
    };
  },
  DescribeAccountAttributes: (_ctx, input) => {
    const all: Record<string, string[]> = {
      'supported-platforms': ['VPC'],
      'default-vpc': ['none'],
      'max-instances': ['20'],
      'vpc-max-security-groups-per-interface': ['5'],
      'max-elastic-ips': ['5'],
      'vpc-max-elastic-ips': ['5'],
    };
    const names = (input.AttributeNames ?? []) as string[];
    const bad = names.find((n) => !(n in all));
    if (bad) throw new NimbusError('InvalidParameterValue', `AttributeName '${bad}' must be one of ${Object.keys(all).join(', ')}`);
    return {
      AccountAttributes: Object.entries(all)
        .filter(([k]) => names.length === 0 || names.includes(k))
        .map(([AttributeName, values]) => ({ AttributeName, AttributeValues: values.map((AttributeValue) => ({ AttributeValue })) })),
    };
  },
  // Nimbus's servers are entered with `nimbus server exec`, not SSH: there are no key pairs.
  DescribeKeyPairs: (_ctx, input) => {
    const asked = [...((input.KeyNames ?? []) as string[]), ...((input.KeyPairIds ?? []) as string[])];
    if (asked.length > 0) throw new AwsError('InvalidKeyPair.NotFound', `The key pair '${asked[0]}' does not exist (Nimbus keeps no key pairs)`);
    return { KeyPairs: [] };
  },
  DescribeImages: (ctx, input) => {
    const all = images(ctx);
    const asked = (input.ImageIds ?? []) as string[];
    const unknown = asked.filter((id) => !all.includes(id));
    if (unknown.length > 0) throw new AwsError('InvalidAMIID.NotFound', `The image id '[${unknown.join(', ')}]' does not exist`);
    const found = filtered(ctx, all, input, 'ImageIds', (id) => ({
      id,
      'image-id': id,
      name: id === DEFAULT_IMAGE ? 'nimbus-host' : id,
      state: 'available',
      architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64',
      'owner-id': accountId(ctx.projectId),
      'image-type': 'machine',
      'root-device-type': 'ebs',
      'virtualization-type': 'hvm',
      'is-public': 'false',
    }));
    return { Images: found.map((id) => imageOut(ctx, id)) };
  },
  // Instance types are names a server records: every server is a process on the host. What a tool
  // reads about one (burstable or not, vCPUs) follows its name as AWS's catalogue has it.
  DescribeInstanceTypes: (ctx, input) => {
    const asked = (input.InstanceTypes ?? []) as string[];
    const bad = asked.find((t) => !INSTANCE_TYPE.test(t));
    if (bad) throw new AwsError('InvalidInstanceType', `The following supplied instance types do not exist: [${bad}]`);
    const found = filtered(ctx, asked.length > 0 ? asked : COMMON_TYPES, input, null, (t) => ({
      id: t,
      'instance-type': t,
      'burstable-performance-supported': String(/^t\d/.test(t)),
    }));
    return { InstanceTypes: found.map(instanceTypeOut) };
  },
};

/** What an instance type's name may be: family, generation, options, size (t3.micro, m5.large, c6gn.2xlarge). */
export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.(nano|micro|small|medium|large|metal|\d{0,2}xlarge)$/;
const COMMON_TYPES = ['t3.nano', 't3.micro', 't3.small', 't3.medium', 't3.large', 'm5.large', 'm5.xlarge', 'c5.large'];

function instanceTypeOut(type: string): Out {
  const size = type.split('.')[1];
  const vcpus =
    size === 'nano' || size === 'micro' || size === 'small' || size === 'medium' || size === 'large'
      ? 2
      : size === 'xlarge'
        ? 4
        : size === 'metal'
          ? 96
          : 4 * Number(size.replace('xlarge', ''));
  const memory = { nano: 512, micro: 1024, small: 2048, medium: 4096, large: 8192 }[size] ?? vcpus * 4096;
  return {
    InstanceType: type,
    CurrentGeneration: true,
    FreeTierEligible: type === 't3.micro',
    SupportedUsageClasses: ['on-demand'],
    SupportedRootDeviceTypes: ['ebs'],
    SupportedVirtualizationTypes: ['hvm'],
    BareMetal: size === 'metal',
    Hypervisor: 'nitro',
    ProcessorInfo: { SupportedArchitectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'] },
    VCpuInfo: { DefaultVCpus: vcpus, DefaultCores: Math.max(1, vcpus / 2), DefaultThreadsPerCore: vcpus > 1 ? 2 : 1 },
    MemoryInfo: { SizeInMiB: memory },
    InstanceStorageSupported: false,
    EbsInfo: { EbsOptimizedSupport: 'default', EncryptionSupport: 'supported', NvmeSupport: 'required' },
    NetworkInfo: {
      NetworkPerformance: 'Up to 5 Gigabit',
      MaximumNetworkInterfaces: 1,
      Ipv4AddressesPerInterface: 1,
      Ipv6AddressesPerInterface: 0,
      Ipv6Supported: false,
      EnaSupport: 'required',
    },
    PlacementGroupInfo: { SupportedStrategies: ['partition', 'spread'] },
    HibernationSupported: false,
    BurstablePerformanceSupported: /^t\d/.test(type),
    DedicatedHostsSupported: false,
    AutoRecoverySupported: true,
    SupportedBootModes: ['legacy-bios', 'uefi'],
  };
}
