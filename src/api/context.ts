/**
 * What the API handlers share: the daemon's parts, and the caller's context taken from the
 * request (the project named by the X-Nimbus-Project header, `default` when absent).
 */
import type { FastifyRequest } from 'fastify';
import type { Store } from '../store/db.js';
import type { ChangeFeed, Ctx } from '../resources/context.js';
import type { Dataplane } from '../dataplane/driver.js';
import { findProject } from '../resources/project/service.js';
import type { Workloads } from '../workloads/workloads.js';
import type { LoadBalancers } from '../workloads/load-balancers.js';

export interface AppDeps {
  store: Store;
  feed: ChangeFeed;
  dataplane: Dataplane;
  workloads: Workloads;
  loadBalancers: LoadBalancers;
  version: string;
  logger?: boolean;
}

export const PROJECT_HEADER = 'x-nimbus-project';

/** The caller's context: the project named by the X-Nimbus-Project header (default `default`). */
export function contextOf(deps: AppDeps, req: Pick<FastifyRequest, 'headers'>): Ctx {
  const header = req.headers[PROJECT_HEADER];
  const ref = typeof header === 'string' && header !== '' ? header : 'default';
  return { store: deps.store, feed: deps.feed, projectId: findProject(deps.store, ref).id };
}
