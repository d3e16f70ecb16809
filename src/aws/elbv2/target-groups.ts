/**
 * Target groups: ELBv2's defaults and checks for health checks, the attributes (Nimbus acts
 * on stickiness and the algorithm, records the others), targets and their health. A bound
 * target group's changes go to its pool, members and health monitor too.
 */
import { NimbusError, invalid } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { HealthMonitor, Member } from '../../core/model/index.js';
import { checkName, now, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../../resources/context.js';
import * as elb from '../../resources/load-balancer/service.js';
import { presentMember, type LbRuntime } from '../../resources/load-balancer/status.js';
import { AwsError } from '../codec.js';
import {
  addTags,
  attributeList,
  changedAttributes,
  getLb,
  getTg,
  idOf,
  lbArn,
  required,
  tgArn,
  type HealthCheck,
  type Handler,
  type In,
  type Out,
  type TargetGroup,
} from './kit.js';

const COMMON: Record<string, string> = {
  'deregistration_delay.timeout_seconds': '300',
  'stickiness.enabled': 'false',
  'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
  'target_group_health.dns_failover.minimum_healthy_targets.count': '1',
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
};
export const HTTP_ATTRIBUTES: Record<string, string> = {
  ...COMMON,
  'stickiness.type': 'lb_cookie',
  'stickiness.lb_cookie.duration_seconds': '86400',
  'stickiness.app_cookie.cookie_name': '',
  'stickiness.app_cookie.duration_seconds': '86400',
  'load_balancing.algorithm.type': 'round_robin',
  'load_balancing.algorithm.anomaly_mitigation': 'off',
  'slow_start.duration_seconds': '0',
  'waf.fail_open.enabled': 'false',
};
export const TCP_ATTRIBUTES: Record<string, string> = {
  ...COMMON,
  'stickiness.type': 'source_ip',
  'deregistration_delay.connection_termination.enabled': 'false',
  'preserve_client_ip.enabled': 'true',
  'proxy_protocol_v2.enabled': 'false',
  'target_health_state.unhealthy.connection_termination.enabled': 'true',
  'target_health_state.unhealthy.draining_interval_seconds': '0',
};

export const attributesOf = (tg: TargetGroup) => (tg.protocol === 'HTTP' ? HTTP_ATTRIBUTES : TCP_ATTRIBUTES);

/** Algorithm and persistence of a pool, from a target group's attributes. */
export function poolSettings(tg: TargetGroup): { algorithm: string; persistence: string | null; cookieName?: string } {
  const a = { ...attributesOf(tg), ...tg.attributes };
  const algo = a['load_balancing.algorithm.type'] ?? 'round_robin';
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

/** The health monitor a target group's check becomes. Nimbus probes must end before the next one starts. */
export function monitorOf(h: HealthCheck) {
  return {
    type: h.protocol,
    delay: h.interval,
    timeout: Math.min(h.timeout, h.interval - 1),
    maxRetries: h.healthy,
    maxRetriesDown: h.unhealthy,
    ...(h.protocol === 'HTTP' ? { urlPath: h.path, expectedCodes: h.matcher } : {}),
  };
}

/**
 * ELBv2's defaults and ranges: interval 5-300 (30), timeout 2-120 (HTTP 5, TCP 10) and below
 * the interval for HTTP checks, thresholds 2-10 (5 and 2), path starting with /, codes 200-499.
 */
function healthCheck(input: In, protocol: 'HTTP' | 'TCP', was?: HealthCheck): HealthCheck {
  const hcProtocol = String(input.HealthCheckProtocol ?? was?.protocol ?? (protocol === 'HTTP' ? 'HTTP' : 'TCP')).toUpperCase();
  if (hcProtocol !== 'HTTP' && hcProtocol !== 'TCP')
    throw new AwsError('ValidationError', `HealthCheckProtocol '${hcProtocol}': Nimbus checks with HTTP or TCP`);
  if (protocol === 'HTTP' && hcProtocol === 'TCP')
    throw new AwsError('ValidationError', 'Health check protocol TCP is not supported for target groups with the HTTP protocol');
  const num = (key: string, fallback: number, min: number, max: number) => {
    const v = input[key] === undefined ? fallback : Number(input[key]);
    if (!Number.isInteger(v) || v < min || v > max)
      throw new AwsError('ValidationError', `${key} '${String(input[key])}' must be an integer from ${min} to ${max}`);
    return v;
  };
  const h: HealthCheck = {
    enabled: input.HealthCheckEnabled ?? was?.enabled ?? true,
    protocol: hcProtocol,
    path: String(input.HealthCheckPath ?? was?.path ?? '/'),
    interval: num('HealthCheckIntervalSeconds', was?.interval ?? 30, 5, 300),
    timeout: num('HealthCheckTimeoutSeconds', was?.timeout ?? (hcProtocol === 'HTTP' ? (protocol === 'HTTP' ? 5 : 6) : 10), 2, 120),
    healthy: num('HealthyThresholdCount', was?.healthy ?? 5, 2, 10),
    unhealthy: num('UnhealthyThresholdCount', was?.unhealthy ?? 2, 2, 10),
    matcher: String(input.Matcher?.HttpCode ?? was?.matcher ?? '200'),
  };
  if (h.protocol === 'HTTP' && h.timeout >= h.interval)
    throw new AwsError('ValidationError', `Health check timeout '${h.timeout}' must be smaller than the interval '${h.interval}'`);
  if (!h.path.startsWith('/')) throw new AwsError('ValidationError', `HealthCheckPath '${h.path}' must begin with a '/'`);
  if (!/^[2-4]\d\d(-[2-4]\d\d)?(,[2-4]\d\d(-[2-4]\d\d)?)*$/.test(h.matcher))
    throw new AwsError('ValidationError', `Matcher HttpCode '${h.matcher}' must be codes 200-499: 200, 200-299 or 200,302`);
  if (input.HealthCheckPort !== undefined && input.HealthCheckPort !== 'traffic-port')
    throw new AwsError('ValidationError', `HealthCheckPort '${String(input.HealthCheckPort)}': Nimbus checks the traffic port`);
  return h;
}

function tgOut(ctx: Ctx, region: string, tg: TargetGroup): Out {
  const lb = tg.loadBalancerId ? elb.listLoadBalancers(ctx).find((l) => l.id === tg.loadBalancerId) : undefined;
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
    ProtocolVersion: tg.protocol === 'HTTP' ? 'HTTP1' : undefined,
    IpAddressType: 'ipv4',
  };
}

export function memberInput(poolId: string, t: { id: string; port: number }) {
  return { pool: poolId, port: t.port, ...(/^\d+\.\d+\.\d+\.\d+$/.test(t.id) ? { address: t.id } : { server: t.id }) };
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

/** Replaces a bound target group's health monitor with what its check now says. */
function syncMonitor(ctx: Ctx, tg: TargetGroup): void {
  if (!tg.poolId) return;
  for (const h of ctx.store.list<HealthMonitor>('healthMonitor', { parentId: tg.poolId })) elb.deleteHealthMonitor(ctx, h.id);
  if (tg.health.enabled) elb.createHealthMonitor(ctx, { pool: tg.poolId, ...monitorOf(tg.health) });
}

export const TARGET_GROUPS: Record<string, Handler> = {
  CreateTargetGroup: (ctx, input, region) => {
    const protocol = String(input.Protocol ?? 'HTTP').toUpperCase();
    if (protocol !== 'HTTP' && protocol !== 'TCP') throw new AwsError('ValidationError', `Protocol '${input.Protocol}': Nimbus serves HTTP and TCP`);
    if (input.TargetType && !['instance', 'ip'].includes(String(input.TargetType)))
      throw new AwsError('ValidationError', `TargetType '${input.TargetType}' must be instance or ip`);
    if (input.ProtocolVersion && input.ProtocolVersion !== 'HTTP1')
      throw new AwsError('ValidationError', `ProtocolVersion '${String(input.ProtocolVersion)}': Nimbus speaks HTTP1 to targets`);
    const health = healthCheck(input, protocol as 'HTTP' | 'TCP');
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
    for (const x of [...arns, ...names])
      if (!all.some((t) => t.id === x || t.name === x)) throw new AwsError('TargetGroupNotFound', `One or more target groups not found: '${x}'`);
    const lb = input.LoadBalancerArn ? getLb(ctx, input.LoadBalancerArn).id : null;
    const found = all.filter(
      (t) => (arns.length === 0 || arns.includes(t.id)) && (names.length === 0 || names.includes(t.name)) && (!lb || t.loadBalancerId === lb),
    );
    return { TargetGroups: found.map((t) => tgOut(ctx, region, t)) };
  },
  ModifyTargetGroup: (ctx, input, region) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    const next = { ...tg, health: healthCheck(input, tg.protocol, tg.health) };
    write(ctx, () => {
      saveUpdate(ctx, 'targetGroup', next);
      syncMonitor(ctx, next);
    });
    return { TargetGroups: [tgOut(ctx, region, next)] };
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
    const next = { ...tg, attributes: changedAttributes(input, attributesOf(tg), tg.attributes) };
    const s = poolSettings(next);
    write(ctx, () => {
      if (tg.poolId)
        elb.updatePool(ctx, tg.poolId, { algorithm: s.algorithm, persistence: s.persistence, ...(s.cookieName ? { cookieName: s.cookieName } : {}) });
      saveUpdate(ctx, 'targetGroup', next);
    });
    return { Attributes: attributeList(attributesOf(next), next.attributes) };
  },
  DescribeTargetGroupAttributes: (ctx, input) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    return { Attributes: attributeList(attributesOf(tg), tg.attributes) };
  },
  RegisterTargets: (ctx, input) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    const add = targetsOf(input, tg).filter((t) => !tg.targets.some((x) => x.id === t.id && x.port === t.port));
    write(ctx, () => {
      if (tg.poolId) for (const t of add) elb.createMember(ctx, memberInput(tg.poolId, t));
      saveUpdate(ctx, 'targetGroup', { ...tg, targets: [...tg.targets, ...add] });
    });
    return {};
  },
  DeregisterTargets: (ctx, input) => {
    const tg = getTg(ctx, required(input, 'TargetGroupArn'));
    const gone = targetsOf(input, tg);
    for (const t of gone)
      if (!tg.targets.some((x) => x.id === t.id && x.port === t.port))
        throw new AwsError('InvalidTarget', `target ${t.id}:${t.port} is not registered in '${tg.name}'`);
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
};
