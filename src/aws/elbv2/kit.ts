/**
 * ELBv2's shared parts: the target group record, ARNs (AWS's form around Nimbus's ids), the
 * lookups by ARN and the tag rules. An AWS target group stands alone until a listener forwards
 * to it, while a Nimbus pool belongs to its load balancer: so a target group is a record of its
 * own (kind `targetGroup`) until CreateListener binds it to a load balancer (listeners.ts).
 */
import type { Listener, LoadBalancer } from '../../core/model/index.js';
import { kindOfId } from '../../core/ids.js';
import { notFound, type Ctx } from '../../resources/context.js';
import * as elb from '../../resources/load-balancer/service.js';
import { AwsError } from '../codec.js';
import { checkTag, checkTagCount } from '../tags.js';
import { accountId, attr, userTags, type In } from '../kit.js';

export { accountId, attr, freshName, setAttr, userTags, zoneOf, type Handler, type In, type Out } from '../kit.js';

export interface HealthCheck {
  enabled: boolean;
  protocol: 'HTTP' | 'TCP';
  path: string;
  interval: number;
  timeout: number;
  healthy: number;
  unhealthy: number;
  matcher: string;
}

export interface TargetGroup {
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

/** A load balancer's type as created: application unless CreateLoadBalancer said network. */
export const lbType = (ctx: Ctx, lb: LoadBalancer): 'application' | 'network' => (attr(ctx, lb.id, 'type') === 'network' ? 'network' : 'application');

const arnPrefix = (ctx: Ctx, region: string) => `arn:aws:elasticloadbalancing:${region}:${accountId(ctx.projectId)}`;
const short = (ctx: Ctx, lb: LoadBalancer) => (lbType(ctx, lb) === 'network' ? 'net' : 'app');
export const lbArn = (ctx: Ctx, region: string, lb: LoadBalancer) => `${arnPrefix(ctx, region)}:loadbalancer/${short(ctx, lb)}/${lb.name}/${lb.id}`;
export const tgArn = (ctx: Ctx, region: string, tg: TargetGroup) => `${arnPrefix(ctx, region)}:targetgroup/${tg.name}/${tg.id}`;
export const listenerArn = (ctx: Ctx, region: string, lb: LoadBalancer, l: Listener) =>
  `${arnPrefix(ctx, region)}:listener/${short(ctx, lb)}/${lb.name}/${lb.id}/${l.id}`;
export const ruleArn = (ctx: Ctx, region: string, lb: LoadBalancer, l: Listener, id = 'default') =>
  `${arnPrefix(ctx, region)}:listener-rule/${short(ctx, lb)}/${lb.name}/${lb.id}/${l.id}/${id}`;

/** The Nimbus id an ARN ends with (or the value itself: a name or an id). */
export const idOf = (arn: unknown) => String(arn ?? '').slice(String(arn ?? '').lastIndexOf('/') + 1);

export function required(input: In, key: string): string {
  const v = input[key];
  if (v === undefined || v === '') throw new AwsError('ValidationError', `${key} is required`);
  return String(v);
}

export function getTg(ctx: Ctx, arn: unknown): TargetGroup {
  const id = idOf(arn);
  const tg = ctx.store.get<TargetGroup>(id, 'targetGroup') ?? ctx.store.byName<TargetGroup>('targetGroup', ctx.projectId, id);
  if (!tg || tg.projectId !== ctx.projectId) throw notFound('targetGroup', String(arn));
  return tg;
}

export function getLb(ctx: Ctx, arn: unknown): LoadBalancer {
  return elb.getLoadBalancer(ctx, idOf(arn));
}

/** The listener an ARN names (its ARN ends with the listener's id, or with `/default` for its rule). */
export function getListener(ctx: Ctx, arn: unknown): Listener {
  const parts = String(arn ?? '').split('/');
  const id = parts[parts.length - 1] === 'default' ? parts[parts.length - 2] : parts[parts.length - 1];
  return elb.getListener(ctx, id);
}

/** The Nimbus id of a load balancer, target group or listener of the caller's project, by ARN. */
export function taggedId(ctx: Ctx, arn: unknown): string {
  const id = idOf(arn);
  switch (kindOfId(id)) {
    case 'loadBalancer':
      return getLb(ctx, arn).id;
    case 'targetGroup':
      return getTg(ctx, arn).id;
    case 'listener':
      return elb.getListener(ctx, id).id;
    case 'l7Policy':
      return elb.getL7Policy(ctx, id).id;
    default:
      throw new AwsError('ValidationError', `'${String(arn)}' is not the ARN of a load balancer, target group, listener or rule`);
  }
}

/** Keeps tags on resources (in the caller's transaction): AWS's rules, at most 50 each. */
export function addTags(ctx: Ctx, ids: string[], tags: In[]): void {
  const keys = tags.map((t) => String(t.Key ?? ''));
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new AwsError('DuplicateTagKeys', `Tag key '${dup}' is given twice`);
  for (const t of tags) checkTag(t.Key, t.Value, 'ValidationError');
  for (const id of ids) {
    for (const t of tags) ctx.store.setTag(id, String(t.Key), String(t.Value ?? ''));
    checkTagCount(id, Object.keys(userTags(ctx, id)).length, 0, 'TooManyTags');
  }
}

/** Attributes as AWS lists them, from defaults and what was set. */
export const attributeList = (defaults: Record<string, string>, set: Record<string, string>) =>
  Object.entries({ ...defaults, ...set }).map(([Key, Value]) => ({ Key, Value }));

/** Sets attributes (Key/Value pairs) over `have`, refusing keys not in `defaults`. */
export function changedAttributes(input: In, defaults: Record<string, string>, have: Record<string, string>): Record<string, string> {
  const next = { ...have };
  for (const a of (input.Attributes ?? []) as In[]) {
    const key = String(a.Key ?? '');
    if (!(key in defaults))
      throw new AwsError('ValidationError', `Attribute '${key}' is not one this load balancer or target group has: ${Object.keys(defaults).join(', ')}`);
    const value = String(a.Value ?? '');
    if (value === defaults[key]) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** The target group a pool was made from (by a listener or a rule that forwards to it), if one was. */
export function groupOfPool(ctx: Ctx, poolId: string | null): TargetGroup | undefined {
  return poolId ? ctx.store.list<TargetGroup>('targetGroup', { projectId: ctx.projectId }).find((t) => t.poolId === poolId) : undefined;
}
