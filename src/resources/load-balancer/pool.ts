/**
 * Pools: the members a listener sends to, with their algorithm and session persistence
 * (APP_COOKIE needs a cookie name; the SOURCE_IP algorithm takes no persistence).
 */
import { checkMutable } from './mutable.js';
import { newId } from '../../core/ids.js';
import type { LoadBalancer, Pool, PoolInput, PoolLimit, PoolUpdate, L7Policy } from '../../core/model/index.js';
import { POOL_LIMITS } from '../../core/model/index.js';
import { invalid } from '../../core/errors.js';
import { checkName, dependencyViolation, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';
import { listListeners } from './listener.js';
import { algorithmOf, checkPersistence, protocolOf } from './rules.js';

/** The pool's own member timeouts: what the input gives (null clears), else what it had, else none (the listener's apply). */
function poolLimits(input: Partial<Record<PoolLimit, number | null>>, had: Partial<Record<PoolLimit, number | null>>): Record<PoolLimit, number | null> {
  const out = {} as Record<PoolLimit, number | null>;
  for (const [k, spec] of Object.entries(POOL_LIMITS) as [PoolLimit, (typeof POOL_LIMITS)[PoolLimit]][]) {
    const v = input[k] !== undefined ? input[k] : (had[k] ?? null);
    if (v !== null && (!Number.isInteger(v) || v < spec.min || v > spec.max))
      throw invalid(`${k}: '${v}' must be a whole number from ${spec.min} to ${spec.max}, or null`);
    out[k] = v;
  }
  return out;
}

export function createPool(ctx: Ctx, input: PoolInput): Pool {
  return write(ctx, () => {
    const name = checkName(ctx, 'pool', input.name);
    const lb = resolve<LoadBalancer>(ctx, 'loadBalancer', input.loadBalancer, 'loadBalancer');
    checkMutable(ctx, lb.id);
    const protocol = protocolOf(input.protocol, 'protocol');
    const algorithm = algorithmOf(input.algorithm);
    const pool: Pool = {
      id: newId('pool'),
      name,
      projectId: ctx.projectId,
      loadBalancerId: lb.id,
      protocol,
      algorithm,
      sessionPersistence: checkPersistence(algorithm, protocol, input.persistence, input.cookieName),
      ...poolLimits(input, {}),
      createdAt: now(),
    };
    saveNew(ctx, 'pool', pool, lb.id);
    return pool;
  });
}

export const getPool = (ctx: Ctx, ref: string) => resolve<Pool>(ctx, 'pool', ref);

export function listPools(ctx: Ctx, loadBalancerId?: string): Pool[] {
  return ctx.store.list<Pool>('pool', loadBalancerId ? { parentId: loadBalancerId } : { projectId: ctx.projectId });
}

export function updatePool(ctx: Ctx, ref: string, input: PoolUpdate): Pool {
  return write(ctx, () => {
    const pool = getPool(ctx, ref);
    checkMutable(ctx, pool.loadBalancerId);
    if (input.name !== undefined) pool.name = checkName(ctx, 'pool', input.name, pool.id);
    if (input.algorithm !== undefined) pool.algorithm = algorithmOf(input.algorithm);
    if (input.persistence !== undefined || input.algorithm !== undefined || input.cookieName !== undefined) {
      const current = input.persistence !== undefined ? input.persistence : (pool.sessionPersistence?.type ?? null);
      const kept = typeof current === 'string' && current.toUpperCase() === 'APP_COOKIE' ? pool.sessionPersistence?.cookieName : undefined;
      pool.sessionPersistence = checkPersistence(pool.algorithm, pool.protocol, current, input.cookieName ?? kept);
    }
    Object.assign(pool, poolLimits(input, pool));
    saveUpdate(ctx, 'pool', pool);
    return pool;
  });
}

export function deletePool(ctx: Ctx, ref: string): Pool {
  return write(ctx, () => {
    const pool = getPool(ctx, ref);
    checkMutable(ctx, pool.loadBalancerId);
    const users = [
      ...listListeners(ctx, pool.loadBalancerId).filter((l) => l.defaultPoolId === pool.id),
      ...ctx.store.list<{ id: string; name: string }>('member', { parentId: pool.id }),
      ...ctx.store.list<{ id: string; name: string }>('healthMonitor', { parentId: pool.id }),
      ...ctx.store.list<L7Policy>('l7Policy', { projectId: pool.projectId }).filter((p) => p.redirectPoolId === pool.id),
    ];
    if (users.length > 0) throw dependencyViolation(`pool '${pool.name}'`, users);
    saveDelete(ctx, 'pool', pool);
    return pool;
  });
}
