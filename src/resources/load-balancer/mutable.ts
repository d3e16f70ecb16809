/**
 * Octavia's rule: a load balancer, and every child of it (listeners, pools, members, health
 * monitors), takes a change only when it is not in a PENDING_* state; otherwise 409
 * ImmutableObject, and nothing changes. ACTIVE and ERROR take changes (an ERROR is fixed by a
 * change). The daemon tells the live status through the context; where no status is told (the
 * services alone, a topology file's dry run), nothing is refused for it. The CLI, the console
 * and topology files wait for ACTIVE and try again.
 */
import { NimbusError } from '../../core/errors.js';
import type { LoadBalancer, Pool } from '../../core/model/index.js';
import type { Ctx } from '../context.js';

/** Refuses a change to the load balancer `lbId` (or a child of it) while it is PENDING_*. */
export function checkMutable(ctx: Ctx, lbId: string): void {
  const status = ctx.lbProvisioning?.(lbId);
  if (!status || !status.startsWith('PENDING_')) return;
  const lb = ctx.store.get<LoadBalancer>(lbId, 'loadBalancer');
  throw new NimbusError(
    'ImmutableObject',
    `load balancer '${lb?.name ?? lbId}' is ${status}: it and its listeners, pools, members and health monitors take changes once it is ACTIVE (nimbus waits and retries)`,
  );
}

/** The load balancer a pool belongs to. */
export function lbOfPool(ctx: Ctx, poolId: string): string {
  return ctx.store.get<Pool>(poolId, 'pool')?.loadBalancerId ?? '';
}
