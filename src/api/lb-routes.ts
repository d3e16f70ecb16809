/**
 * Load balancer endpoints (Octavia's model): load balancers, listeners, pools, members,
 * health monitors; a load balancer's status tree with each member's live health; a server
 * workload's logs; and Prometheus metrics of every listener and member.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './context.js';
import { contextOf } from './context.js';
import { Inputs } from './schemas.js';
import { helpers, routeMaker } from './route.js';
import type { Ctx } from '../resources/context.js';
import type { HealthMonitor, Listener, LoadBalancer, Member, OperatingStatus, Pool } from '../resources/model.js';
import * as lbs from '../resources/load-balancer/service.js';
import * as members from '../resources/load-balancer/member.js';
import { getServer } from '../resources/server/service.js';
import { renderMetrics } from './metrics.js';
import { invalid } from '../core/errors.js';

type MemberView = Member & { operatingStatus: OperatingStatus; statusReason: string | null };

/** A member with its live status: what the worker's health checks and the admission say. */
export function presentMember(deps: AppDeps, m: Member): MemberView {
  const pool = deps.store.get<Pool>(m.poolId, 'pool');
  const rt = pool ? deps.loadBalancers.status(pool.loadBalancerId) : null;
  const monitored = deps.store.list<HealthMonitor>('healthMonitor', { parentId: m.poolId }).length > 0;
  const reason = rt?.admission[m.id] ?? null;
  let operatingStatus: OperatingStatus;
  if (reason === 'admin down' || (reason ?? '').startsWith('server ')) operatingStatus = 'OFFLINE';
  else if (reason) operatingStatus = 'ERROR';
  else if (rt?.health[m.id] === 'DOWN') operatingStatus = 'ERROR';
  else operatingStatus = monitored ? 'ONLINE' : 'NO_MONITOR';
  const statusReason = reason ?? (rt?.health[m.id] === 'DOWN' ? 'failing its health check' : null);
  return { ...m, operatingStatus, statusReason };
}

function statusTree(deps: AppDeps, ctx: Ctx, ref: string) {
  const lb = lbs.getLoadBalancer(ctx, ref);
  const rt = deps.loadBalancers.status(lb.id);
  const pools = lbs.listPools(ctx, lb.id).map((p) => {
    const ms = deps.store.list<Member>('member', { parentId: p.id }).map((m) => presentMember(deps, m));
    const healthMonitor = deps.store.list<HealthMonitor>('healthMonitor', { parentId: p.id })[0] ?? null;
    const up = ms.filter((m) => m.operatingStatus === 'ONLINE' || m.operatingStatus === 'NO_MONITOR').length;
    const operatingStatus: OperatingStatus = ms.length === 0 || up === 0 ? (ms.length === 0 ? 'OFFLINE' : 'ERROR') : up < ms.length ? 'DEGRADED' : 'ONLINE';
    return { ...p, operatingStatus, healthMonitor, members: ms };
  });
  const listeners = lbs.listListeners(ctx, lb.id);
  const worst = pools.some((p) => p.operatingStatus !== 'ONLINE') ? 'DEGRADED' : 'ONLINE';
  return {
    ...lb,
    provisioningStatus: deps.loadBalancers.provisioning(lb.id),
    operatingStatus: listeners.length === 0 ? 'OFFLINE' : rt.running ? worst : 'ERROR',
    workerRunning: rt.running,
    errors: rt.errors,
    listeners: listeners.map((l: Listener) => ({ ...l, counters: rt.counters?.listeners[l.id] ?? null })),
    pools,
  };
}

export function lbRoutes(app: FastifyInstance, deps: AppDeps): void {
  const route = routeMaker(app, deps);
  const { ref, body, q, list, one } = helpers;
  const T = (tag: string, summary: string) => ({ tag, summary });

  const live = (lb: LoadBalancer): LoadBalancer => ({ ...lb, provisioningStatus: deps.loadBalancers.provisioning(lb.id) });
  route('GET', '/load-balancers', { ...T('loadBalancer', 'List load balancers'), response: list('LoadBalancer') }, (ctx) => lbs.listLoadBalancers(ctx).map(live));
  route('POST', '/load-balancers', { ...T('loadBalancer', 'Create a load balancer'), body: Inputs.loadBalancer, response: one('LoadBalancer'), status: 201 }, (ctx, req) =>
    live(lbs.createLoadBalancer(ctx, body(req))),
  );
  route('GET', '/load-balancers/:ref', { ...T('loadBalancer', 'Show a load balancer'), response: one('LoadBalancer') }, (ctx, req) => live(lbs.getLoadBalancer(ctx, ref(req))));
  route('PATCH', '/load-balancers/:ref', { ...T('loadBalancer', 'Rename a load balancer'), body: Inputs.rename, response: one('LoadBalancer') }, (ctx, req) =>
    live(lbs.updateLoadBalancer(ctx, ref(req), body(req))),
  );
  route('DELETE', '/load-balancers/:ref', { ...T('loadBalancer', 'Delete a load balancer'), response: one('LoadBalancer') }, (ctx, req) =>
    lbs.deleteLoadBalancer(ctx, ref(req)),
  );
  app.get('/load-balancers/:ref/status', { schema: { tags: ['loadBalancer'], summary: 'The status tree: listeners, pools, members with their live health' } }, async (req) =>
    statusTree(deps, contextOf(deps, req), (req.params as { ref: string }).ref),
  );

  app.get(
    '/load-balancers/:ref/logs',
    {
      schema: {
        tags: ['loadBalancer'],
        summary: "The load balancer's access log: its last requests (TCP: connections), oldest first",
        // A query string is text (types are not coerced): the count is checked here.
        querystring: Type.Object({ tail: Type.Optional(Type.String()) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      const ctx = contextOf(deps, req);
      const lb = lbs.getLoadBalancer(ctx, (req.params as { ref: string }).ref);
      const names = new Map<string, string>();
      for (const p of lbs.listPools(ctx, lb.id)) for (const m of deps.store.list<Member>('member', { parentId: p.id })) names.set(m.id, m.name);
      const raw = (req.query as { tail?: string }).tail ?? '100';
      const tail = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
      if (!(tail >= 1 && tail <= 10_000)) throw invalid(`tail '${raw}' must be a whole number from 1 to 10000`);
      return { requests: deps.loadBalancers.accessLog(lb.id, tail).map((r) => ({ ...r, memberName: r.member ? (names.get(r.member) ?? null) : null })) };
    },
  );

  const lbQuery = Type.Object({ loadBalancer: Type.Optional(Type.String()) }, { additionalProperties: false });
  route('GET', '/listeners', { ...T('listener', 'List listeners'), query: lbQuery, response: list('Listener') }, (ctx, req) => {
    const f = q<{ loadBalancer?: string }>(req).loadBalancer;
    return lbs.listListeners(ctx, f ? lbs.getLoadBalancer(ctx, f).id : undefined);
  });
  route('POST', '/listeners', { ...T('listener', 'Create a listener'), body: Inputs.listener, response: one('Listener'), status: 201 }, (ctx, req) =>
    lbs.createListener(ctx, body(req)),
  );
  route('GET', '/listeners/:ref', { ...T('listener', 'Show a listener'), response: one('Listener') }, (ctx, req) => lbs.getListener(ctx, ref(req)));
  route('PATCH', '/listeners/:ref', { ...T('listener', 'Rename a listener or change its pool'), body: Inputs.listenerUpdate, response: one('Listener') }, (ctx, req) =>
    lbs.updateListener(ctx, ref(req), body(req)),
  );
  route('DELETE', '/listeners/:ref', { ...T('listener', 'Delete a listener'), response: one('Listener') }, (ctx, req) => lbs.deleteListener(ctx, ref(req)));

  route('GET', '/pools', { ...T('pool', 'List pools'), query: lbQuery, response: list('Pool') }, (ctx, req) => {
    const f = q<{ loadBalancer?: string }>(req).loadBalancer;
    return lbs.listPools(ctx, f ? lbs.getLoadBalancer(ctx, f).id : undefined);
  });
  route('POST', '/pools', { ...T('pool', 'Create a pool'), body: Inputs.pool, response: one('Pool'), status: 201 }, (ctx, req) => lbs.createPool(ctx, body(req)));
  route('GET', '/pools/:ref', { ...T('pool', 'Show a pool'), response: one('Pool') }, (ctx, req) => lbs.getPool(ctx, ref(req)));
  route('PATCH', '/pools/:ref', { ...T('pool', 'Change a pool'), body: Inputs.poolUpdate, response: one('Pool') }, (ctx, req) => lbs.updatePool(ctx, ref(req), body(req)));
  route('DELETE', '/pools/:ref', { ...T('pool', 'Delete a pool'), response: one('Pool') }, (ctx, req) => lbs.deletePool(ctx, ref(req)));

  const poolQuery = Type.Object({ pool: Type.Optional(Type.String()) }, { additionalProperties: false });
  route('GET', '/members', { ...T('member', 'List members with their live status'), query: poolQuery, response: list('Member') }, (ctx, req) =>
    members.listMembers(ctx, q(req)).map((m) => presentMember(deps, m)),
  );
  route('POST', '/members', { ...T('member', 'Add a member to a pool'), body: Inputs.member, response: one('Member'), status: 201 }, (ctx, req) =>
    members.createMember(ctx, body(req)),
  );
  route('GET', '/members/:ref', { ...T('member', 'Show a member with its live status'), response: one('Member') }, (ctx, req) =>
    presentMember(deps, members.getMember(ctx, ref(req))),
  );
  route('PATCH', '/members/:ref', { ...T('member', 'Change weight or admin state (weight 0 drains)'), body: Inputs.memberUpdate, response: one('Member') }, (ctx, req) =>
    members.updateMember(ctx, ref(req), body(req)),
  );
  route('DELETE', '/members/:ref', { ...T('member', 'Remove a member (it drains)'), response: one('Member') }, (ctx, req) => members.deleteMember(ctx, ref(req)));

  route('GET', '/health-monitors', { ...T('healthMonitor', 'List health monitors'), response: list('HealthMonitor') }, (ctx) => members.listHealthMonitors(ctx));
  route('POST', '/health-monitors', { ...T('healthMonitor', 'Create the health monitor of a pool'), body: Inputs.healthMonitor, response: one('HealthMonitor'), status: 201 }, (ctx, req) =>
    members.createHealthMonitor(ctx, body(req)),
  );
  route('GET', '/health-monitors/:ref', { ...T('healthMonitor', 'Show a health monitor'), response: one('HealthMonitor') }, (ctx, req) =>
    members.getHealthMonitor(ctx, ref(req)),
  );
  route('PATCH', '/health-monitors/:ref', { ...T('healthMonitor', 'Change a health monitor'), body: Inputs.healthMonitorUpdate, response: one('HealthMonitor') }, (ctx, req) =>
    members.updateHealthMonitor(ctx, ref(req), body(req)),
  );
  route('DELETE', '/health-monitors/:ref', { ...T('healthMonitor', 'Delete a health monitor'), response: one('HealthMonitor') }, (ctx, req) =>
    members.deleteHealthMonitor(ctx, ref(req)),
  );

  app.get('/servers/:ref/logs', { schema: { tags: ['server'], summary: "A server workload's request log and output" } }, async (req) => {
    const server = getServer(contextOf(deps, req), (req.params as { ref: string }).ref);
    return deps.workloads.logs(server.id);
  });
}

export function metricsRoute(app: FastifyInstance, deps: AppDeps): void {
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4');
    return renderMetrics(deps.loadBalancers.all());
  });
}
