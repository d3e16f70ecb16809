/**
 * `GET /v1/status`: the daemon's version and its data plane. An admin sees every error; a
 * project token only those of its own resources (an error names a resource id, and another
 * project's ids are not its business).
 */
import type { Ctx } from '../resources/context.js';
import type { Status } from '../core/model/index.js';
import type { AppDeps } from './context.js';

export function statusFor(deps: AppDeps, ctx: Ctx): Status {
  const plane = withResolvers(deps.dataplane.status(), deps.resolvers?.changesThrough() ?? null);
  // A load balancer that cannot serve a listener keeps the installation from being converged.
  const lbProblems = deps.loadBalancers.problems();
  const dataplane = lbProblems.length ? { ...plane, errors: [...plane.errors, ...lbProblems], converged: false } : plane;
  const notes = deps.dataplane.notes();
  if (ctx.admin) return { version: deps.version, dataplane, notes };
  const errors = dataplane.errors.filter((e) => ctx.store.get<{ projectId: string }>(e.resourceId)?.projectId === ctx.projectId);
  return { version: deps.version, dataplane: { ...dataplane, errors }, notes };
}

/**
 * A change is in effect once the VPCs' resolvers serve it too (a peering's DNS, a server's
 * name): while they have work left, the changes done count only those their last pass took in,
 * so `--wait` waits for them as well.
 */
export function withResolvers(plane: Status['dataplane'], resolversThrough: number | null): Status['dataplane'] {
  if (resolversThrough === null || !plane.changes) return plane;
  return { ...plane, changes: { ...plane.changes, done: Math.min(plane.changes.done, resolversThrough) } };
}
