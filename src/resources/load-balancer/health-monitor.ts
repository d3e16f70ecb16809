/**
 * Health monitors: one per pool, TCP connect or HTTP GET with expected codes, every `delay`
 * seconds with a `timeout` below it; `maxRetries` successes bring a member up and
 * `maxRetriesDown` failures take it down.
 */
import { checkMutable, lbOfPool } from './mutable.js';
import { NimbusError, invalid } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { HealthMonitor, HealthMonitorInput, HealthMonitorUpdate, Pool } from '../../core/model/index.js';
import { checkName, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';
import { checkMonitor } from './rules.js';

export function createHealthMonitor(ctx: Ctx, input: HealthMonitorInput): HealthMonitor {
  return write(ctx, () => {
    const pool = resolve<Pool>(ctx, 'pool', input.pool, 'pool');
    checkMutable(ctx, pool.loadBalancerId);
    const existing = ctx.store.list<HealthMonitor>('healthMonitor', { parentId: pool.id });
    if (existing.length > 0) throw new NimbusError('DuplicateHealthMonitor', `pool '${pool.name}' already has health monitor '${existing[0].name}'`);
    if (typeof input.type !== 'string' || !['TCP', 'HTTP'].includes(input.type.toUpperCase())) {
      throw invalid(`type: '${String(input.type)}' must be TCP or HTTP`);
    }
    const id = newId('healthMonitor');
    const h: HealthMonitor = {
      id,
      name: checkName(ctx, 'healthMonitor', input.name ?? `${pool.name}-hm`),
      projectId: ctx.projectId,
      poolId: pool.id,
      type: (typeof input.type === 'string' ? input.type.toUpperCase() : input.type) as HealthMonitor['type'],
      delay: input.delay ?? 5,
      timeout: input.timeout ?? 3,
      maxRetries: input.maxRetries ?? 2,
      maxRetriesDown: input.maxRetriesDown ?? 3,
      urlPath: input.urlPath ?? '/',
      expectedCodes: input.expectedCodes ?? '200',
      createdAt: now(),
    };
    checkMonitor(h);
    saveNew(ctx, 'healthMonitor', h, pool.id);
    return h;
  });
}

export const getHealthMonitor = (ctx: Ctx, ref: string) => resolve<HealthMonitor>(ctx, 'healthMonitor', ref);
export const listHealthMonitors = (ctx: Ctx) => ctx.store.list<HealthMonitor>('healthMonitor', { projectId: ctx.projectId });

export function updateHealthMonitor(ctx: Ctx, ref: string, input: HealthMonitorUpdate & { type?: string }): HealthMonitor {
  return write(ctx, () => {
    const h = getHealthMonitor(ctx, ref);
    checkMutable(ctx, lbOfPool(ctx, h.poolId));
    const next = { ...h, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as HealthMonitor;
    if (input.type) next.type = input.type.toUpperCase() as HealthMonitor['type'];
    if (input.name !== undefined) next.name = checkName(ctx, 'healthMonitor', input.name, h.id);
    checkMonitor(next);
    return saveUpdate(ctx, 'healthMonitor', next);
  });
}

export function deleteHealthMonitor(ctx: Ctx, ref: string): HealthMonitor {
  return write(ctx, () => {
    const h = getHealthMonitor(ctx, ref);
    checkMutable(ctx, lbOfPool(ctx, h.poolId));
    saveDelete(ctx, 'healthMonitor', h);
    return h;
  });
}
