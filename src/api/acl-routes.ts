/**
 * Network ACLs' endpoints (resources/network-acl): the ACLs of a project's VPCs, their numbered
 * rules, and which subnets they guard.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from './context.js';
import { Inputs } from '../core/model/index.js';
import { helpers, routeMaker } from './route.js';
import * as acls from '../resources/network-acl/service.js';

export function aclRoutes(app: FastifyInstance, deps: AppDeps): void {
  const route = routeMaker(app, deps);
  const { ref, body, q, list, one } = helpers;
  const vpcQuery = Type.Object({ vpc: Type.Optional(Type.String({ description: 'only the ACLs of this VPC (name or id)' })) }, { additionalProperties: false });

  route('GET', '/network-acls', { tag: 'networkAcl', summary: 'List network ACLs', query: vpcQuery, response: list('NetworkAcl') }, (ctx, req) =>
    acls.listNetworkAcls(ctx, q(req)),
  );
  route(
    'POST',
    '/network-acls',
    {
      tag: 'networkAcl',
      summary: 'Create a network ACL (no rules: it denies everything until rules are added)',
      body: Inputs.networkAcl,
      response: one('NetworkAcl'),
      status: 201,
    },
    (ctx, req) => acls.createNetworkAcl(ctx, body(req)),
  );
  route('GET', '/network-acls/:ref', { tag: 'networkAcl', summary: 'Show a network ACL', response: one('NetworkAcl') }, (ctx, req) =>
    acls.getNetworkAcl(ctx, ref(req)),
  );
  route('PATCH', '/network-acls/:ref', { tag: 'networkAcl', summary: 'Rename a network ACL', body: Inputs.rename, response: one('NetworkAcl') }, (ctx, req) =>
    acls.renameNetworkAcl(ctx, ref(req), body(req)),
  );
  route(
    'DELETE',
    '/network-acls/:ref',
    { tag: 'networkAcl', summary: 'Delete a network ACL (not the default, not one in use)', response: one('NetworkAcl') },
    (ctx, req) => acls.deleteNetworkAcl(ctx, ref(req)),
  );
  route(
    'POST',
    '/network-acls/:ref/associations',
    {
      tag: 'networkAcl',
      summary: "Put a subnet behind this ACL (the VPC's default ACL returns it to the default)",
      body: Inputs.association,
      response: one('NetworkAcl'),
    },
    (ctx, req) => acls.associateAcl(ctx, ref(req), body<{ subnet: string }>(req).subnet),
  );
  route(
    'POST',
    '/network-acls/:ref/rules',
    { tag: 'networkAcl', summary: 'Add a numbered rule', body: Inputs.aclRule, response: one('NetworkAcl'), status: 201 },
    (ctx, req) => acls.addAclRule(ctx, ref(req), body(req)),
  );
  route(
    'PATCH',
    '/network-acls/:ref/rules',
    { tag: 'networkAcl', summary: 'Replace the rule of that number and direction', body: Inputs.aclRule, response: one('NetworkAcl') },
    (ctx, req) => acls.addAclRule(ctx, ref(req), body(req), { replace: true }),
  );
  route(
    'DELETE',
    '/network-acls/:ref/rules',
    {
      tag: 'networkAcl',
      summary: 'Remove the rule of that number and direction',
      query: Type.Object(
        {
          direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress')]),
          number: Type.String({ pattern: '^[0-9]{1,5}$', description: 'the rule number, 1-32766' }),
        },
        { additionalProperties: false },
      ),
      response: one('NetworkAcl'),
    },
    (ctx, req) => {
      const { direction, number } = q<{ direction: 'ingress' | 'egress'; number: string }>(req);
      return acls.removeAclRule(ctx, ref(req), direction, Number(number));
    },
  );
}
