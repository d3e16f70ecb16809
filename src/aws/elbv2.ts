/**
 * ELBv2 operations on Nimbus's load balancers. An AWS target group stands alone until a
 * listener forwards to it, while a Nimbus pool belongs to its load balancer: so a target
 * group is a record of its own (kind `targetGroup`: protocol, port, health check, attributes,
 * targets) until CreateListener binds it to a load balancer; it then becomes a pool there, its
 * targets members, its health check a health monitor, its attributes the pool's algorithm and
 * persistence, and later changes go to both. Ids are Nimbus's, inside ARNs of AWS's form.
 */
import { NimbusError, invalid } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { HealthMonitor, Listener, LoadBalancer, Member } from '../core/model/index.js';
import { checkName, notFound, now, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../resources/context.js';
import * as elb from '../resources/load-balancer/service.js';
import { presentMember, type LbRuntime } from '../resources/load-balancer/status.js';
import { AwsError } from './codec.js';
import { checkTag, checkTagCount } from './tags.js';
import { kindOfId } from '../core/ids.js';
import type { Handler, In, Out } from './ec2.js';

interface HealthCheck {
  enabled: boolean;
  protocol: 'HTTP' | 'TCP';
  path: string;
  interval: number;
  timeout: number;
  healthy: number;
  unhealthy: number;
  matcher: string;
}

interface TargetGroup {
  id: string;
  name: string;
  projectId: string;
  protocol: 'HTTP' | 'TCP';
  port: number;
  vpcId: string | null;
  targetType: string;
  health: HealthCheck;
  attributes: Record<string, string>;
  targets: { id: string; port: number }[];
  /** The pool it became when a listener first forwarded to it, and that pool's load balancer. */
  poolId: string | null;
  loadBalancerId: string | null;
  createdAt: string;
}

const DEFAULT_ATTRIBUTES: Record<string, string> = {
  'stickiness.enabled': 'false',
  'stickiness.type': 'lb_cookie',
  'stickiness.app_cookie.cookie_name': '',
  'load_balancing.algorithm.type': 'round_robin',
  'deregistration_delay.timeout_seconds': '300',
};

const arnPrefix = (ctx: Ctx, region: string) => `arn:aws:elasticloadbalancing:${region}:${ctx.projectId}`;
const lbArn = (ctx: Ctx, region: string, lb: LoadBalancer) => `${arnPrefix(ctx, region)}:loadbalancer/app/${lb.name}/${lb.id}`;
const tgArn = (ctx: Ctx, region: string, tg: TargetGroup) => `${arnPrefix(ctx, region)}:targetgroup/${tg.name}/${tg.id}`;
const listenerArn = (ctx: Ctx, region: string, lb: LoadBalancer, l: Listener) => `${arnPrefix(ctx, region)}:listener/app/${lb.name}/${lb.id}/${l.id}`;
/** The Nimbus id an ARN ends with (or the value itself: a name or an id). */
const idOf = (arn: unknown) => String(arn ?? '').slice(String(arn ?? '').lastIndexOf('/') + 1);

function required(input: In, key: string): string {
  const v = input[key];
  if (v === undefined || v === '') throw new AwsError('ValidationError', `${key} is required`);
  return String(v);
}

function getTg(ctx: Ctx, arn: unknown): TargetGroup {
  const id = idOf(arn);
  const tg = ctx.store.get<TargetGroup>(id, 'targetGroup') ?? ctx.store.byName<TargetGroup>('targetGroup', ctx.projectId, id);
  if (!tg || tg.projectId !== ctx.projectId) throw notFound('targetGroup', String(arn));
  return tg;
}

function getLb(ctx: Ctx, arn: unknown): LoadBalancer {
  return elb.getLoadBalancer(ctx, idOf(arn));
}

/** The Nimbus id of a load balancer, target group or listener of the caller's project, by ARN. */
function taggedId(ctx: Ctx, arn: unknown): string {
  const id = idOf(arn);
  switch (kindOfId(id)) {
    case 'loadBalancer':
      return getLb(ctx, arn).id;
    case 'targetGroup':
      return getTg(ctx, arn).id;
    case 'listener':
      return elb.getListener(ctx, id).id;
    default:
      throw new AwsError('ValidationError', `'${String(arn)}' is not the ARN of a load balancer, target group or listener`);
  }
}

/** Keeps tags on resources (in the caller's transaction): AWS's rules, at most 50 each. */
function addTags(ctx: Ctx, ids: string[], tags: In[]): void {
  const keys = tags.map((t) => String(t.Key ?? ''));
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new AwsError('DuplicateTagKeys', `Tag key '${dup}' is given twice`);
  for (const t of tags) checkTag(t.Key, t.Value, 'ValidationError');
  for (const id of ids) {
    for (const t of tags) ctx.store.setTag(id, String(t.Key), String(t.Value ?? ''));
    checkTagCount(id, Object.keys(ctx.store.tags(id)).length, 0, 'TooManyTags');
  }
}

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
    Type: 'application',
    AvailabilityZones: [
      { ZoneName: `${region}a`, SubnetId: lb.subnetId, LoadBalancerAddresses: [{ IpAddress: lb.publicIp ?? lb.vip, PrivateIPv4Address: lb.vip }] },
    ],
    SecurityGroups: [],
    IpAddressType: 'ipv4',
  };
}

function tgOut(ctx: Ctx, region: string, tg: TargetGroup): Out {
  const lb = tg.loadBalancerId ? ctx.store.get<LoadBalancer>(tg.loadBalancerId, 'loadBalancer') : undefined;
  return {
    TargetGroupArn: tgArn(ctx, region, tg),
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId ?? undefined,
    HealthCheckProtocol: tg.health.protocol,
    HealthCheckPort: 'traffic-port',
    HealthCheckEnabled: tg.health.enabled,
    HealthCheckIntervalSeconds: tg.health.interval,
    HealthCheckTimeoutSeconds: tg.health.timeout,
    HealthyThresholdCount: tg.health.healthy,
    UnhealthyThresholdCount: tg.health.unhealthy,
    HealthCheckPath: tg.health.protocol === 'HTTP' ? tg.health.path : undefined,
    Matcher: tg.health.protocol === 'HTTP' ? { HttpCode: tg.health.matcher } : undefined,
    LoadBalancerArns: lb ? [lbArn(ctx, region, lb)] : [],
    TargetType: tg.targetType,
    IpAddressType: 'ipv4',
  };
}

function listenerOut(ctx: Ctx, region: string, l: Listener): Out {
  const lb = ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!;
  const tg = l.defaultPoolId ? ctx.store.list<TargetGroup>('targetGroup', { projectId: ctx.projectId }).find((t) => t.poolId === l.defaultPoolId) : undefined;
  return {
    ListenerArn: listenerArn(ctx, region, lb, l),
    LoadBalancerArn: lbArn(ctx, region, lb),
    Port: l.port,
    Protocol: l.protocol,
    DefaultActions: tg ? [{ Type: 'forward', TargetGroupArn: tgArn(ctx, region, tg), Order: 1 }] : [],
  };
}

/** Algorithm and persistence of a pool, from a target group's attributes. */
function poolSettings(tg: TargetGroup): { algorithm: string; persistence: string | null; cookieName?: string } {
  const a = { ...DEFAULT_ATTRIBUTES, ...tg.attributes };
  const algo = a['load_balancing.algorithm.type'];
  const algorithm = algo === 'least_outstanding_requests' ? 'LEAST_CONNECTIONS' : algo === 'round_robin' ? 'ROUND_ROBIN' : '';
  if (!algorithm) throw new AwsError('ValidationError', `load_balancing.algorithm.type '${algo}' must be round_robin or least_outstanding_requests`);
  if (a['stickiness.enabled'] !== 'true') return { algorithm, persistence: null };
  const type = a['stickiness.type'];
  if (type === 'lb_cookie') return { algorithm, persistence: 'HTTP_COOKIE' };
  if (type === 'source_ip') return { algorithm, persistence: 'SOURCE_IP' };
  if (type === 'app_cookie') {
    const cookieName = a['stickiness.app_cookie.cookie_name'];
    if (!cookieName) throw new AwsError('ValidationError', 'stickiness.app_cookie.cookie_name is required with stickiness.type app_cookie');
    return { algorithm, persistence: 'APP_COOKIE', cookieName };
  }
  throw new AwsError('ValidationError', `stickiness.type '${type}' must be lb_cookie, app_cookie or source_ip`);
}

function memberInput(tg: TargetGroup, poolId: string, t: { id: string; port: number }) {
  return { pool: poolId, port: t.port, ...(/^\d+\.\d+\.\d+\.\d+$/.test(t.id) ? { address: t.id } : { server: t.id }) };
}

/** Makes a target group the pool of `lb` (the first listener that forwards to it). */
function bind(ctx: Ctx, tg: TargetGroup, lb: LoadBalancer): TargetGroup {
  if (tg.loadBalancerId === lb.id && tg.poolId) return tg;
  if (tg.loadBalancerId) {
    throw new NimbusError('TargetGroup.InUse', `target group '${tg.name}' is bound to another load balancer (a Nimbus pool belongs to one load balancer)`);
  }
  const s = poolSettings(tg);
  const pool = elb.createPool(ctx, {
    name: tg.name,
    loadBalancer: lb.id,
    protocol: tg.protocol,
    algorithm: s.algorithm,
    persistence: s.persistence,
    ...(s.cookieName ? { cookieName: s.cookieName } : {}),
  });
  for (const t of tg.targets) elb.createMember(ctx, memberInput(tg, pool.id, t));
  if (tg.health.enabled) {
    elb.createHealthMonitor(ctx, {
      pool: pool.id,
      type: tg.health.protocol,
      delay: tg.health.interval,
      timeout: tg.health.timeout,
      maxRetries: tg.health.healthy,
      maxRetriesDown: tg.health.unhealthy,
      ...(tg.health.protocol === 'HTTP' ? { urlPath: tg.health.path, expectedCodes: tg.health.matcher } : {}),
    });
  }
  const bound = { ...tg, poolId: pool.id, loadBalancerId: lb.id };
  saveUpdate(ctx, 'targetGroup', bound);
  return bound;
}

function forwardTarget(input: In): string {
  const actions = (input.DefaultActions ?? []) as In[];
  const fwd = actions.find((a) => a.Type === 'forward');
  const arn = fwd?.TargetGroupArn ?? (fwd?.ForwardConfig?.TargetGroups as In[] | undefined)?.[0]?.TargetGroupArn;
  if (!arn) throw new AwsError('ValidationError', 'DefaultActions: one forward action with a TargetGroupArn is required (Nimbus serves forward actions only)');
  if (actions.length > 1 || ((fwd?.ForwardConfig?.TargetGroups as In[] | undefined)?.length ?? 0) > 1) {
    throw new AwsError('ValidationError', 'DefaultActions: Nimbus forwards to one target group per listener');
  }
  return String(arn);
}

function targetHealth(ctx: Ctx, runtime: LbRuntime, tg: TargetGroup, wanted: { id: string; port: number }[]): Out[] {
  const pick = wanted.length > 0 ? wanted : tg.targets;
  const ms = tg.poolId ? ctx.store.list<Member>('member', { parentId: tg.poolId }) : [];
  return pick.map((t) => {
    const target = { Id: t.id, Port: t.port };
    const m = ms.find((x) => (x.serverId === t.id || x.address === t.id) && x.port === t.port);
    if (!tg.targets.some((x) => x.id === t.id && x.port === t.port))
      return {
        Target: target,
        TargetHealth: { State: 'unavailable', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' },
      };
    if (!m)
      return {
        Target: target,
        HealthCheckPort: String(t.port),
        TargetHealth: { State: 'unused', Reason: 'Target.NotInUse', Description: 'Target group is not configured to receive traffic from the load balancer' },
      };
    const v = presentMember(ctx, runtime, m);
    const health =
      m.weight === 0
        ? { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target weight is 0: no new requests' }
        : v.operatingStatus === 'ONLINE' || v.operatingStatus === 'NO_MONITOR'
          ? { State: 'healthy' }
          : v.operatingStatus === 'OFFLINE'
            ? { State: 'unused', Reason: 'Target.InvalidState', Description: v.statusReason ?? 'Target is stopped or admin down' }
            : { State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: v.statusReason ?? 'Health checks failed' };
    return { Target: target, HealthCheckPort: String(t.port), TargetHealth: health };
  });
}

function targetsOf(input: In, tg: TargetGroup): { id: string; port: number }[] {
  return ((input.Targets ?? []) as In[]).map((t) => {
    if (!t.Id) throw new AwsError('ValidationError', 'Targets: every target needs an Id (an instance id or, for target type ip, an address)');
    return { id: String(t.Id), port: Number(t.Port ?? tg.port) };
  });
}

export const ELBV2: Record<string, Handler> = {
  CreateLoadBalancer: (ctx, input, region, runtime) => {
    const name = required(input, 'Name');
    const subnet = (input.Subnets as string[] | undefined)?.[0] ?? ((input.SubnetMappings as In[] | undefined)?.[0]?.SubnetId as string | undefined);
    if (!subnet) throw new AwsError('ValidationError', 'Subnets: at least one subnet is required (Nimbus places the load balancer in the first)');
    const lb = write(ctx, () => {
      const made = elb.createLoadBalancer(ctx, { name, subnet, ...(input.Scheme !== 'internal' ? { publicIp: true } : {}) });
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
    write(ctx, () => {
      // Its pools go with it; the target groups they were stay, unbound, as in AWS.
      for (const tg of ctx.store.list<TargetGroup>('targetGroup', { projectId: ctx.projectId })) {
        if (tg.loadBalancerId === lb.id) saveUpdate(ctx, 'targetGroup', { ...tg, poolId: null, loadBalancerId: null });
      }
      elb.deleteLoadBalancer(ctx, lb.id, { cascade: true });
    });
    return {};
  },

  CreateTargetGroup: (ctx, input, region) => {
    const protocol = String(input.Protocol ?? 'HTTP').toUpperCase();
    if (protocol !== 'HTTP' && protocol !== 'TCP') throw new AwsError('ValidationError', `Protocol '${input.Protocol}': Nimbus serves HTTP and TCP`);
    if (input.TargetType && !['instance', 'ip'].includes(String(input.TargetType)))
      throw new AwsError('ValidationError', `TargetType '${input.TargetType}' must be instance or ip`);
    const hcProtocol = String(input.HealthCheckProtocol ?? (protocol === 'HTTP' ? 'HTTP' : 'TCP')).toUpperCase();
    const health: HealthCheck = {
      enabled: input.HealthCheckEnabled !== false,
      protocol: hcProtocol === 'HTTP' ? 'HTTP' : 'TCP',
      path: String(input.HealthCheckPath ?? '/'),
      interval: Number(input.HealthCheckIntervalSeconds ?? 30),
      timeout: Number(input.HealthCheckTimeoutSeconds ?? (protocol === 'HTTP' ? 5 : 10)),
      healthy: Number(input.HealthyThresholdCount ?? 5),
      unhealthy: Number(input.UnhealthyThresholdCount ?? 2),
      matcher: String(input.Matcher?.HttpCode ?? '200'),
    };
    const tg = write(ctx, () => {
      const name = checkName(ctx, 'targetGroup', required(input, 'Name'));
      const doc: TargetGroup = {
        id: newId('targetGroup'),
        name,
        projectId: ctx.projectId,
        protocol: protocol as 'HTTP',
        port: Number(input.Port ?? (protocol === 'HTTP' ? 80 : 0)),
        vpcId: input.VpcId ? String(input.VpcId) : null,
        targetType: String(input.TargetType ?? 'instance'),
        health,
        attributes: {},
        targets: [],
        poolId: null,
        loadBalancerId: null,
        createdAt: now(),
      };
      if (!(doc.port >= 1 && doc.port <= 65535)) throw invalid(`Port '${input.Port}' must be from 1 to 65535`);
      saveNew(ctx, 'targetGroup', doc);
      addTags(ctx, [doc.id], (input.Tags ?? []) as In[]);
      return doc;
    });
    return { TargetGroups: [tgOut(ctx, region, tg)] };
  },
  DescribeTargetGroups: (ctx, input, region) => {
    const all = ctx.store.list<TargetGroup>('targetGroup', { projectId: ctx.projectId });
    const arns = ((input.TargetGroupArns ?? []) as string[]).map(idOf);
    const names = (input.Names ?? []) as string[];
    for (const x of [...arns, ...names]) if (!all.some((t) => t.id === x || t.name === x)) throw notFound('targetGroup', x);
    const lb = input.LoadBalancerArn ? getLb(ctx, input.LoadBalancerArn).id : null;
    const found = all.filter(
      (t) => (arns.length === 0 || arns.includes(t.id)) && (names.length === 0 || names.includes(t.name)) && (!lb || t.loadBalancerId === lb),
    );
    return { TargetGroups: found.map((t) => tgOut(ctx, region, t)) };
  },
  DeleteTargetGroup: (ctx, input) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    write(ctx, () => {
      if (tg.poolId) {
        const using = elb.listListeners(ctx).filter((l) => l.defaultPoolId === tg.poolId);
        if (using.length > 0)
          throw new NimbusError('TargetGroup.InUse', `target group '${tg.name}' is in use by listener ${using.map((l) => l.name).join(', ')}`);
        for (const h of ctx.store.list<HealthMonitor>('healthMonitor', { parentId: tg.poolId })) elb.deleteHealthMonitor(ctx, h.id);
        for (const m of ctx.store.list<Member>('member', { parentId: tg.poolId })) elb.deleteMember(ctx, m.id);
        elb.deletePool(ctx, tg.poolId);
      }
      saveDelete(ctx, 'targetGroup', tg);
    });
    return {};
  },
  ModifyTargetGroupAttributes: (ctx, input) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    const attributes = { ...tg.attributes };
    for (const a of (input.Attributes ?? []) as In[]) {
      const key = String(a.Key ?? '');
      if (!(key in DEFAULT_ATTRIBUTES))
        throw new AwsError('ValidationError', `Attribute '${key}' is not one Nimbus serves: ${Object.keys(DEFAULT_ATTRIBUTES).join(', ')}`);
      attributes[key] = String(a.Value ?? '');
    }
    const next = { ...tg, attributes };
    const s = poolSettings(next);
    write(ctx, () => {
      if (tg.poolId)
        elb.updatePool(ctx, tg.poolId, { algorithm: s.algorithm, persistence: s.persistence, ...(s.cookieName ? { cookieName: s.cookieName } : {}) });
      saveUpdate(ctx, 'targetGroup', next);
    });
    return { Attributes: Object.entries({ ...DEFAULT_ATTRIBUTES, ...attributes }).map(([Key, Value]) => ({ Key, Value })) };
  },
  DescribeTargetGroupAttributes: (ctx, input) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    return { Attributes: Object.entries({ ...DEFAULT_ATTRIBUTES, ...tg.attributes }).map(([Key, Value]) => ({ Key, Value })) };
  },
  RegisterTargets: (ctx, input) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    const add = targetsOf(input, tg).filter((t) => !tg.targets.some((x) => x.id === t.id && x.port === t.port));
    write(ctx, () => {
      if (tg.poolId) for (const t of add) elb.createMember(ctx, memberInput(tg, tg.poolId, t));
      saveUpdate(ctx, 'targetGroup', { ...tg, targets: [...tg.targets, ...add] });
    });
    return {};
  },
  DeregisterTargets: (ctx, input) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    const gone = targetsOf(input, tg);
    for (const t of gone) {
      if (!tg.targets.some((x) => x.id === t.id && x.port === t.port))
        throw new AwsError('InvalidTarget', `target ${t.id}:${t.port} is not registered in '${tg.name}'`);
    }
    write(ctx, () => {
      if (tg.poolId) {
        for (const m of ctx.store.list<Member>('member', { parentId: tg.poolId })) {
          if (gone.some((t) => (m.serverId === t.id || m.address === t.id) && m.port === t.port)) elb.deleteMember(ctx, m.id);
        }
      }
      saveUpdate(ctx, 'targetGroup', { ...tg, targets: tg.targets.filter((x) => !gone.some((t) => t.id === x.id && t.port === x.port)) });
    });
    return {};
  },
  DescribeTargetHealth: (ctx, input, _region, runtime) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    return { TargetHealthDescriptions: targetHealth(ctx, runtime, tg, targetsOf(input, tg)) };
  },

  CreateListener: (ctx, input, region) => {
    const lb = getLb(ctx, required(input, 'LoadBalancerArn'));
    const protocol = String(input.Protocol ?? '').toUpperCase();
    if (protocol !== 'HTTP' && protocol !== 'TCP') throw new AwsError('ValidationError', `Protocol '${input.Protocol}': Nimbus serves HTTP and TCP listeners`);
    const port = Number(required(input, 'Port'));
    const l = write(ctx, () => {
      const tg = bind(ctx, getTg(ctx, forwardTarget(input)), lb);
      const made = elb.createListener(ctx, { name: `${protocol.toLowerCase()}-${port}`, loadBalancer: lb.id, protocol, port, defaultPool: tg.poolId! });
      addTags(ctx, [made.id], (input.Tags ?? []) as In[]);
      return made;
    });
    return { Listeners: [listenerOut(ctx, region, l)] };
  },
  DescribeListeners: (ctx, input, region) => {
    const arns = ((input.ListenerArns ?? []) as string[]).map(idOf);
    const lb = input.LoadBalancerArn ? getLb(ctx, input.LoadBalancerArn) : null;
    if (!lb && arns.length === 0) throw new AwsError('ValidationError', 'LoadBalancerArn or ListenerArns is required');
    const all = elb.listListeners(ctx, lb?.id);
    for (const a of arns) if (!all.some((l) => l.id === a)) throw new AwsError('ListenerNotFound', `One or more listeners not found: '${a}'`);
    return { Listeners: all.filter((l) => arns.length === 0 || arns.includes(l.id)).map((l) => listenerOut(ctx, region, l)) };
  },
  DeleteListener: (ctx, input) => {
    elb.deleteListener(ctx, idOf(required(input, 'ListenerArn')));
    return {};
  },

  AddTags: (ctx, input) => {
    const arns = (input.ResourceArns ?? []) as string[];
    const tags = (input.Tags ?? []) as In[];
    if (arns.length === 0 || tags.length === 0) throw new AwsError('ValidationError', 'ResourceArns and Tags are required');
    write(ctx, () =>
      addTags(
        ctx,
        arns.map((a) => taggedId(ctx, a)),
        tags,
      ),
    );
    return {};
  },
  RemoveTags: (ctx, input) => {
    const arns = (input.ResourceArns ?? []) as string[];
    const keys = (input.TagKeys ?? []) as string[];
    if (arns.length === 0 || keys.length === 0) throw new AwsError('ValidationError', 'ResourceArns and TagKeys are required');
    write(ctx, () => {
      for (const id of arns.map((a) => taggedId(ctx, a))) for (const k of keys) ctx.store.setTag(id, k, null);
    });
    return {};
  },
  DescribeTags: (ctx, input) => {
    const arns = (input.ResourceArns ?? []) as string[];
    if (arns.length === 0 || arns.length > 20) throw new AwsError('ValidationError', `ResourceArns: from 1 to 20 (${arns.length} given)`);
    return {
      TagDescriptions: arns.map((arn) => ({
        ResourceArn: arn,
        Tags: Object.entries(ctx.store.tags(taggedId(ctx, arn))).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  },
};
