/**
 * Trace, ping and exec from a server, and the data plane's plan and sync on demand. Each
 * handler parses, calls one service function and answers.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './context.js';
import { ExecResult, Inputs, Plan, SyncReport, type ExecInput, type PingInput, type TraceInput } from '../core/model/index.js';
import { helpers, routeMaker } from './route.js';
import { requireAdmin } from '../resources/context.js';
import { execIn, pingFrom, traceFrom } from '../resources/analyzer/service.js';

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
