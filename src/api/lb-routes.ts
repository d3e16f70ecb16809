/**
 * Load balancer endpoints (Octavia's model): load balancers, listeners, pools, members,
 * health monitors; a load balancer's status tree with each member's live health; a server
 * workload's logs; and Prometheus metrics of every listener and member.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './context.js';
import { CascadeQuery, Inputs, L7Rule, ServerLogs, LbLogs } from '../core/model/index.js';
import { adminOnly, helpers, routeMaker } from './route.js';
import * as lbs from '../resources/load-balancer/service.js';
import { accessLog, presentLoadBalancer, presentMember, statusTree } from '../resources/load-balancer/status.js';
import { serverLogs } from '../resources/server/service.js';
import { renderMetrics } from './metrics.js';
import { contextOf } from './context.js';
import { requireAdmin } from '../resources/context.js';
import * as certs from '../resources/certificate/service.js';

export function lbRoutes(app: FastifyInstance, deps: AppDeps): void {
  const route = routeMaker(app, deps);
  const { ref, body, q, list, one } = helpers;
  const T = (tag: string, summary: string) => ({ tag, summary });

  const rt = deps.loadBalancers;
  const live = (lb: Parameters<typeof presentLoadBalancer>[1]) => presentLoadBalancer(rt, lb);
  route('GET', '/load-balancers', { ...T('loadBalancer', 'List load balancers'), response: list('LoadBalancer') }, (ctx) =>
    lbs.listLoadBalancers(ctx).map(live),
  );
  route(
    'POST',
    '/load-balancers',
    { ...T('loadBalancer', 'Create a load balancer'), body: Inputs.loadBalancer, response: one('LoadBalancer'), status: 201 },
    (ctx, req) => live(lbs.createLoadBalancer(ctx, body(req))),
  );
  route('GET', '/load-balancers/:ref', { ...T('loadBalancer', 'Show a load balancer'), response: one('LoadBalancer') }, (ctx, req) =>
    live(lbs.getLoadBalancer(ctx, ref(req))),
  );
  route(
    'PATCH',
    '/load-balancers/:ref',
    { ...T('loadBalancer', 'Rename a load balancer or change its number of workers'), body: Inputs.loadBalancerUpdate, response: one('LoadBalancer') },
    (ctx, req) => live(lbs.updateLoadBalancer(ctx, ref(req), body(req))),
  );
  route(
    'DELETE',
    '/load-balancers/:ref',
    {
      ...T('loadBalancer', "Delete a load balancer (with cascade=true, with its listeners, pools, members and monitors: Octavia's cascade)"),
      query: CascadeQuery,
      response: one('LoadBalancer'),
    },
    async (ctx, req) => {
      const gone = lbs.deleteLoadBalancer(ctx, ref(req), { cascade: q<CascadeQuery>(req).cascade === 'true' });
      // The answer comes once it no longer serves: its worker stopped, its public IP no longer answers.
      await rt.sync();
      return { ...gone, provisioningStatus: 'DELETED' as const };
    },
  );
  route(
    'GET',
    '/load-balancers/:ref/status',
    { ...T('loadBalancer', 'The status tree: listeners, pools, members with their live health'), response: Type.Any() },
    (ctx, req) => statusTree(ctx, rt, ref(req)),
  );
  route(
    'GET',
    '/load-balancers/:ref/logs',
    {
      ...T('loadBalancer', "The load balancer's access log: its last requests (TCP: connections), oldest first"),
      // A query string is text (types are not coerced): the count is checked by the service.
      query: Type.Object({ tail: Type.Optional(Type.String()) }, { additionalProperties: false }),
      response: LbLogs,
    },
    (ctx, req) => ({ requests: accessLog(ctx, rt, ref(req), q<{ tail?: string }>(req).tail) }),
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
  route(
    'PATCH',
    '/listeners/:ref',
    { ...T('listener', 'Rename a listener or change its pool'), body: Inputs.listenerUpdate, response: one('Listener') },
    (ctx, req) => lbs.updateListener(ctx, ref(req), body(req)),
  );
  route('DELETE', '/listeners/:ref', { ...T('listener', 'Delete a listener'), response: one('Listener') }, (ctx, req) => lbs.deleteListener(ctx, ref(req)));

  route('GET', '/pools', { ...T('pool', 'List pools'), query: lbQuery, response: list('Pool') }, (ctx, req) => {
    const f = q<{ loadBalancer?: string }>(req).loadBalancer;
    return lbs.listPools(ctx, f ? lbs.getLoadBalancer(ctx, f).id : undefined);
  });
  route('POST', '/pools', { ...T('pool', 'Create a pool'), body: Inputs.pool, response: one('Pool'), status: 201 }, (ctx, req) =>
    lbs.createPool(ctx, body(req)),
  );
  route('GET', '/pools/:ref', { ...T('pool', 'Show a pool'), response: one('Pool') }, (ctx, req) => lbs.getPool(ctx, ref(req)));
  route('PATCH', '/pools/:ref', { ...T('pool', 'Change a pool'), body: Inputs.poolUpdate, response: one('Pool') }, (ctx, req) =>
    lbs.updatePool(ctx, ref(req), body(req)),
  );
  route('DELETE', '/pools/:ref', { ...T('pool', 'Delete a pool'), response: one('Pool') }, (ctx, req) => lbs.deletePool(ctx, ref(req)));

  const poolQuery = Type.Object({ pool: Type.Optional(Type.String()) }, { additionalProperties: false });
  route('GET', '/members', { ...T('member', 'List members with their live status'), query: poolQuery, response: list('Member') }, (ctx, req) =>
    lbs.listMembers(ctx, q(req)).map((m) => presentMember(ctx, rt, m)),
  );
  route('POST', '/members', { ...T('member', 'Add a member to a pool'), body: Inputs.member, response: one('Member'), status: 201 }, (ctx, req) =>
    lbs.createMember(ctx, body(req)),
  );
  route('GET', '/members/:ref', { ...T('member', 'Show a member with its live status'), response: one('Member') }, (ctx, req) =>
    presentMember(ctx, rt, lbs.getMember(ctx, ref(req))),
  );
  route(
    'PATCH',
    '/members/:ref',
    { ...T('member', 'Change weight or admin state (weight 0 drains)'), body: Inputs.memberUpdate, response: one('Member') },
    (ctx, req) => lbs.updateMember(ctx, ref(req), body(req)),
  );
  route('DELETE', '/members/:ref', { ...T('member', 'Remove a member (it drains)'), response: one('Member') }, (ctx, req) => lbs.deleteMember(ctx, ref(req)));

  route('GET', '/health-monitors', { ...T('healthMonitor', 'List health monitors'), response: list('HealthMonitor') }, (ctx) => lbs.listHealthMonitors(ctx));
  route(
    'POST',
    '/health-monitors',
    { ...T('healthMonitor', 'Create the health monitor of a pool'), body: Inputs.healthMonitor, response: one('HealthMonitor'), status: 201 },
    (ctx, req) => lbs.createHealthMonitor(ctx, body(req)),
  );
  route('GET', '/health-monitors/:ref', { ...T('healthMonitor', 'Show a health monitor'), response: one('HealthMonitor') }, (ctx, req) =>
    lbs.getHealthMonitor(ctx, ref(req)),
  );
  route(
    'PATCH',
    '/health-monitors/:ref',
    { ...T('healthMonitor', 'Change a health monitor'), body: Inputs.healthMonitorUpdate, response: one('HealthMonitor') },
    (ctx, req) => lbs.updateHealthMonitor(ctx, ref(req), body(req)),
  );
  route('DELETE', '/health-monitors/:ref', { ...T('healthMonitor', 'Delete a health monitor'), response: one('HealthMonitor') }, (ctx, req) =>
    lbs.deleteHealthMonitor(ctx, ref(req)),
  );

  const listenerQuery = Type.Object({ listener: Type.Optional(Type.String()) }, { additionalProperties: false });
  route('GET', '/l7policies', { ...T('l7policy', 'List L7 policies, in order'), query: listenerQuery, response: list('L7Policy') }, (ctx, req) => {
    const f = q<{ listener?: string }>(req).listener;
    return lbs.listL7Policies(ctx, f ? lbs.getListener(ctx, f).id : undefined);
  });
  route(
    'POST',
    '/l7policies',
    {
      ...T('l7policy', "Add an L7 policy to an HTTP listener (Octavia's l7policy), with its rules"),
      body: Inputs.l7Policy,
      response: one('L7Policy'),
      status: 201,
    },
    (ctx, req) => lbs.createL7Policy(ctx, body(req)),
  );
  route('GET', '/l7policies/:ref', { ...T('l7policy', 'Show an L7 policy with its rules'), response: one('L7Policy') }, (ctx, req) =>
    lbs.getL7Policy(ctx, ref(req)),
  );
  route(
    'PATCH',
    '/l7policies/:ref',
    { ...T('l7policy', 'Change an L7 policy: its action, target or position'), body: Inputs.l7PolicyUpdate, response: one('L7Policy') },
    (ctx, req) => lbs.updateL7Policy(ctx, ref(req), body(req)),
  );
  route('DELETE', '/l7policies/:ref', { ...T('l7policy', 'Delete an L7 policy (the ones after it move up)'), response: one('L7Policy') }, (ctx, req) =>
    lbs.deleteL7Policy(ctx, ref(req)),
  );
  route(
    'POST',
    '/l7policies/:ref/rules',
    { ...T('l7policy', 'Add a rule to an L7 policy (all its rules must match)'), body: Inputs.l7Rule, response: L7Rule, status: 201 },
    (ctx, req) => lbs.addL7Rule(ctx, ref(req), body(req)),
  );
  route(
    'DELETE',
    '/l7policies/:ref/rules/:rule',
    {
      ...T('l7policy', 'Remove a rule from an L7 policy'),
      params: Type.Object({ ref: Type.String({ description: 'name or id' }), rule: Type.String({ description: 'the rule id' }) }),
      response: L7Rule,
    },
    (ctx, req) => lbs.deleteL7Rule(ctx, ref(req), (req.params as { rule: string }).rule),
  );

  route('GET', '/certificates', { ...T('certificate', 'List TLS certificates (never their keys)'), response: list('Certificate') }, (ctx) =>
    certs.listCertificates(ctx),
  );
  route(
    'POST',
    '/certificates',
    {
      ...T(
        'certificate',
        'Import a PEM certificate with its private key and chain, or make a self-signed one (selfSigned.dnsNames); the key is kept sealed and never returned',
      ),
      body: Inputs.certificate,
      response: one('Certificate'),
      status: 201,
    },
    (ctx, req) => certs.createCertificate(ctx, body(req)),
  );
  route('GET', '/certificates/:ref', { ...T('certificate', 'Show a certificate (never its key)'), response: one('Certificate') }, (ctx, req) =>
    certs.getCertificate(ctx, ref(req)),
  );
  route(
    'DELETE',
    '/certificates/:ref',
    { ...T('certificate', 'Delete a certificate no listener serves (Certificate.InUse otherwise)'), response: one('Certificate') },
    (ctx, req) => certs.deleteCertificate(ctx, ref(req)),
  );

  route('GET', '/servers/:ref/logs', { ...T('server', "A server workload's request log and output"), response: ServerLogs }, (ctx, req) =>
    serverLogs(ctx, deps.workloads, ref(req)),
  );
}

export function metricsRoute(app: FastifyInstance, deps: AppDeps): void {
  app.get('/metrics', { schema: { hide: true }, onRequest: adminOnly }, async (req, reply) => {
    requireAdmin(contextOf(deps, req), 'the metrics of every load balancer');
    reply.header('content-type', 'text/plain; version=0.0.4');
    return renderMetrics(deps.loadBalancers.all());
  });
}
