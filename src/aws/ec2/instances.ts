/**
 * Instances are Nimbus servers. What AWS keeps and a server has no field for is kept as
 * attributes: the instance type and the user data as given. A terminated instance is shown
 * as `terminated` for an hour after (at most 100 per project, in this daemon's memory: a
 * restart forgets them), as AWS shows it, so that the `instance-terminated` waiters end.
 */
import { invalid } from '../../core/errors.js';
import type { SecurityGroup, Server } from '../../core/model/index.js';
import { write, type Ctx } from '../../resources/context.js';
import * as servers from '../../resources/server/service.js';
import { AwsError } from '../codec.js';
import { DEFAULT_IMAGE, INSTANCE_TYPE, zoneOf } from './account.js';
import { eniOf, groupsOf, interfaceOut, publicIpOf } from './interfaces.js';
import {
  accountId,
  appTag,
  attr,
  boolValue,
  filtered,
  freshName,
  keepSpecTags,
  nameTag,
  need,
  setAttr,
  specName,
  specTag,
  tagsOut,
  type Fields,
  type Handler,
  type In,
  type Out,
} from './kit.js';

const STATES = {
  pending: { Code: 0, Name: 'pending' },
  running: { Code: 16, Name: 'running' },
  'shutting-down': { Code: 32, Name: 'shutting-down' },
  terminated: { Code: 48, Name: 'terminated' },
  stopping: { Code: 64, Name: 'stopping' },
  stopped: { Code: 80, Name: 'stopped' },
} as const;

const stateOf = (s: Server) => (s.status === 'stopped' ? STATES.stopped : STATES.running);
const DEFAULT_TYPE = 't3.micro';
const typeOf = (ctx: Ctx, s: Server) => attr(ctx, s.id, 'type') ?? DEFAULT_TYPE;

// ---- terminated instances, remembered for an hour ----

const KEEP_MS = 60 * 60 * 1000;
const KEEP_COUNT = 100;
const terminated = new Map<string, Map<string, { at: number; out: Out; fields: Fields }>>();

function ghosts(projectId: string): Map<string, { at: number; out: Out; fields: Fields }> {
  const mine = terminated.get(projectId) ?? new Map();
  terminated.set(projectId, mine);
  for (const [id, g] of mine) if (Date.now() - g.at > KEEP_MS) mine.delete(id);
  return mine;
}

function remember(ctx: Ctx, s: Server, region: string): void {
  const mine = ghosts(ctx.projectId);
  const out = instanceOut(ctx, s, region);
  const gone: Out = {
    ...out,
    State: STATES.terminated,
    StateTransitionReason: `User initiated (${new Date().toISOString()})`,
    StateReason: { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' },
    NetworkInterfaces: [],
    SecurityGroups: [],
    PublicIpAddress: undefined,
  };
  mine.set(s.id, { at: Date.now(), out: gone, fields: { ...instanceFields(ctx, s, region), 'instance-state-name': 'terminated', state: 'terminated' } });
  while (mine.size > KEEP_COUNT) mine.delete(mine.keys().next().value!);
}

// ---- what an instance looks like ----

function instanceOut(ctx: Ctx, s: Server, region: string): Out {
  const eip = publicIpOf(ctx, s.id);
  return {
    InstanceId: s.id,
    ImageId: s.image ?? DEFAULT_IMAGE,
    InstanceType: typeOf(ctx, s),
    State: stateOf(s),
    PrivateIpAddress: s.privateIp,
    PrivateDnsName: `ip-${s.privateIp.replace(/\./g, '-')}.ec2.internal`,
    PublicDnsName: '',
    ...(eip ? { PublicIpAddress: eip.publicIp } : {}),
    SubnetId: s.subnetId,
    VpcId: s.vpcId,
    LaunchTime: new Date(s.createdAt),
    AmiLaunchIndex: 0,
    Architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64',
    Hypervisor: 'xen',
    VirtualizationType: 'hvm',
    RootDeviceType: 'ebs',
    RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [],
    EbsOptimized: false,
    EnaSupport: true,
    SourceDestCheck: true,
    Monitoring: { State: 'disabled' },
    Placement: { AvailabilityZone: zoneOf(ctx, s.subnetId, region), Tenancy: 'default', GroupName: '' },
    CpuOptions: { CoreCount: 1, ThreadsPerCore: 2 },
    CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
    HibernationOptions: { Configured: false },
    MetadataOptions: {
      State: 'applied',
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 1,
      HttpEndpoint: 'disabled',
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'disabled',
    },
    EnclaveOptions: { Enabled: false },
    MaintenanceOptions: { AutoRecovery: 'default' },
    PrivateDnsNameOptions: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
    CurrentInstanceBootMode: 'legacy-bios',
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    StateTransitionReason: '',
    NetworkInterfaces: [interfaceOut(ctx, s, region, true)],
    SecurityGroups: groupsOf(ctx, s),
    Tags: tagsOut(ctx, s.id, s.name, appTag(ctx, s)),
  };
}

function instanceFields(ctx: Ctx, s: Server, region: string): Fields {
  return {
    id: s.id,
    'instance-id': s.id,
    'vpc-id': s.vpcId,
    'subnet-id': s.subnetId,
    'private-ip-address': s.privateIp,
    'ip-address': publicIpOf(ctx, s.id)?.publicIp,
    'instance-state-name': stateOf(s).Name,
    'instance-state-code': String(stateOf(s).Code),
    state: stateOf(s).Name,
    'instance-type': typeOf(ctx, s),
    'availability-zone': zoneOf(ctx, s.subnetId, region),
    'tag:Name': nameTag(ctx, s.id, s.name),
    'instance.group-id': s.securityGroupIds,
    'group-id': s.securityGroupIds,
    'instance.group-name': s.securityGroupIds.map((id) => ctx.store.get<SecurityGroup>(id, 'securityGroup')?.name ?? id),
    'group-name': s.securityGroupIds.map((id) => ctx.store.get<SecurityGroup>(id, 'securityGroup')?.name ?? id),
    'network-interface.network-interface-id': eniOf(s),
    'network-interface.subnet-id': s.subnetId,
    'network-interface.vpc-id': s.vpcId,
    'network-interface.addresses.private-ip-address': s.privateIp,
    'image-id': s.image ?? DEFAULT_IMAGE,
    'owner-id': accountId(ctx.projectId),
    ...(appTag(ctx, s)['nimbus:app'] ? { 'tag:nimbus:app': s.app ?? '' } : {}),
  };
}

// ---- launching ----

/** The workload: a `nimbus:app` tag, or UserData holding `nimbus:app=...`. */
function appOf(input: In): string | undefined {
  const tag = specTag(input, 'nimbus:app');
  if (tag !== undefined) return tag;
  if (typeof input.UserData === 'string' && input.UserData) {
    const text = Buffer.from(input.UserData, 'base64').toString('utf8');
    const m = /^\s*nimbus:app=(.+?)\s*$/m.exec(text);
    if (m) return m[1];
  }
  return undefined;
}

/** ImageId is recorded as the server's image; AWS's own form (ami-...) or any plain image name. */
function imageOf(input: In): string | undefined {
  if (input.ImageId === undefined || input.ImageId === '') return undefined;
  const id = String(input.ImageId);
  if (id.length > 128 || !/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/.test(id))
    throw new AwsError('InvalidAMIID.Malformed', `Invalid id: '${id}' (letters, digits and ._:/- up to 128)`);
  return id === DEFAULT_IMAGE ? undefined : id;
}

/** Where the instance goes: SubnetId, or NetworkInterfaces.1 (device 0) with its subnet, address and groups. */
function placement(input: In): { subnet: string; ip?: string; groups?: string[] } {
  const nics = (input.NetworkInterfaces ?? []) as In[];
  if (nics.length > 1) throw new AwsError('InvalidParameterValue', 'NetworkInterfaces: a Nimbus server has one network interface (device index 0)');
  const nic = nics[0];
  if (nic) {
    if (nic.NetworkInterfaceId)
      throw new AwsError('InvalidParameterValue', 'NetworkInterfaces.1.NetworkInterfaceId: Nimbus makes the interface with the instance');
    if (input.SubnetId || input.SecurityGroupIds?.length || input.PrivateIpAddress)
      throw new AwsError(
        'InvalidParameterCombination',
        'Network interfaces and an instance-level subnet ID, security groups or private IP may not be specified on the same request',
      );
    if (nic.DeviceIndex !== undefined && Number(nic.DeviceIndex) !== 0)
      throw new AwsError('InvalidParameterValue', 'NetworkInterfaces.1.DeviceIndex must be 0');
    if (nic.AssociatePublicIpAddress === true)
      throw new AwsError(
        'InvalidParameterValue',
        'NetworkInterfaces.1.AssociatePublicIpAddress: Nimbus gives public addresses as elastic IPs (AllocateAddress)',
      );
    const ips = (nic.PrivateIpAddresses ?? []) as In[];
    const ip = nic.PrivateIpAddress ?? ips.find((x) => x.Primary !== false)?.PrivateIpAddress;
    return { subnet: need(nic, 'SubnetId'), ...(ip ? { ip: String(ip) } : {}), ...(nic.Groups?.length ? { groups: nic.Groups as string[] } : {}) };
  }
  if (!input.SubnetId) throw new AwsError('MissingParameter', 'SubnetId is required: Nimbus has no default VPC');
  const groups = input.SecurityGroupIds?.length
    ? (input.SecurityGroupIds as string[])
    : input.SecurityGroups?.length
      ? (input.SecurityGroups as string[])
      : undefined;
  return { subnet: String(input.SubnetId), ...(input.PrivateIpAddress ? { ip: String(input.PrivateIpAddress) } : {}), ...(groups ? { groups } : {}) };
}

const runInstances: Handler = (ctx, input, region) => {
  const min = Number(input.MinCount ?? 1);
  const max = Number(input.MaxCount ?? min);
  if (!(min >= 1 && max >= min && max <= 20)) throw invalid(`MinCount ${input.MinCount} and MaxCount ${input.MaxCount}: 1 <= MinCount <= MaxCount <= 20`);
  const where = placement(input);
  if (where.ip && max > 1) throw invalid('PrivateIpAddress names one address: MaxCount must be 1');
  const type = input.InstanceType === undefined ? DEFAULT_TYPE : String(input.InstanceType);
  if (!INSTANCE_TYPE.test(type)) throw new AwsError('InvalidParameterValue', `Invalid value '${type}' for InstanceType.`);
  if (input.KeyName)
    throw new AwsError('InvalidKeyPair.NotFound', `The key pair '${String(input.KeyName)}' does not exist (enter servers with nimbus server exec)`);
  const base = specName(input, 'instance');
  const app = appOf(input);
  const image = imageOf(input);
  const taken = servers.listServers(ctx).map((s) => s.name);
  const made: Server[] = [];
  write(ctx, () => {
    for (let i = 0; i < max; i++) {
      const name = base ? (max > 1 ? `${base}-${i + 1}` : base) : freshName([...taken, ...made.map((m) => m.name)], 'instance');
      const server = servers.createServer(ctx, {
        name,
        subnet: where.subnet,
        ...(where.ip ? { ip: where.ip } : {}),
        ...(where.groups ? { securityGroups: where.groups } : {}),
        ...(app !== undefined ? { app } : {}),
        ...(image ? { image } : {}),
      });
      keepSpecTags(ctx, input, 'instance', server.id);
      if (type !== DEFAULT_TYPE) setAttr(ctx, server.id, 'type', type);
      if (typeof input.UserData === 'string' && input.UserData) setAttr(ctx, server.id, 'user-data', input.UserData);
      if (app !== undefined && specTag(input, 'nimbus:app') === undefined) setAttr(ctx, server.id, 'app-from', 'user-data');
      made.push(server);
    }
  });
  return {
    ReservationId: `r-${made[0].id.slice(4)}`,
    OwnerId: accountId(ctx.projectId),
    Groups: [],
    Instances: made.map((s) => ({ ...instanceOut(ctx, s, region), State: STATES.pending })),
  };
};

/** Every instance of the project, the terminated ones of the last hour after the live ones. */
function everyInstance(ctx: Ctx, region: string): { id: string; out: () => Out; fields: Fields; live?: Server }[] {
  return [
    ...servers.listServers(ctx).map((s) => ({ id: s.id, out: () => instanceOut(ctx, s, region), fields: instanceFields(ctx, s, region), live: s })),
    ...[...ghosts(ctx.projectId)].filter(([id]) => !ctx.store.get(id, 'server')).map(([id, g]) => ({ id, out: () => g.out, fields: g.fields })),
  ];
}

function describe(ctx: Ctx, input: In, region: string) {
  const all = everyInstance(ctx, region);
  const asked = (input.InstanceIds ?? []) as string[];
  const gone = asked.filter((id) => !all.some((x) => x.id === id));
  if (gone.length > 0)
    throw new AwsError(
      'InvalidInstanceID.NotFound',
      `The instance ID${gone.length > 1 ? 's' : ''} '${gone.join(', ')}' do${gone.length > 1 ? '' : 'es'} not exist`,
    );
  return filtered(ctx, all, input, 'InstanceIds', (x) => x.fields);
}

function instanceChange(ctx: Ctx, input: In, change: (s: Server) => void, key: string, to: Out): Out {
  const ids = (input.InstanceIds ?? []) as string[];
  if (ids.length === 0) throw new AwsError('MissingParameter', 'InstanceId.N is required');
  const before = ids.map((id) => servers.getServer(ctx, id));
  const out = before.map((s) => {
    change(s);
    return { InstanceId: s.id, PreviousState: stateOf(s), CurrentState: to };
  });
  return { [key]: out };
}

const ATTRIBUTES: Record<string, (ctx: Ctx, s: Server) => Out> = {
  instanceType: (ctx, s) => ({ InstanceType: { Value: typeOf(ctx, s) } }),
  userData: (ctx, s) => ({ UserData: attr(ctx, s.id, 'user-data') !== undefined ? { Value: attr(ctx, s.id, 'user-data') } : {} }),
  disableApiTermination: () => ({ DisableApiTermination: { Value: false } }),
  disableApiStop: () => ({ DisableApiStop: { Value: false } }),
  instanceInitiatedShutdownBehavior: () => ({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } }),
  rootDeviceName: () => ({ RootDeviceName: { Value: '/dev/xvda' } }),
  blockDeviceMapping: () => ({ BlockDeviceMappings: [] }),
  productCodes: () => ({ ProductCodes: [] }),
  sourceDestCheck: () => ({ SourceDestCheck: { Value: true } }),
  groupSet: (ctx, s) => ({ Groups: groupsOf(ctx, s) }),
  ebsOptimized: () => ({ EbsOptimized: { Value: false } }),
  sriovNetSupport: () => ({ SriovNetSupport: {} }),
  enaSupport: () => ({ EnaSupport: { Value: true } }),
  kernel: () => ({ KernelId: {} }),
  ramdisk: () => ({ RamdiskId: {} }),
  enclaveOptions: () => ({ EnclaveOptions: { Enabled: false } }),
};

export const INSTANCES: Record<string, Handler> = {
  RunInstances: runInstances,
  DescribeInstances: (ctx, input, region) => ({
    Reservations: describe(ctx, input, region).map((x) => ({
      ReservationId: `r-${x.id.slice(4)}`,
      OwnerId: accountId(ctx.projectId),
      Groups: [],
      Instances: [x.out()],
    })),
  }),
  DescribeInstanceStatus: (ctx, input, region) => {
    const found = describe(ctx, input, region).filter((x) => x.live && (input.IncludeAllInstances === true || x.live.status !== 'stopped'));
    const ok = { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] };
    return {
      InstanceStatuses: found.map((x) => {
        const running = x.live!.status !== 'stopped';
        const na = { Status: 'not-applicable', Details: [] };
        return {
          InstanceId: x.id,
          AvailabilityZone: zoneOf(ctx, x.live!.subnetId, region),
          InstanceState: stateOf(x.live!),
          InstanceStatus: running ? ok : na,
          SystemStatus: running ? ok : na,
          AttachedEbsStatus: running ? ok : na,
        };
      }),
    };
  },
  DescribeInstanceAttribute: (ctx, input) => {
    const s = servers.getServer(ctx, need(input, 'InstanceId'));
    const name = need(input, 'Attribute');
    const read = ATTRIBUTES[name];
    if (!read)
      throw new AwsError('InvalidParameterValue', `Value (${name}) for parameter attribute is invalid. Nimbus serves ${Object.keys(ATTRIBUTES).join(', ')}`);
    return { InstanceId: s.id, ...read(ctx, s) };
  },
  ModifyInstanceAttribute: (ctx, input) => {
    const s = servers.getServer(ctx, need(input, 'InstanceId'));
    if (input.Groups?.length) {
      servers.updateServer(ctx, s.id, { securityGroups: input.Groups as string[] });
      return {};
    }
    const type = input.InstanceType?.Value ?? (input.Attribute === 'instanceType' ? input.Value : undefined);
    if (type !== undefined) {
      if (s.status !== 'stopped') throw new AwsError('IncorrectInstanceState', `The instance '${s.id}' is not in the 'stopped' state.`);
      if (!INSTANCE_TYPE.test(String(type))) throw new AwsError('InvalidParameterValue', `Invalid value '${String(type)}' for InstanceType.`);
      setAttr(ctx, s.id, 'type', String(type) === DEFAULT_TYPE ? null : String(type));
      return {};
    }
    const same = (v: unknown, only: boolean, what: string) => {
      if (boolValue(v) !== undefined && boolValue(v) !== only) throw new AwsError('InvalidParameterValue', `${what}: Nimbus keeps it ${only}`);
    };
    same(input.DisableApiTermination, false, 'DisableApiTermination');
    same(input.DisableApiStop, false, 'DisableApiStop');
    same(input.SourceDestCheck, true, 'SourceDestCheck');
    if (input.UserData !== undefined || input.InstanceInitiatedShutdownBehavior !== undefined)
      throw new AwsError('InvalidParameterValue', 'UserData and InstanceInitiatedShutdownBehavior are fixed at launch in Nimbus');
    return {};
  },
  DescribeInstanceCreditSpecifications: (ctx, input, region) => ({
    InstanceCreditSpecifications: describe(ctx, input, region)
      .filter((x) => x.live && /^t\d/.test(typeOf(ctx, x.live)))
      .map((x) => ({ InstanceId: x.id, CpuCredits: 'unlimited' })),
  }),
  TerminateInstances: (ctx, input, region) =>
    instanceChange(
      ctx,
      input,
      (s) => {
        remember(ctx, s, region);
        servers.deleteServer(ctx, s.id);
      },
      'TerminatingInstances',
      STATES['shutting-down'],
    ),
  StopInstances: (ctx, input) => instanceChange(ctx, input, (s) => servers.setServerStatus(ctx, s.id, 'stopped'), 'StoppingInstances', STATES.stopping),
  StartInstances: (ctx, input) => instanceChange(ctx, input, (s) => servers.setServerStatus(ctx, s.id, 'running'), 'StartingInstances', STATES.pending),
};
