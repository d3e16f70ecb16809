/**
 * Trace, ping and exec from a server, and the data plane's plan and sync on demand. Each
 * handler parses, calls one service function and answers.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './context.js';
import { Chassis, ChassisInput, ExecResult, Inputs, Plan, SyncReport, type ExecInput, type PingInput, type TraceInput } from '../core/model/index.js';
import { helpers, routeMaker } from './route.js';
import { requireAdmin } from '../resources/context.js';
import { execIn, pingFrom, traceFrom } from '../resources/analyzer/service.js';
import { Type } from '@sinclair/typebox';
import { NimbusError } from '../core/errors.js';
import { OvnDataplane } from '../dataplane/ovn/driver.js';

export function analyzerRoutes(app: FastifyInstance, deps: AppDeps): void {
  const route = routeMaker(app, deps);
  const { body, ref, one } = helpers;
  route(
    'POST',
    '/trace',
    { tag: 'analyzer', summary: 'Explain the path between a server and an address', body: Inputs.trace, response: one('TraceResult') },
    (ctx, req) => traceFrom(ctx, deps.dataplane, body<TraceInput>(req)),
  );
  route('POST', '/ping', { tag: 'analyzer', summary: 'Ping an address from a server', body: Inputs.ping, response: one('PingResult') }, (ctx, req) =>
    pingFrom(ctx, deps.dataplane, body<PingInput>(req)),
  );
  route(
    'POST',
    '/servers/:ref/exec',
    { tag: 'server', summary: "Run a command inside a server's namespace (linux data plane)", body: Inputs.exec, response: ExecResult },
    (ctx, req) => execIn(ctx, deps.dataplane, ref(req), body<ExecInput>(req).argv),
  );
}

/** The ovn plane, for a change of its chassis; refused on the other planes, which have none. */
function ovnPlane(deps: AppDeps): OvnDataplane {
  if (deps.dataplane instanceof OvnDataplane) return deps.dataplane;
  throw new NimbusError(
    'Dataplane.Unavailable',
    `chassis exist on the ovn data plane only; this daemon runs the ${deps.dataplane.kind} plane (nimbus serve --dataplane ovn)`,
  );
}

export function chassisRoutes(app: FastifyInstance, deps: AppDeps): void {
  const route = routeMaker(app, deps);
  const { body, ref } = helpers;
  route(
    'GET',
    '/chassis',
    { admin: true, tag: 'dataplane', summary: 'List the chassis of the ovn data plane (admin)', response: Type.Array(Chassis) },
    async (ctx) => {
      requireAdmin(ctx, 'the chassis');
      // The other planes have none.
      return deps.dataplane instanceof OvnDataplane ? deps.dataplane.chassis() : [];
    },
  );
  route('GET', '/chassis/:ref', { admin: true, tag: 'dataplane', summary: 'Show a chassis (admin)', response: Chassis }, async (ctx, req) => {
    requireAdmin(ctx, 'the chassis');
    const found = deps.dataplane instanceof OvnDataplane ? (await deps.dataplane.chassis()).find((c) => c.name === ref(req)) : undefined;
    if (!found)
      throw new NimbusError(
        'InvalidChassis.NotFound',
        `chassis '${ref(req)}' does not exist (nimbus chassis list)${deps.dataplane instanceof OvnDataplane ? '' : `; the ${deps.dataplane.kind} data plane has no chassis`}`,
      );
    return found;
  });
  route(
    'POST',
    '/chassis',
    { admin: true, tag: 'dataplane', summary: 'Start a simulated chassis on this machine (admin)', body: ChassisInput, response: Chassis, status: 201 },
    async (ctx, req) => {
      requireAdmin(ctx, 'adding a chassis');
      return ovnPlane(deps).addChassis(body<{ name: string }>(req).name);
    },
  );
  route(
    'DELETE',
    '/chassis/:ref',
    { admin: true, tag: 'dataplane', summary: 'Stop a simulated chassis and remove it (admin)', response: Chassis },
    async (ctx, req) => {
      requireAdmin(ctx, 'removing a chassis');
      return ovnPlane(deps).removeChassis(ref(req));
    },
  );
}

/** The data plane: its plan and a sync on demand (admin: they cover every project). */
export function dataplaneRoutes(app: FastifyInstance, deps: AppDeps): void {
  const route = routeMaker(app, deps);
  route('GET', '/dataplane/plan', { admin: true, tag: 'dataplane', summary: 'What the data plane would change now (admin)', response: Plan }, async (ctx) => {
    requireAdmin(ctx, 'the data plane plan');
    return { steps: await deps.dataplane.plan() };
  });
  route('POST', '/dataplane/sync', { admin: true, tag: 'dataplane', summary: 'Converge now and report what changed (admin)', response: SyncReport }, (ctx) => {
    requireAdmin(ctx, 'a data plane sync');
    return deps.dataplane.sync();
  });
}
