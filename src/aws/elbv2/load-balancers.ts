/**
 * Load balancers. A Nimbus load balancer lives in one subnet: the first of those given. The
 * others, the security groups, the type (application or network) and the attributes are kept
 * as given and shown back; docs/aws.md says which attributes Nimbus acts on (deletion
 * protection) and which it only records.
 */
import type { LoadBalancer, Subnet } from '../../core/model/index.js';
import { saveUpdate, write, type Ctx } from '../../resources/context.js';
import * as elb from '../../resources/load-balancer/service.js';
import * as groups from '../../resources/security-group/service.js';
import * as subnets from '../../resources/subnet/service.js';
import type { LbRuntime } from '../../resources/load-balancer/status.js';
import { AwsError } from '../codec.js';
import {
  addTags,
  attr,
  attributeList,
  changedAttributes,
  getLb,
  idOf,
  lbArn,
  lbType,
  required,
  setAttr,
  type Handler,
  type In,
  type Out,
  type TargetGroup,
  zoneOf,
} from './kit.js';

const COMMON: Record<string, string> = {
  'access_logs.s3.enabled': 'false',
  'access_logs.s3.bucket': '',
  'access_logs.s3.prefix': '',
  'deletion_protection.enabled': 'false',
  'zonal_shift.config.enabled': 'false',
};
const APPLICATION: Record<string, string> = {
  ...COMMON,
  'idle_timeout.timeout_seconds': '60',
  'client_keep_alive.seconds': '3600',
  'connection_logs.s3.enabled': 'false',
  'connection_logs.s3.bucket': '',
  'connection_logs.s3.prefix': '',
  'load_balancing.cross_zone.enabled': 'true',
  'routing.http2.enabled': 'true',
  'routing.http.desync_mitigation_mode': 'defensive',
  'routing.http.drop_invalid_header_fields.enabled': 'false',
  'routing.http.preserve_host_header.enabled': 'false',
  'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': 'false',
  'routing.http.xff_client_port.enabled': 'false',
  'routing.http.xff_header_processing.mode': 'append',
  'waf.fail_open.enabled': 'false',
};
const NETWORK: Record<string, string> = {
  ...COMMON,
  'load_balancing.cross_zone.enabled': 'false',
  'dns_record.client_routing_policy': 'any_availability_zone',
};

const defaultsOf = (ctx: Ctx, lb: LoadBalancer) => (lbType(ctx, lb) === 'network' ? NETWORK : APPLICATION);
const json = <T>(ctx: Ctx, id: string, key: string, fallback: T): T => {
  const v = attr(ctx, id, key);
  return v === undefined ? fallback : (JSON.parse(v) as T);
};
const attributesOf = (ctx: Ctx, lb: LoadBalancer) => json<Record<string, string>>(ctx, lb.id, 'attributes', {});
/** Every subnet as given; the first is where it lives. */
const subnetsOf = (ctx: Ctx, lb: LoadBalancer) => json<string[]>(ctx, lb.id, 'subnets', [lb.subnetId]);
const groupsOf = (ctx: Ctx, lb: LoadBalancer) => json<string[]>(ctx, lb.id, 'security-groups', []);

function state(status: string | undefined): Out {
  return { Code: status === 'ACTIVE' ? 'active' : status === 'ERROR' ? 'failed' : 'provisioning' };
}

function lbOut(ctx: Ctx, region: string, runtime: LbRuntime, lb: LoadBalancer): Out {
  return {
    LoadBalancerArn: lbArn(ctx, region, lb),
    DNSName: lb.publicIp ?? lb.vip,
    CanonicalHostedZoneId: 'ZNIMBUS',
    CreatedTime: new Date(lb.createdAt),
    LoadBalancerName: lb.name,
    Scheme: lb.publicIp ? 'internet-facing' : 'internal',
    VpcId: lb.vpcId,
    State: state(runtime.provisioning(lb.id)),
    Type: lbType(ctx, lb),
    AvailabilityZones: subnetsOf(ctx, lb).map((id) => ({
      ZoneName: zoneOf(ctx, id, region),
      SubnetId: id,
      ...(id === lb.subnetId ? { LoadBalancerAddresses: [{ IpAddress: lb.publicIp ?? lb.vip, PrivateIPv4Address: lb.vip }] } : { LoadBalancerAddresses: [] }),
    })),
    SecurityGroups: groupsOf(ctx, lb),
    IpAddressType: 'ipv4',
    ...(lbType(ctx, lb) === 'network' ? { EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: groupsOf(ctx, lb).length > 0 ? 'on' : undefined } : {}),
  };
}

/** Subnets as given: all of one VPC, none twice; the first is where the load balancer lives. */
function subnetList(ctx: Ctx, input: In): string[] {
  const given = [...((input.Subnets ?? []) as string[]), ...((input.SubnetMappings ?? []) as In[]).map((m) => String(m.SubnetId ?? ''))];
  if (given.length === 0) throw new AwsError('ValidationError', 'Subnets: at least one subnet is required (Nimbus places the load balancer in the first)');
  const found = given.map((id) => {
    try {
      return subnets.getSubnet(ctx, id);
    } catch {
      throw new AwsError('SubnetNotFound', `The subnet ID '${id}' is not found`);
    }
  });
  if (new Set(found.map((s) => s.id)).size !== found.length) throw new AwsError('ValidationError', 'Subnets: a subnet is given twice');
  if (new Set(found.map((s: Subnet) => s.vpcId)).size > 1) throw new AwsError('InvalidConfigurationRequest', 'Subnets: all must be in one VPC');
  return found.map((s) => s.id);
}

function groupList(ctx: Ctx, ids: unknown): string[] {
  return ((ids ?? []) as string[]).map((id) => {
    try {
      return groups.getSecurityGroup(ctx, id).id;
    } catch {
      throw new AwsError('InvalidSecurityGroup', `Security group '${id}' does not exist`);
    }
  });
}

export const LOAD_BALANCERS: Record<string, Handler> = {
  CreateLoadBalancer: (ctx, input, region, runtime) => {
    const name = required(input, 'Name');
    const type = String(input.Type ?? 'application');
    if (type !== 'application' && type !== 'network')
      throw new AwsError('ValidationError', `Type '${type}': Nimbus has application and network load balancers`);
    if (input.IpAddressType && input.IpAddressType !== 'ipv4')
      throw new AwsError('ValidationError', `IpAddressType '${String(input.IpAddressType)}': Nimbus has IPv4 only`);
    const list = subnetList(ctx, input);
    const sgs = groupList(ctx, input.SecurityGroups);
    const lb = write(ctx, () => {
      const made = elb.createLoadBalancer(ctx, { name, subnet: list[0], ...(input.Scheme !== 'internal' ? { publicIp: true } : {}) });
      if (type === 'network') setAttr(ctx, made.id, 'type', 'network');
      if (list.length > 1) setAttr(ctx, made.id, 'subnets', JSON.stringify(list));
      if (sgs.length > 0) setAttr(ctx, made.id, 'security-groups', JSON.stringify(sgs));
      addTags(ctx, [made.id], (input.Tags ?? []) as In[]);
      return made;
    });
    return { LoadBalancers: [lbOut(ctx, region, runtime, lb)] };
  },
  DescribeLoadBalancers: (ctx, input, region, runtime) => {
    const arns = ((input.LoadBalancerArns ?? []) as string[]).map(idOf);
    const names = (input.Names ?? []) as string[];
    const all = elb.listLoadBalancers(ctx);
    for (const n of names) if (!all.some((l) => l.name === n)) throw new AwsError('LoadBalancerNotFound', `One or more load balancers not found: '${n}'`);
    for (const a of arns) if (!all.some((l) => l.id === a)) throw new AwsError('LoadBalancerNotFound', `One or more load balancers not found: '${a}'`);
    const found = all.filter((l) => (arns.length === 0 || arns.includes(l.id)) && (names.length === 0 || names.includes(l.name)));
    return { LoadBalancers: found.map((l) => lbOut(ctx, region, runtime, l)) };
  },
  DeleteLoadBalancer: (ctx, input) => {
    const lb = getLb(ctx, required(input, 'LoadBalancerArn'));
    if (attributesOf(ctx, lb)['deletion_protection.enabled'] === 'true')
      throw new AwsError('OperationNotPermitted', `Load balancer '${lbArn(ctx, '*', lb)}' cannot be deleted because deletion protection is enabled`);
    write(ctx, () => {
      // Its pools go with it; the target groups they were stay, unbound, as in AWS.
      for (const tg of ctx.store.list<TargetGroup>('targetGroup', { projectId: ctx.projectId })) {
        if (tg.loadBalancerId === lb.id) saveUpdate(ctx, 'targetGroup', { ...tg, poolId: null, loadBalancerId: null });
      }
      elb.deleteLoadBalancer(ctx, lb.id, { cascade: true });
    });
    return {};
  },
  DescribeLoadBalancerAttributes: (ctx, input) => {
    const lb = getLb(ctx, required(input, 'LoadBalancerArn'));
    return { Attributes: attributeList(defaultsOf(ctx, lb), attributesOf(ctx, lb)) };
  },
  ModifyLoadBalancerAttributes: (ctx, input) => {
    const lb = getLb(ctx, required(input, 'LoadBalancerArn'));
    const next = changedAttributes(input, defaultsOf(ctx, lb), attributesOf(ctx, lb));
    for (const [k, v] of Object.entries(next))
      if (k.endsWith('.enabled') && v !== 'true' && v !== 'false') throw new AwsError('ValidationError', `Attribute '${k}': '${v}' must be true or false`);
    if (next['access_logs.s3.enabled'] === 'true' || next['connection_logs.s3.enabled'] === 'true')
      throw new AwsError('InvalidConfigurationRequest', 'Nimbus has no S3: access logs are read with nimbus lb logs');
    setAttr(ctx, lb.id, 'attributes', Object.keys(next).length > 0 ? JSON.stringify(next) : null);
    return { Attributes: attributeList(defaultsOf(ctx, lb), next) };
  },
  SetSecurityGroups: (ctx, input) => {
    const lb = getLb(ctx, required(input, 'LoadBalancerArn'));
    const sgs = groupList(ctx, input.SecurityGroups);
    if (lbType(ctx, lb) === 'network' && groupsOf(ctx, lb).length === 0 && sgs.length > 0)
      throw new AwsError('InvalidConfigurationRequest', 'A network load balancer created without security groups cannot have them added');
    setAttr(ctx, lb.id, 'security-groups', sgs.length > 0 ? JSON.stringify(sgs) : null);
    return { SecurityGroupIds: sgs };
  },
  SetSubnets: (ctx, input, region) => {
    const lb = getLb(ctx, required(input, 'LoadBalancerArn'));
    const list = subnetList(ctx, input);
    if (!list.includes(lb.subnetId))
      throw new AwsError('InvalidConfigurationRequest', `Nimbus's load balancer lives in subnet ${lb.subnetId}: it must stay among the subnets`);
    const ordered = [lb.subnetId, ...list.filter((id) => id !== lb.subnetId)];
    setAttr(ctx, lb.id, 'subnets', ordered.length > 1 ? JSON.stringify(ordered) : null);
    return { AvailabilityZones: ordered.map((id) => ({ ZoneName: zoneOf(ctx, id, region), SubnetId: id })), IpAddressType: 'ipv4' };
  },
  // Nimbus reserves no capacity: a load balancer has what its workers give it (nimbus lb update --workers).
  DescribeCapacityReservation: (ctx, input) => {
    getLb(ctx, required(input, 'LoadBalancerArn'));
    return { CapacityReservationState: [] };
  },
};
