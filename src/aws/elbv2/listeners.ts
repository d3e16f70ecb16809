/**
 * Listeners and their rules. CreateListener binds the target group it forwards to: the group
 * becomes a pool of that load balancer (its targets members, its check a health monitor).
 * Its default rule forwards to one target group; other rules are L7 policies (rules.ts).
 */
import { NimbusError } from '../../core/errors.js';
import type { Listener, LoadBalancer } from '../../core/model/index.js';
import { saveUpdate, write, type Ctx } from '../../resources/context.js';
import * as elb from '../../resources/load-balancer/service.js';
import { AwsError } from '../codec.js';
import {
  addTags,
  getLb,
  getListener,
  getTg,
  groupOfPool,
  idOf,
  lbArn,
  lbType,
  listenerArn,
  required,
  tgArn,
  type Handler,
  type In,
  type Out,
  type TargetGroup,
  freshName,
} from './kit.js';
import { memberInput, monitorOf, poolSettings } from './target-groups.js';

function actionsOut(ctx: Ctx, region: string, l: Listener): Out[] {
  const tg = groupOfPool(ctx, l.defaultPoolId);
  return tg
    ? [
        {
          Type: 'forward',
          TargetGroupArn: tgArn(ctx, region, tg),
          ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn(ctx, region, tg), Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } },
        },
      ]
    : [];
}

function listenerOut(ctx: Ctx, region: string, l: Listener): Out {
  const lb = ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!;
  return {
    ListenerArn: listenerArn(ctx, region, lb, l),
    LoadBalancerArn: lbArn(ctx, region, lb),
    Port: l.port,
    Protocol: l.protocol,
    DefaultActions: actionsOut(ctx, region, l),
  };
}

/** Makes a target group the pool of `lb` (the first listener that forwards to it). */
function bind(ctx: Ctx, tg: TargetGroup, lb: LoadBalancer): TargetGroup {
  if (tg.loadBalancerId === lb.id && tg.poolId) return tg;
  if (tg.loadBalancerId)
    throw new NimbusError('TargetGroup.InUse', `target group '${tg.name}' is bound to another load balancer (a Nimbus pool belongs to one load balancer)`);
  if (tg.vpcId && tg.vpcId !== lb.vpcId)
    throw new AwsError('ValidationError', `Target group '${tg.name}' is in VPC ${tg.vpcId}, not in the load balancer's VPC ${lb.vpcId}`);
  const s = poolSettings(tg);
  const pool = elb.createPool(ctx, {
    name: tg.name,
    loadBalancer: lb.id,
    protocol: tg.protocol,
    algorithm: s.algorithm,
    persistence: s.persistence,
    ...(s.cookieName ? { cookieName: s.cookieName } : {}),
  });
  for (const t of tg.targets) elb.createMember(ctx, memberInput(pool.id, t));
  if (tg.health.enabled) elb.createHealthMonitor(ctx, { pool: pool.id, ...monitorOf(tg.health) });
  const bound = { ...tg, poolId: pool.id, loadBalancerId: lb.id };
  saveUpdate(ctx, 'targetGroup', bound);
  return bound;
}

function forwardTarget(actions: In[]): string {
  const fwd = actions.find((a) => a.Type === 'forward');
  const arn = fwd?.TargetGroupArn ?? (fwd?.ForwardConfig?.TargetGroups as In[] | undefined)?.[0]?.TargetGroupArn;
  if (!arn) throw new AwsError('ValidationError', 'DefaultActions: one forward action with a TargetGroupArn is required (Nimbus serves forward actions only)');
  if (actions.length > 1 || ((fwd?.ForwardConfig?.TargetGroups as In[] | undefined)?.length ?? 0) > 1)
    throw new AwsError('ValidationError', 'DefaultActions: Nimbus forwards to one target group per listener');
  return String(arn);
}

/** Binds a target group to `lb` for a listener or rule of `protocol` (a pool of that load balancer). */
export function bindGroup(ctx: Ctx, tg: TargetGroup, lb: LoadBalancer, protocol: string): TargetGroup {
  checkProtocols(ctx, lb, protocol, tg);
  return bind(ctx, tg, lb);
}

/** ELBv2's protocols per type: HTTP on application load balancers, TCP on network ones, matching the target group's. */
function checkProtocols(ctx: Ctx, lb: LoadBalancer, protocol: string, tg: TargetGroup): void {
  const type = lbType(ctx, lb);
  const allowed = type === 'network' ? 'TCP' : 'HTTP';
  if (protocol !== allowed) throw new AwsError('ValidationError', `Protocol '${protocol}' is not one Nimbus serves on ${type} load balancers (${allowed})`);
  if (tg.protocol !== protocol)
    throw new AwsError(
      'IncompatibleProtocols',
      `The listener's protocol '${protocol}' and target group '${tg.name}''s protocol '${tg.protocol}' are incompatible`,
    );
}

/** A Nimbus name for a listener (names are per project, ports per load balancer). */
function listenerName(ctx: Ctx, lb: LoadBalancer, protocol: string, port: number): string {
  const base = `${lb.name}-${protocol.toLowerCase()}-${port}`.slice(0, 60);
  return ctx.store.byName('listener', ctx.projectId, base)
    ? freshName(
        elb.listListeners(ctx).map((l) => l.name),
        base.slice(0, 56),
      )
    : base;
}

export const LISTENERS: Record<string, Handler> = {
  CreateListener: (ctx, input, region) => {
    const lb = getLb(ctx, required(input, 'LoadBalancerArn'));
    const protocol = String(input.Protocol ?? (lbType(ctx, lb) === 'network' ? 'TCP' : 'HTTP')).toUpperCase();
    const port = Number(required(input, 'Port'));
    if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new AwsError('ValidationError', `Port '${String(input.Port)}' must be from 1 to 65535`);
    if (elb.listListeners(ctx, lb.id).some((l) => l.port === port))
      throw new AwsError('DuplicateListener', `A listener already exists on port ${port} of '${lb.name}'`);
    const l = write(ctx, () => {
      const group = getTg(ctx, forwardTarget((input.DefaultActions ?? []) as In[]));
      checkProtocols(ctx, lb, protocol, group);
      const tg = bind(ctx, group, lb);
      const made = elb.createListener(ctx, { name: listenerName(ctx, lb, protocol, port), loadBalancer: lb.id, protocol, port, defaultPool: tg.poolId! });
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
  ModifyListener: (ctx, input, region) => {
    const l = getListener(ctx, required(input, 'ListenerArn'));
    const lb = ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!;
    if (input.Port !== undefined && Number(input.Port) !== l.port)
      throw new AwsError('ValidationError', `Port: Nimbus keeps a listener's port (${l.port}); create another listener`);
    if (input.Protocol !== undefined && String(input.Protocol).toUpperCase() !== l.protocol)
      throw new AwsError('ValidationError', `Protocol: Nimbus keeps a listener's protocol (${l.protocol})`);
    const next = write(ctx, () => {
      if (!input.DefaultActions?.length) return l;
      const group = getTg(ctx, forwardTarget(input.DefaultActions as In[]));
      checkProtocols(ctx, lb, l.protocol, group);
      const tg = bind(ctx, group, lb);
      return elb.updateListener(ctx, l.id, { defaultPool: tg.poolId });
    });
    return { Listeners: [listenerOut(ctx, region, next)] };
  },
  DeleteListener: (ctx, input) => {
    elb.deleteListener(ctx, getListener(ctx, required(input, 'ListenerArn')).id);
    return {};
  },
  DescribeListenerAttributes: (ctx, input) => {
    const l = getListener(ctx, required(input, 'ListenerArn'));
    // AWS's one listener attribute (TCP's idle timeout), as AWS sets it; Nimbus's is the listener's own timeout.
    return { Attributes: l.protocol === 'TCP' ? [{ Key: 'tcp.idle_timeout.seconds', Value: '350' }] : [] };
  },
};
