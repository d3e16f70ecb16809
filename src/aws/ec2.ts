/**
 * EC2 operations on Nimbus's services: each handler maps an AWS input (as the model names
 * it) to a service call and the result to the AWS output shape. The rules and refusals are
 * the services' own, with their codes (InvalidVpcID.NotFound, DependencyViolation, ...).
 *
 * An AWS account is a Nimbus project; the `Name` tag is the Nimbus name. Ids keep Nimbus's
 * prefixes (an instance is `ecs-...`). What is accepted and not kept is said in docs/aws.md.
 */
import { parseIcmp } from '../core/icmp.js';
import { NimbusError, invalid } from '../core/errors.js';
import type { ElasticIp, InternetGateway, Peering, RouteTable, SecurityGroup, SecurityGroupRule, Server, Subnet, Vpc } from '../core/model/index.js';
import * as edge from '../resources/edge/service.js';
import { edgeHandlers } from './ec2-edge.js';
import { write, type Ctx } from '../resources/context.js';
import * as vpcs from '../resources/vpc/service.js';
import * as subnets from '../resources/subnet/service.js';
import * as servers from '../resources/server/service.js';
import * as groups from '../resources/security-group/service.js';
import * as tables from '../resources/route-table/service.js';
import * as peerings from '../resources/peering/service.js';
import { findProject } from '../resources/project/service.js';
import { kindOfId } from '../core/ids.js';
import { AwsError, type Value } from './codec.js';
import { checkTag as checkTagAs, checkTagCount } from './tags.js';
import type { LbRuntime } from '../resources/load-balancer/status.js';

/** An input as the codec decoded it from the model (its fields are read by their AWS names). */
export type In = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Out = Record<string, Value>;
/** One operation: the caller's project, its input, the region it signed for, the load balancers' runtime. */
export type Handler = (ctx: Ctx, input: In, region: string, runtime: LbRuntime) => Out;

/** The AWS tags of a resource: Name (its Nimbus name), then the ones kept beside it. */
function tagsOut(ctx: Ctx, id: string, name: string, extra: Record<string, string> = {}): Out[] {
  const all = { ...extra, ...ctx.store.tags(id) };
  return [{ Key: 'Name', Value: name }, ...Object.entries(all).map(([Key, Value]) => ({ Key, Value }))];
}

const checkTag = (key: unknown, value: unknown) => checkTagAs(key, value, 'InvalidParameterValue');

/** Keys the instance's own fields stand for: Name is its name, nimbus:app its workload (chosen at launch). */
const OWN_KEYS = new Set(['Name', 'nimbus:app']);

/** Keeps the tags of TagSpecifications (of this resource type) other than the ones the resource's fields hold. */
function keepSpecTags(ctx: Ctx, input: In, type: string, id: string): void {
  for (const spec of (input.TagSpecifications ?? []) as In[]) {
    if (spec.ResourceType && spec.ResourceType !== type) continue;
    for (const t of (spec.Tags ?? []) as In[]) {
      checkTag(t.Key, t.Value);
      if (!OWN_KEYS.has(String(t.Key))) ctx.store.setTag(id, String(t.Key), String(t.Value ?? ''));
    }
  }
  checkTagCount(id, Object.keys(ctx.store.tags(id)).length, 1, 'TagLimitExceeded');
}

/** Runs a create and keeps its TagSpecifications in the same transaction: a refused tag creates nothing. */
function created<T extends { id: string }>(ctx: Ctx, input: In, type: string, make: () => T): T {
  return write(ctx, () => {
    const made = make();
    keepSpecTags(ctx, input, type, made.id);
    return made;
  });
}

/** A Name from TagSpecifications of this resource type, or undefined. */
function specName(input: In, type: string): string | undefined {
  for (const spec of (input.TagSpecifications ?? []) as In[]) {
    if (spec.ResourceType && spec.ResourceType !== type) continue;
    for (const t of (spec.Tags ?? []) as In[]) if (t.Key === 'Name') return String(t.Value ?? '');
  }
  return undefined;
}

function specTag(input: In, key: string): string | undefined {
  for (const spec of (input.TagSpecifications ?? []) as In[]) for (const t of (spec.Tags ?? []) as In[]) if (t.Key === key) return String(t.Value ?? '');
  return undefined;
}

/** The Name tag of this resource type in TagSpecifications, or, as AWS leaves it nameless, `<base>-N`. */
function nameFor(input: In, type: string, base: string, taken: () => string[]): string {
  return specName(input, type) ?? freshName(taken(), base);
}

/** A name for a resource created without a Name tag, as AWS leaves it nameless: its kind and a counter. */
function freshName(taken: string[], base: string): string {
  const used = new Set(taken);
  for (let i = 1; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

// ---- filters: every Describe takes Filter.N.Name / Filter.N.Value.M and its plural ids ----

type Fields = Record<string, string | string[] | undefined>;

function filtered<T>(ctx: Ctx, items: T[], input: In, idsKey: string | null, fields: (t: T) => Fields, filtersKey = 'Filters'): T[] {
  const ids = idsKey ? ((input[idsKey] ?? []) as string[]) : [];
  const filters = (input[filtersKey] ?? []) as { Name?: string; Values?: string[] }[];
  return items.filter((t) => {
    const f = fields(t);
    if (ids.length > 0 && !ids.includes(String(f.id))) return false;
    for (const flt of filters) {
      const want = flt.Values ?? [];
      const have = f[flt.Name ?? ''] ?? tagField(ctx, f, flt.Name ?? '');
      if (have === undefined)
        throw new NimbusError(
          'InvalidParameterValue',
          `Filter '${flt.Name}' is not one Nimbus serves here: ${[...Object.keys(f).filter((k) => k !== 'id'), 'tag:KEY', 'tag-key', 'tag-value'].join(', ')}`,
        );
      const values = Array.isArray(have) ? have : [have];
      if (!want.some((w) => values.some((v) => glob(w, v)))) return false;
    }
    return true;
  });
}

/** The tag filters: `tag:KEY` (no value when the resource lacks the tag), `tag-key` and `tag-value`. */
function tagField(ctx: Ctx, f: Fields, name: string): string | string[] | undefined {
  if (!name.startsWith('tag:') && name !== 'tag-key' && name !== 'tag-value') return undefined;
  const tags: Record<string, string> = { ...ctx.store.tags(String(f.id)) };
  for (const [k, v] of Object.entries(f)) if (k.startsWith('tag:') && typeof v === 'string') tags[k.slice(4)] = v;
  if (name === 'tag-key') return Object.keys(tags);
  if (name === 'tag-value') return Object.values(tags);
  const key = name.slice('tag:'.length);
  return key in tags ? tags[key] : [];
}

/** EC2 filter values may use * and ?. */
function glob(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}

/** Ids asked for that do not exist: AWS refuses the whole call. */
function missing(ids: string[] | undefined, found: { id: string }[], code: string, what: string): void {
  const gone = (ids ?? []).filter((id) => !found.some((f) => f.id === id));
  if (gone.length > 0) throw new AwsError(code, `The ${what} ID${gone.length > 1 ? 's' : ''} '${gone.join(', ')}' do${gone.length > 1 ? '' : 'es'} not exist`);
}

// ---- VPCs and subnets ----

const vpcOut = (ctx: Ctx, v: Vpc): Out => ({
  VpcId: v.id,
  CidrBlock: v.cidr,
  State: 'available',
  OwnerId: ctx.projectId,
  InstanceTenancy: 'default',
  DhcpOptionsId: 'default',
  IsDefault: false,
  CidrBlockAssociationSet: [{ AssociationId: `vpc-cidr-assoc-${v.id.slice(4)}`, CidrBlock: v.cidr, CidrBlockState: { State: 'associated' } }],
  Tags: tagsOut(ctx, v.id, v.name),
});

const subnetOut = (ctx: Ctx, s: Subnet, region: string): Out => ({
  SubnetId: s.id,
  VpcId: s.vpcId,
  CidrBlock: s.cidr,
  State: 'available',
  AvailableIpAddressCount: s.availableIpCount,
  AvailabilityZone: `${region}a`,
  OwnerId: ctx.projectId,
  DefaultForAz: false,
  MapPublicIpOnLaunch: false,
  Tags: tagsOut(ctx, s.id, s.name),
});

// ---- security groups ----

function permissions(rules: SecurityGroupRule[], direction: 'ingress' | 'egress'): Out[] {
  return rules
    .filter((r) => r.direction === direction)
    .map((r) => ({
      IpProtocol: r.protocol === 'all' ? '-1' : r.protocol,
      ...(r.portRange
        ? { FromPort: r.portRange.from, ToPort: r.portRange.to }
        : r.protocol === 'icmp'
          ? { FromPort: r.icmp?.type ?? -1, ToPort: r.icmp?.code ?? -1 }
          : r.protocol === 'all'
            ? {}
            : { FromPort: 0, ToPort: 65535 }),
      IpRanges: 'cidr' in r.remote ? [{ CidrIp: r.remote.cidr, ...(r.description ? { Description: r.description } : {}) }] : [],
      UserIdGroupPairs: 'groupId' in r.remote ? [{ GroupId: r.remote.groupId }] : [],
    }));
}

const groupOut = (ctx: Ctx, g: SecurityGroup): Out => ({
  GroupId: g.id,
  GroupName: g.name,
  Description: g.description,
  OwnerId: ctx.projectId,
  IpPermissions: permissions(g.rules, 'ingress'),
  IpPermissionsEgress: permissions(g.rules, 'egress'),
  Tags: tagsOut(ctx, g.id, g.name),
});

/** The rules an IpPermissions list stands for, as Nimbus rule inputs. */
function ruleInputs(perms: In[], direction: 'ingress' | 'egress') {
  const out: {
    direction: 'ingress' | 'egress';
    protocol: 'tcp' | 'udp' | 'icmp' | 'all';
    ports?: string;
    icmp?: string;
    remote: string;
    description?: string;
  }[] = [];
  for (const p of perms) {
    const proto = String(p.IpProtocol ?? '');
    const protocol = proto === '-1' || proto === 'all' ? 'all' : proto === '6' ? 'tcp' : proto === '17' ? 'udp' : proto === '1' ? 'icmp' : proto;
    if (!['tcp', 'udp', 'icmp', 'all'].includes(protocol)) throw invalid(`IpProtocol '${proto}' is not one of tcp, udp, icmp, -1`);
    const from = p.FromPort === undefined ? undefined : Number(p.FromPort);
    const to = p.ToPort === undefined ? undefined : Number(p.ToPort);
    // tcp/udp: FromPort-ToPort, -1 or 0-65535 for all (AWS's "All TCP"); icmp: FromPort is the type, ToPort the code, -1 any.
    const ports =
      (protocol === 'tcp' || protocol === 'udp') && from !== undefined && from !== -1
        ? from === to || to === undefined
          ? `${from}`
          : `${from}-${to}`
        : undefined;
    const icmp = protocol === 'icmp' && from !== undefined && from !== -1 ? (to === undefined || to === -1 ? `${from}` : `${from}/${to}`) : undefined;
    const remotes: { remote: string; description?: string }[] = [
      ...((p.IpRanges ?? []) as In[]).map((r) => ({ remote: String(r.CidrIp), description: r.Description })),
      ...((p.UserIdGroupPairs ?? []) as In[]).map((g) => ({ remote: String(g.GroupId ?? g.GroupName), description: g.Description })),
    ];
    if (remotes.length === 0) throw invalid('IpPermissions: each needs IpRanges (CidrIp) or UserIdGroupPairs (GroupId)');
    for (const r of remotes)
      out.push({
        direction,
        protocol: protocol as 'tcp',
        ...(ports ? { ports } : {}),
        ...(icmp ? { icmp } : {}),
        remote: r.remote,
        ...(r.description ? { description: r.description } : {}),
      });
  }
  return out;
}

/** The flat form of what the caller passed (GroupId with IpProtocol/FromPort/ToPort/CidrIp) as IpPermissions. */
function permsOf(input: In): In[] {
  if (input.IpPermissions?.length) return input.IpPermissions as In[];
  if (input.IpProtocol !== undefined || input.CidrIp !== undefined) {
    return [
      {
        IpProtocol: input.IpProtocol ?? '-1',
        FromPort: input.FromPort,
        ToPort: input.ToPort,
        IpRanges: input.CidrIp ? [{ CidrIp: input.CidrIp }] : [],
        UserIdGroupPairs: input.SourceSecurityGroupName ? [{ GroupName: input.SourceSecurityGroupName }] : [],
      },
    ];
  }
  throw invalid('IpPermissions: at least one permission is required');
}

function groupRef(input: In): string {
  const ref = input.GroupId ?? input.GroupName;
  if (!ref) throw new AwsError('MissingParameter', 'GroupId or GroupName is required');
  return String(ref);
}

function authorize(direction: 'ingress' | 'egress'): Handler {
  return (ctx, input) => {
    const ref = groupRef(input);
    const rules = ruleInputs(permsOf(input), direction);
    let g = groups.getSecurityGroup(ctx, ref);
    const added: SecurityGroupRule[] = [];
    for (const r of rules) {
      const before = new Set(g.rules.map((x) => x.id));
      g = groups.addRule(ctx, ref, r);
      added.push(...g.rules.filter((x) => !before.has(x.id)));
    }
    return {
      Return: true,
      SecurityGroupRules: added.map((r) => ({
        SecurityGroupRuleId: r.id,
        GroupId: g.id,
        IsEgress: direction === 'egress',
        IpProtocol: r.protocol === 'all' ? '-1' : r.protocol,
        FromPort: r.portRange?.from ?? (r.protocol === 'icmp' ? (r.icmp?.type ?? -1) : r.protocol === 'all' ? -1 : 0),
        ToPort: r.portRange?.to ?? (r.protocol === 'icmp' ? (r.icmp?.code ?? -1) : r.protocol === 'all' ? -1 : 65535),
        ...('cidr' in r.remote ? { CidrIpv4: r.remote.cidr } : { ReferencedGroupInfo: { GroupId: r.remote.groupId } }),
      })),
    };
  };
}

function revoke(direction: 'ingress' | 'egress'): Handler {
  return (ctx, input) => {
    const ref = groupRef(input);
    let g = groups.getSecurityGroup(ctx, ref);
    const ids = new Set((input.SecurityGroupRuleIds ?? []) as string[]);
    const wanted = ids.size > 0 ? [] : ruleInputs(permsOf(input), direction);
    const groupIdOf = (remote: string) => (remote.includes('/') ? remote : groups.getSecurityGroup(ctx, remote).id);
    const victims = g.rules.filter(
      (r) =>
        r.direction === direction &&
        (ids.has(r.id) ||
          wanted.some(
            (w) =>
              w.protocol === r.protocol &&
              JSON.stringify(w.ports ? groups.parsePorts(w.ports) : null) === JSON.stringify(r.portRange) &&
              JSON.stringify(w.icmp ? parseIcmp(w.icmp) : null) === JSON.stringify(r.icmp ?? null) &&
              ('cidr' in r.remote ? r.remote.cidr === w.remote : r.remote.groupId === groupIdOf(w.remote)),
          )),
    );
    if (victims.length === 0) throw new NimbusError('InvalidPermission.NotFound', `no ${direction} rule of security group '${g.name}' matches`);
    for (const r of victims) g = groups.removeRule(ctx, ref, r.id);
    return { Return: true };
  };
}

// ---- instances ----

const STATES = {
  pending: { Code: 0, Name: 'pending' },
  running: { Code: 16, Name: 'running' },
  terminated: { Code: 48, Name: 'terminated' },
  stopped: { Code: 80, Name: 'stopped' },
} as const;

const stateOf = (s: Server) => (s.status === 'stopped' ? STATES.stopped : STATES.running);

function instanceOut(ctx: Ctx, s: Server, region: string): Out {
  return {
    InstanceId: s.id,
    ImageId: s.image ?? 'ami-nimbus',
    InstanceType: 't3.micro',
    State: stateOf(s),
    PrivateIpAddress: s.privateIp,
    SubnetId: s.subnetId,
    VpcId: s.vpcId,
    LaunchTime: new Date(s.createdAt),
    ...publicIpOf(ctx, s.id),
    Placement: { AvailabilityZone: `${region}a`, Tenancy: 'default' },
    SecurityGroups: s.securityGroupIds.map((id) => {
      const g = ctx.store.get<SecurityGroup>(id, 'securityGroup');
      return { GroupId: id, GroupName: g?.name ?? id };
    }),
    Tags: tagsOut(ctx, s.id, s.name, s.app ? { 'nimbus:app': s.app } : {}),
  };
}

/** An instance's elastic IP, as AWS shows it on the instance. */
function publicIpOf(ctx: Ctx, serverId: string): Out {
  const e = ctx.store.list<ElasticIp>('elasticIp', { projectId: ctx.projectId }).find((x) => x.serverId === serverId);
  return e ? { PublicIpAddress: e.publicIp } : {};
}

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
  return id;
}

const runInstances: Handler = (ctx, input, region) => {
  const min = Number(input.MinCount ?? 1);
  const max = Number(input.MaxCount ?? min);
  if (!(min >= 1 && max >= min && max <= 20)) throw invalid(`MinCount ${input.MinCount} and MaxCount ${input.MaxCount}: 1 <= MinCount <= MaxCount <= 20`);
  if (!input.SubnetId) throw new AwsError('MissingParameter', 'SubnetId is required: Nimbus has no default VPC');
  if (input.PrivateIpAddress && max > 1) throw invalid('PrivateIpAddress names one address: MaxCount must be 1');
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
        subnet: String(input.SubnetId),
        ...(input.PrivateIpAddress ? { ip: String(input.PrivateIpAddress) } : {}),
        ...(input.SecurityGroupIds?.length
          ? { securityGroups: input.SecurityGroupIds as string[] }
          : input.SecurityGroups?.length
            ? { securityGroups: input.SecurityGroups as string[] }
            : {}),
        ...(app !== undefined ? { app } : {}),
        ...(image ? { image } : {}),
      });
      keepSpecTags(ctx, input, 'instance', server.id);
      made.push(server);
    }
  });
  return {
    ReservationId: `r-${made[0].id.slice(4)}`,
    OwnerId: ctx.projectId,
    Groups: [],
    Instances: made.map((s) => ({ ...instanceOut(ctx, s, region), State: STATES.pending })),
  };
};

function instanceFields(s: Server): Fields {
  return {
    id: s.id,
    'instance-id': s.id,
    'vpc-id': s.vpcId,
    'subnet-id': s.subnetId,
    'private-ip-address': s.privateIp,
    'instance-state-name': stateOf(s).Name,
    state: stateOf(s).Name,
    'tag:Name': s.name,
    'instance.group-id': s.securityGroupIds,
    'image-id': s.image ?? 'ami-nimbus',
    ...(s.app ? { 'tag:nimbus:app': s.app } : {}),
  };
}

function instanceChange(ctx: Ctx, input: In, change: (s: Server) => Server | null, key: string, to: Out): Out {
  const ids = (input.InstanceIds ?? []) as string[];
  if (ids.length === 0) throw new AwsError('MissingParameter', 'InstanceId.N is required');
  const before = ids.map((id) => servers.getServer(ctx, id));
  const out = before.map((s) => {
    change(s);
    return { InstanceId: s.id, PreviousState: stateOf(s), CurrentState: to };
  });
  return { [key]: out };
}

// ---- route tables ----

const assocId = (subnetId: string) => `rtbassoc-${subnetId.slice(subnetId.indexOf('-') + 1)}`;

function routeTableOut(ctx: Ctx, t: RouteTable): Out {
  return {
    RouteTableId: t.id,
    VpcId: t.vpcId,
    OwnerId: ctx.projectId,
    Routes: t.routes.map((r) => ({
      DestinationCidrBlock: r.destination,
      ...(r.target.type === 'local'
        ? { GatewayId: 'local' }
        : r.target.type === 'peering'
          ? { VpcPeeringConnectionId: r.target.peeringId }
          : r.target.type === 'internetGateway'
            ? { GatewayId: r.target.gatewayId }
            : r.target.type === 'natGateway'
              ? { NatGatewayId: r.target.natGatewayId }
              : {}),
      State: r.state,
      Origin: r.target.type === 'local' ? 'CreateRouteTable' : 'CreateRoute',
    })),
    Associations: [
      ...(t.main ? [{ Main: true, RouteTableAssociationId: `rtbassoc-${t.id.slice(4)}`, RouteTableId: t.id, AssociationState: { State: 'associated' } }] : []),
      ...t.subnetIds
        .filter((id) => ctx.store.get<Subnet>(id, 'subnet')?.explicitRouteTable)
        .map((id) => ({ Main: false, RouteTableAssociationId: assocId(id), RouteTableId: t.id, SubnetId: id, AssociationState: { State: 'associated' } })),
    ],
    Tags: tagsOut(ctx, t.id, t.name),
  };
}

function routeTarget(ctx: Ctx, input: In): string {
  if (input.VpcPeeringConnectionId) return String(input.VpcPeeringConnectionId);
  if (input.NatGatewayId) return String(input.NatGatewayId);
  if (input.GatewayId) {
    const id = String(input.GatewayId);
    // AWS's answer for a gateway id it does not know (an internet gateway is the one kind Nimbus has).
    if (
      !id.startsWith('igw-') ||
      !ctx.store.get<InternetGateway>(id, 'internetGateway') ||
      ctx.store.get<InternetGateway>(id, 'internetGateway')!.projectId !== ctx.projectId
    )
      throw new NimbusError('InvalidGatewayID.NotFound', `The gateway ID '${id}' does not exist`);
    return id;
  }
  const other = ['InstanceId', 'NetworkInterfaceId', 'TransitGatewayId', 'EgressOnlyInternetGatewayId', 'LocalGatewayId', 'CarrierGatewayId'].find(
    (k) => input[k],
  );
  if (other)
    throw new NimbusError(
      'InvalidParameterValue',
      `${other}: Nimbus routes to peering connections, internet gateways and NAT gateways (VpcPeeringConnectionId, GatewayId, NatGatewayId)`,
    );
  throw new AwsError('MissingParameter', 'a target is required: GatewayId, NatGatewayId or VpcPeeringConnectionId');
}

function destination(input: In): string {
  if (!input.DestinationCidrBlock) throw new AwsError('MissingParameter', 'DestinationCidrBlock is required (IPv4 only)');
  return String(input.DestinationCidrBlock);
}

// ---- peerings ----

function peeringOut(ctx: Ctx, p: Peering): Out {
  const vpc = (id: string) => ctx.store.get<Vpc>(id, 'vpc');
  const info = (id: string, owner: string) => ({ VpcId: id, OwnerId: owner, CidrBlock: vpc(id)?.cidr, Region: undefined });
  return {
    VpcPeeringConnectionId: p.id,
    RequesterVpcInfo: info(p.requesterVpcId, p.projectId),
    AccepterVpcInfo: info(p.accepterVpcId, p.accepterProjectId),
    Status: {
      Code: p.status,
      Message:
        p.status === 'pending-acceptance'
          ? 'Pending Acceptance by the peer project'
          : p.status === 'active'
            ? 'Active'
            : p.status === 'failed'
              ? 'Overlapping CIDR range'
              : p.status,
    },
    Tags: tagsOut(ctx, p.id, p.name),
  };
}

// ---- tags: the Name tag is the Nimbus name ----

function rename(ctx: Ctx, id: string, name: string): void {
  switch (kindOfId(id)) {
    case 'vpc':
      vpcs.updateVpc(ctx, id, { name });
      return;
    case 'subnet':
      subnets.updateSubnet(ctx, id, { name });
      return;
    case 'server':
      servers.updateServer(ctx, id, { name });
      return;
    case 'securityGroup':
      groups.updateSecurityGroup(ctx, id, { name });
      return;
    case 'routeTable':
      tables.renameRouteTable(ctx, id, { name });
      return;
    case 'peering':
      peerings.renamePeering(ctx, id, { name });
      return;
    case 'internetGateway':
      edge.renameInternetGateway(ctx, id, { name });
      return;
    case 'elasticIp':
      edge.renameAddress(ctx, id, { name });
      return;
    case 'natGateway':
      edge.renameNatGateway(ctx, id, { name });
      return;
    default:
      throw new AwsError(
        'InvalidID',
        `The ID '${id}' is not a resource Nimbus tags (a VPC, subnet, instance, security group, route table, peering, internet gateway, elastic IP or NAT gateway)`,
      );
  }
}

/** A resource CreateTags and DeleteTags may change, by id, in the caller's project. */
function taggedResource(ctx: Ctx, id: string): { id: string; name: string; type: string } {
  const r = taggable(ctx).find((x) => x.id === id);
  if (r) return r;
  const kind = kindOfId(id);
  if (!kind || !TAG_TYPES[kind as keyof typeof TAG_TYPES])
    throw new AwsError(
      'InvalidID',
      `The ID '${id}' is not a resource Nimbus tags (a VPC, subnet, instance, security group, route table, peering, internet gateway, elastic IP or NAT gateway)`,
    );
  throw new AwsError(`${TAG_TYPES[kind as keyof typeof TAG_TYPES]}.NotFound`, `The ID '${id}' does not exist`);
}

const TAG_TYPES = {
  vpc: 'InvalidVpcID',
  subnet: 'InvalidSubnetID',
  server: 'InvalidInstanceID',
  securityGroup: 'InvalidGroup',
  routeTable: 'InvalidRouteTableID',
  peering: 'InvalidVpcPeeringConnectionID',
  internetGateway: 'InvalidInternetGatewayID',
  elasticIp: 'InvalidAllocationID',
  natGateway: 'InvalidNatGatewayID',
} as const;

function appFixed(id: string): never {
  throw new NimbusError('InvalidParameterValue', `${id}: the nimbus:app tag picks the workload at launch (RunInstances) and cannot be changed`);
}

function taggable(ctx: Ctx): { id: string; name: string; type: string; own?: Record<string, string> }[] {
  return [
    ...vpcs.listVpcs(ctx).map((x) => ({ id: x.id, name: x.name, type: 'vpc' })),
    ...subnets.listSubnets(ctx).map((x) => ({ id: x.id, name: x.name, type: 'subnet' })),
    ...servers.listServers(ctx).map((x) => ({ id: x.id, name: x.name, type: 'instance', own: x.app ? { 'nimbus:app': x.app } : {} })),
    ...groups.listSecurityGroups(ctx).map((x) => ({ id: x.id, name: x.name, type: 'security-group' })),
    ...tables.listRouteTables(ctx).map((x) => ({ id: x.id, name: x.name, type: 'route-table' })),
    ...peerings.listPeerings(ctx).map((x) => ({ id: x.id, name: x.name, type: 'vpc-peering-connection' })),
    ...edge.listInternetGateways(ctx).map((x) => ({ id: x.id, name: x.name, type: 'internet-gateway' })),
    ...edge
      .listAddresses(ctx)
      .filter((x) => !x.loadBalancerId)
      .map((x) => ({ id: x.id, name: x.name, type: 'elastic-ip' })),
    ...edge.listNatGateways(ctx).map((x) => ({ id: x.id, name: x.name, type: 'natgateway' })),
  ];
}

export const EC2: Record<string, Handler> = {
  ...edgeHandlers({ tagsOut, created, nameFor, filtered, missing }),
  CreateVpc: (ctx, input) => {
    if (!input.CidrBlock) throw new AwsError('MissingParameter', 'CidrBlock is required');
    // AWS's VPCs are /16 to /28; Nimbus's own API keeps its wider documented range (/8 to /28).
    const prefix = Number(/\/(\d{1,2})$/.exec(String(input.CidrBlock))?.[1] ?? NaN);
    if (prefix < 16 || prefix > 28) throw new AwsError('InvalidVpc.Range', `The CIDR '${String(input.CidrBlock)}' is invalid: a VPC's block is /16 to /28`);
    const name = nameFor(input, 'vpc', 'vpc', () => vpcs.listVpcs(ctx).map((v) => v.name));
    return {
      Vpc: vpcOut(
        ctx,
        created(ctx, input, 'vpc', () => vpcs.createVpc(ctx, { name, cidr: String(input.CidrBlock) })),
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
      state: 'available',
      'tag:Name': v.name,
      'is-default': 'false',
    }));
    return { Vpcs: found.map((v) => vpcOut(ctx, v)) };
  },
  DeleteVpc: (ctx, input) => {
    vpcs.deleteVpc(ctx, String(input.VpcId));
    return {};
  },
  CreateSubnet: (ctx, input, region) => {
    if (!input.VpcId || !input.CidrBlock) throw new AwsError('MissingParameter', 'VpcId and CidrBlock are required');
    const name = nameFor(input, 'subnet', 'subnet', () => subnets.listSubnets(ctx).map((s) => s.name));
    const made = created(ctx, input, 'subnet', () => subnets.createSubnet(ctx, { name, vpc: String(input.VpcId), cidr: String(input.CidrBlock) }));
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
      state: 'available',
      'tag:Name': s.name,
    }));
    return { Subnets: found.map((s) => subnetOut(ctx, s, region)) };
  },
  DeleteSubnet: (ctx, input) => {
    subnets.deleteSubnet(ctx, String(input.SubnetId));
    return {};
  },

  CreateSecurityGroup: (ctx, input) => {
    if (!input.GroupName || !input.Description) throw new AwsError('MissingParameter', 'GroupName and GroupDescription are required');
    const g = created(ctx, input, 'security-group', () =>
      groups.createSecurityGroup(ctx, { name: String(input.GroupName), description: String(input.Description) }),
    );
    return { GroupId: g.id, Tags: tagsOut(ctx, g.id, g.name) };
  },
  DescribeSecurityGroups: (ctx, input) => {
    const all = groups.listSecurityGroups(ctx);
    missing(input.GroupIds, all, 'InvalidGroup.NotFound', 'security group');
    const names = (input.GroupNames ?? []) as string[];
    const found = filtered(ctx, all, input, 'GroupIds', (g) => ({
      id: g.id,
      'group-id': g.id,
      'group-name': g.name,
      'tag:Name': g.name,
      description: g.description,
    })).filter((g) => names.length === 0 || names.includes(g.name));
    return { SecurityGroups: found.map((g) => groupOut(ctx, g)) };
  },
  DeleteSecurityGroup: (ctx, input) => {
    const g = groups.deleteSecurityGroup(ctx, groupRef(input));
    return { Return: true, GroupId: g.id };
  },
  AuthorizeSecurityGroupIngress: authorize('ingress'),
  AuthorizeSecurityGroupEgress: authorize('egress'),
  RevokeSecurityGroupIngress: revoke('ingress'),
  RevokeSecurityGroupEgress: revoke('egress'),

  RunInstances: runInstances,
  DescribeInstances: (ctx, input, region) => {
    const all = servers.listServers(ctx);
    missing(input.InstanceIds, all, 'InvalidInstanceID.NotFound', 'instance');
    const found = filtered(ctx, all, input, 'InstanceIds', instanceFields);
    return {
      Reservations: found.map((s) => ({ ReservationId: `r-${s.id.slice(4)}`, OwnerId: ctx.projectId, Groups: [], Instances: [instanceOut(ctx, s, region)] })),
    };
  },
  TerminateInstances: (ctx, input) => instanceChange(ctx, input, (s) => servers.deleteServer(ctx, s.id), 'TerminatingInstances', STATES.terminated),
  StopInstances: (ctx, input) => instanceChange(ctx, input, (s) => servers.setServerStatus(ctx, s.id, 'stopped'), 'StoppingInstances', STATES.stopped),
  StartInstances: (ctx, input) => instanceChange(ctx, input, (s) => servers.setServerStatus(ctx, s.id, 'running'), 'StartingInstances', STATES.running),

  CreateRouteTable: (ctx, input) => {
    if (!input.VpcId) throw new AwsError('MissingParameter', 'VpcId is required');
    const name = nameFor(input, 'route-table', 'rtb', () => tables.listRouteTables(ctx).map((t) => t.name));
    return {
      RouteTable: routeTableOut(
        ctx,
        created(ctx, input, 'route-table', () => tables.createRouteTable(ctx, { name, vpc: String(input.VpcId) })),
      ),
    };
  },
  DescribeRouteTables: (ctx, input) => {
    const all = tables.listRouteTables(ctx);
    missing(input.RouteTableIds, all, 'InvalidRouteTableID.NotFound', 'route table');
    const found = filtered(ctx, all, input, 'RouteTableIds', (t) => ({
      id: t.id,
      'route-table-id': t.id,
      'vpc-id': t.vpcId,
      'association.main': String(t.main),
      'association.subnet-id': t.subnetIds,
      'tag:Name': t.name,
    }));
    return { RouteTables: found.map((t) => routeTableOut(ctx, t)) };
  },
  DeleteRouteTable: (ctx, input) => {
    tables.deleteRouteTable(ctx, String(input.RouteTableId));
    return {};
  },
  CreateRoute: (ctx, input) => {
    tables.addRoute(ctx, { routeTable: String(input.RouteTableId), destination: destination(input), target: routeTarget(ctx, input) });
    return { Return: true };
  },
  ReplaceRoute: (ctx, input) => {
    const dst = destination(input);
    const target = routeTarget(ctx, input);
    const t = tables.getRouteTable(ctx, String(input.RouteTableId));
    if (!t.routes.some((r) => r.destination === dst)) throw new NimbusError('InvalidRoute.NotFound', `no route to ${dst} in route table ${t.id}`);
    tables.removeRoute(ctx, { routeTable: t.id, destination: dst });
    tables.addRoute(ctx, { routeTable: t.id, destination: dst, target });
    return {};
  },
  DeleteRoute: (ctx, input) => {
    tables.removeRoute(ctx, { routeTable: String(input.RouteTableId), destination: destination(input) });
    return {};
  },
  AssociateRouteTable: (ctx, input) => {
    if (!input.SubnetId) throw new AwsError('MissingParameter', 'SubnetId is required (gateways are not associated in Nimbus)');
    tables.associate(ctx, String(input.RouteTableId), String(input.SubnetId));
    return { AssociationId: assocId(String(input.SubnetId)), AssociationState: { State: 'associated' } };
  },
  DisassociateRouteTable: (ctx, input) => {
    const id = String(input.AssociationId ?? '');
    if (!id.startsWith('rtbassoc-')) throw new AwsError('InvalidAssociationID.NotFound', `association '${id}' does not exist`);
    tables.disassociate(ctx, `subnet-${id.slice('rtbassoc-'.length)}`);
    return {};
  },

  CreateVpcPeeringConnection: (ctx, input) => {
    if (!input.VpcId || !input.PeerVpcId) throw new AwsError('MissingParameter', 'VpcId and PeerVpcId are required');
    const name = nameFor(input, 'vpc-peering-connection', 'pcx', () => peerings.listPeerings(ctx).map((p) => p.name));
    const peerProject = input.PeerOwnerId ? findProject(ctx.store, String(input.PeerOwnerId)).id : undefined;
    const p = created(ctx, input, 'vpc-peering-connection', () => {
      try {
        return peerings.createPeering(ctx, { name, vpc: String(input.VpcId), peerVpc: String(input.PeerVpcId), ...(peerProject ? { peerProject } : {}) });
      } catch (err) {
        // AWS makes a request between overlapping CIDRs, in status failed; Nimbus's own API refuses it.
        const overlap = err instanceof NimbusError && err.code === 'InvalidVpcPeeringConnection.OverlappingCidr' && input.VpcId !== input.PeerVpcId;
        if (!overlap || (peerProject && peerProject !== ctx.projectId)) throw err;
        return peerings.createFailedPeering(ctx, { name, vpc: String(input.VpcId), peerVpc: String(input.PeerVpcId) });
      }
    });
    return { VpcPeeringConnection: peeringOut(ctx, p) };
  },
  AcceptVpcPeeringConnection: (ctx, input) => ({ VpcPeeringConnection: peeringOut(ctx, peerings.acceptPeering(ctx, String(input.VpcPeeringConnectionId))) }),
  RejectVpcPeeringConnection: (ctx, input) => {
    peerings.rejectPeering(ctx, String(input.VpcPeeringConnectionId));
    return { Return: true };
  },
  DeleteVpcPeeringConnection: (ctx, input) => {
    peerings.deletePeering(ctx, String(input.VpcPeeringConnectionId));
    return { Return: true };
  },
  DescribeVpcPeeringConnections: (ctx, input) => {
    const all = peerings.listPeerings(ctx);
    missing(input.VpcPeeringConnectionIds, all, 'InvalidVpcPeeringConnectionID.NotFound', 'vpc peering connection');
    const found = filtered(ctx, all, input, 'VpcPeeringConnectionIds', (p) => ({
      id: p.id,
      'vpc-peering-connection-id': p.id,
      'status-code': p.status,
      state: p.status,
      'requester-vpc-info.vpc-id': p.requesterVpcId,
      'accepter-vpc-info.vpc-id': p.accepterVpcId,
      'tag:Name': p.name,
    }));
    return { VpcPeeringConnections: found.map((p) => peeringOut(ctx, p)) };
  },

  CreateTags: (ctx, input) => {
    const ids = (input.Resources ?? []) as string[];
    const tags = (input.Tags ?? []) as { Key?: string; Value?: string }[];
    if (ids.length === 0 || tags.length === 0) throw new AwsError('MissingParameter', 'ResourceId.N and Tag.N are required');
    for (const t of tags) checkTag(t.Key, t.Value);
    write(ctx, () => {
      for (const id of ids) {
        const r = taggedResource(ctx, id);
        for (const t of tags) {
          const key = String(t.Key);
          const value = String(t.Value ?? '');
          if (key === 'Name') rename(ctx, r.id, value);
          else if (key === 'nimbus:app' && r.type === 'instance') appFixed(r.id);
          else ctx.store.setTag(r.id, key, value);
        }
        checkTagCount(r.id, Object.keys(ctx.store.tags(r.id)).length, 1, 'TagLimitExceeded');
      }
    });
    return {};
  },
  DeleteTags: (ctx, input) => {
    const ids = (input.Resources ?? []) as string[];
    if (ids.length === 0) throw new AwsError('MissingParameter', 'ResourceId.N is required');
    const tags = (input.Tags ?? []) as { Key?: string; Value?: string }[];
    if (tags.some((t) => t.Key === 'Name'))
      throw new NimbusError('InvalidParameterValue', "the Name tag is the resource's name in Nimbus and cannot be removed (CreateTags renames)");
    write(ctx, () => {
      for (const id of ids) {
        const r = taggedResource(ctx, id);
        const have = ctx.store.tags(r.id);
        // No Tag.N: every tag but the name goes, as AWS deletes them all. A value given must match.
        for (const t of tags.length > 0 ? tags : Object.keys(have).map((Key) => ({ Key, Value: undefined }))) {
          const key = String(t.Key);
          if (key === 'nimbus:app' && r.type === 'instance') appFixed(r.id);
          if (key in have && (t.Value === undefined || t.Value === have[key])) ctx.store.setTag(r.id, key, null);
        }
      }
    });
    return {};
  },
  DescribeTags: (ctx, input) => {
    const rows = taggable(ctx).flatMap((r) =>
      Object.entries({ Name: r.name, ...r.own, ...ctx.store.tags(r.id) }).map(([key, value]) => ({ ...r, key, value })),
    );
    const found = filtered(ctx, rows, input, null, (t) => ({ id: t.id, 'resource-id': t.id, 'resource-type': t.type, key: t.key, value: t.value }));
    return { Tags: found.map((t) => ({ ResourceId: t.id, ResourceType: t.type, Key: t.key, Value: t.value })) };
  },
};
