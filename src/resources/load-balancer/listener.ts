/**
 * Listeners: a protocol and a port of a load balancer (unique per load balancer), and the
 * pool they send to, of the same load balancer and protocol.
 */
import { NimbusError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { LbProtocol, Listener, ListenerInput, ListenerUpdate, LoadBalancer, Pool } from '../../core/model/index.js';
import { checkPort } from '../../core/model/index.js';
import { checkName, checkQuota, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';
import { protocolOf } from './rules.js';

export function listListeners(ctx: Ctx, loadBalancerId?: string): Listener[] {
  return ctx.store.list<Listener>('listener', loadBalancerId ? { parentId: loadBalancerId } : { projectId: ctx.projectId });
}

function poolFor(ctx: Ctx, lb: LoadBalancer, ref: string | null | undefined, protocol: LbProtocol): string | null {
  if (ref === undefined || ref === null || ref === '') return null;
  const pool = resolve<Pool>(ctx, 'pool', ref, 'defaultPool');
  if (pool.loadBalancerId !== lb.id) {
    throw new NimbusError('InvalidPool.ProtocolMismatch', `pool '${pool.name}' belongs to another load balancer than '${lb.name}'`);
  }
  if (pool.protocol !== protocol) {
    throw new NimbusError('InvalidPool.ProtocolMismatch', `listener protocol ${protocol} and pool '${pool.name}' protocol ${pool.protocol} are not compatible`);
  }
  return pool.id;
}

export function createListener(ctx: Ctx, input: ListenerInput): Listener {
  return write(ctx, () => {
    const name = checkName(ctx, 'listener', input.name);
    const lb = resolve<LoadBalancer>(ctx, 'loadBalancer', input.loadBalancer, 'loadBalancer');
    checkQuota(ctx, 'listenersPerLoadBalancer', listListeners(ctx, lb.id).length, `listeners on load balancer '${lb.name}'`);
    const protocol = protocolOf(input.protocol, 'protocol');
    checkPort(input.port);
    const clash = listListeners(ctx, lb.id).find((l) => l.port === input.port);
    if (clash) throw new NimbusError('DuplicateListener', `port ${input.port} of load balancer '${lb.name}' is already used by listener '${clash.name}'`);
    const listener: Listener = {
      id: newId('listener'),
      name,
      projectId: ctx.projectId,
      loadBalancerId: lb.id,
      protocol,
      port: input.port,
      defaultPoolId: poolFor(ctx, lb, input.defaultPool, protocol),
      createdAt: now(),
    };
    saveNew(ctx, 'listener', listener, lb.id);
    return listener;
  });
}

export const getListener = (ctx: Ctx, ref: string) => resolve<Listener>(ctx, 'listener', ref);

export function updateListener(ctx: Ctx, ref: string, input: ListenerUpdate): Listener {
  return write(ctx, () => {
    const l = getListener(ctx, ref);
    if (input.name !== undefined) l.name = checkName(ctx, 'listener', input.name, l.id);
    if (input.defaultPool !== undefined)
      l.defaultPoolId = poolFor(ctx, ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!, input.defaultPool, l.protocol);
    saveUpdate(ctx, 'listener', l);
    return l;
  });
}

export function deleteListener(ctx: Ctx, ref: string): Listener {
  return write(ctx, () => {
    const l = getListener(ctx, ref);
    saveDelete(ctx, 'listener', l);
    return l;
  });
}
