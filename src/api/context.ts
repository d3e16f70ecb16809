/**
 * What the API handlers share: the daemon's parts, and the caller's context taken from the
 * request (the project named by the X-Nimbus-Project header, `default` when absent).
 */
import type { FastifyRequest } from 'fastify';
import type { Store } from '../store/db.js';
import { notFound, type ChangeFeed, type Ctx } from '../resources/context.js';
import { NimbusError } from '../core/errors.js';
import type { Principal } from '../resources/token/service.js';
import type { Dataplane } from '../dataplane/driver.js';
import { findProject } from '../resources/project/service.js';
import type { Workloads } from '../workloads/workloads.js';
import type { LoadBalancers } from '../workloads/load-balancers.js';
import type { FlowLogs } from '../workloads/flow-logs.js';

export interface AppDeps {
  store: Store;
  feed: ChangeFeed;
  dataplane: Dataplane;
  workloads: Workloads;
  loadBalancers: LoadBalancers;
  /** The VPCs' DNS resolvers: a change is in effect once they serve it too (status.ts). */
  resolvers?: { changesThrough(): number | null };
  /** The flow-log collector: records are read through it. */
  flowLogs: FlowLogs;
  version: string;
  logger?: boolean;
  /** Host names besides the loopback ones that requests may name (--allow-host, a non-loopback --host). */
  allowedHosts?: ReadonlySet<string>;
  /** The first address of this installation's workload range. */
  workloadBase?: number;
  /** The web console's login tokens and sessions. */
  sessions?: ConsoleSessions;
}

import type { ConsoleSessions } from './console.js';
import { OvnDataplane } from '../dataplane/ovn/driver.js';
import type { ChassisPlacement, PlaneFeature } from '../resources/context.js';

export const PROJECT_HEADER = 'x-nimbus-project';

/** What the ovn plane does not carry out yet (its status says so too). */
const OVN_LACKS: ReadonlySet<PlaneFeature> = new Set(['flow logs']);

/** Where servers are placed: on the ovn plane, its chassis; nowhere on the others. */
export function chassisOf(dataplane: Dataplane): ChassisPlacement | undefined {
  if (!(dataplane instanceof OvnDataplane)) return undefined;
  return { names: () => dataplane.chassisNames(), spread: () => dataplane.spread(), joined: (name) => dataplane.remoteChassis().has(name) };
}

/**
 * The caller's context. A project token acts for its project: naming another one in
 * X-Nimbus-Project answers as for an unknown project. An admin token acts for the project the
 * header names (`default` when absent).
 */
export function contextOf(deps: AppDeps, req: { headers: FastifyRequest['headers']; principal: Principal | null }): Ctx {
  const p = req.principal;
  if (!p) throw new NimbusError('AuthFailure', 'no token');
  const header = req.headers[PROJECT_HEADER];
  const named = typeof header === 'string' && header !== '' ? header : null;
  const lbProvisioning = (id: string) => deps.loadBalancers.provisioning(id);
  const chassis = chassisOf(deps.dataplane);
  const planeLacks = deps.dataplane instanceof OvnDataplane ? OVN_LACKS : undefined;
  if (!p.admin) {
    if (named !== null && findProjectOrNull(deps.store, named)?.id !== p.projectId) throw notFound('project', named);
    return { store: deps.store, feed: deps.feed, projectId: p.projectId, admin: false, workloadBase: deps.workloadBase, lbProvisioning, chassis, planeLacks };
  }
  return {
    store: deps.store,
    feed: deps.feed,
    projectId: findProject(deps.store, named ?? 'default').id,
    admin: true,
    workloadBase: deps.workloadBase,
    lbProvisioning,
    chassis,
    planeLacks,
  };
}

function findProjectOrNull(store: Store, ref: string) {
  try {
    return findProject(store, ref);
  } catch {
    return null;
  }
}
