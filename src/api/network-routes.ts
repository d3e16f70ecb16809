/**
 * The resource endpoints: create, list, show, update, delete for every kind, plus the
 * verbs that are not CRUD (accept a peering, add a rule, associate a subnet, stop a server).
 * Each handler is one service call; the services own every rule.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './context.js';
import { AwsCredentials, AwsCredentialsInput, CascadeQuery, Inputs, IssuedToken, ProjectUpdate, ResourceRef, Token, TokenInput } from '../core/model/index.js';
import * as tokens from '../resources/token/service.js';
import { helpers, RawJson, routeMaker } from './route.js';
import * as projects from '../resources/project/service.js';
import * as vpcs from '../resources/vpc/service.js';
import * as subnets from '../resources/subnet/service.js';
import * as servers from '../resources/server/service.js';
import * as groups from '../resources/security-group/service.js';
import * as tables from '../resources/route-table/service.js';
import * as peerings from '../resources/peering/service.js';

export function networkRoutes(app: FastifyInstance, deps: AppDeps): void {
  const route = routeMaker(app, deps);
  const { ref, body, q, list, one } = helpers;

  // Projects act on the project named in the path, not the header.
  route('GET', '/projects', { tag: 'project', summary: 'List projects (a project token sees its own)', response: list('Project') }, (ctx) =>
    projects.listProjects(ctx),
  );
  route(
    'POST',
    '/projects',
    { admin: true, tag: 'project', summary: 'Create a project', body: Inputs.project, response: one('Project'), status: 201 },
    (ctx, req) => projects.createProject(ctx, body(req)),
  );
  route('GET', '/projects/:ref', { tag: 'project', summary: 'Show a project', response: one('Project') }, (ctx, req) => projects.getProject(ctx, ref(req)));
  route(
    'PATCH',
    '/projects/:ref',
    { admin: true, tag: 'project', summary: "Set a project's quotas (admin)", body: ProjectUpdate, response: one('Project') },
    (ctx, req) => projects.updateProject(ctx, ref(req), body(req)),
  );
  route('GET', '/tokens', { admin: true, tag: 'token', summary: 'List tokens (admin)', response: Type.Array(Token) }, (ctx) => tokens.listTokens(ctx));
  route(
    'POST',
    '/tokens',
    { admin: true, tag: 'token', summary: 'Issue a token (admin); its secret is answered once', body: TokenInput, response: IssuedToken, status: 201 },
    (ctx, req) => tokens.issueToken(ctx, body(req)),
  );
  route(
    'POST',
    '/credentials/aws',
    {
      tag: 'token',
      summary: "The AWS access key of the caller's token (made on first use) for the AWS-compatible endpoint; an admin may name another project",
      body: AwsCredentialsInput,
      response: AwsCredentials,
    },
    (ctx, req) => tokens.awsKey(ctx, req.principal!.tokenId, body<AwsCredentialsInput>(req).project),
  );
  route('DELETE', '/tokens/:ref', { admin: true, tag: 'token', summary: 'Revoke a token (admin)', response: Token }, (ctx, req) =>
    tokens.revokeToken(ctx, ref(req)),
  );
  route('DELETE', '/projects/:ref', { admin: true, tag: 'project', summary: 'Delete a project', response: one('Project') }, (ctx, req) =>
    projects.deleteProject(ctx, ref(req)),
  );

  const vpcQuery = Type.Object({ vpc: Type.Optional(Type.String()) }, { additionalProperties: false });

  route('GET', '/vpcs', { tag: 'vpc', summary: 'List VPCs', response: list('Vpc') }, (ctx) => vpcs.listVpcs(ctx));
  route('POST', '/vpcs', { tag: 'vpc', summary: 'Create a VPC with its main route table', body: Inputs.vpc, response: one('Vpc'), status: 201 }, (ctx, req) =>
    vpcs.createVpc(ctx, body(req)),
  );
  route('GET', '/vpcs/:ref', { tag: 'vpc', summary: 'Show a VPC', response: one('Vpc') }, (ctx, req) => vpcs.getVpc(ctx, ref(req)));
  route('PATCH', '/vpcs/:ref', { tag: 'vpc', summary: 'Rename a VPC, or turn its DNS on or off', body: Inputs.vpcUpdate, response: one('Vpc') }, (ctx, req) =>
    vpcs.updateVpc(ctx, ref(req), body(req)),
  );
  route(
    'DELETE',
    '/vpcs/:ref',
    { tag: 'vpc', summary: 'Delete a VPC (with cascade=true, with everything in it)', query: CascadeQuery, response: one('Vpc') },
    (ctx, req) => vpcs.deleteVpc(ctx, ref(req), { cascade: q<CascadeQuery>(req).cascade === 'true' }),
  );
  route(
    'GET',
    '/vpcs/:ref/dependants',
    { tag: 'vpc', summary: 'What a cascade delete of the VPC removes, in order', response: Type.Array(ResourceRef) },
    (ctx, req) => vpcs.vpcDependants(ctx, ref(req)),
  );

  route('GET', '/subnets', { tag: 'subnet', summary: 'List subnets', query: vpcQuery, response: list('Subnet') }, (ctx, req) =>
    subnets.listSubnets(ctx, q(req)),
  );
  route('POST', '/subnets', { tag: 'subnet', summary: 'Create a subnet', body: Inputs.subnet, response: one('Subnet'), status: 201 }, (ctx, req) =>
    subnets.createSubnet(ctx, body(req)),
  );
  route('GET', '/subnets/:ref', { tag: 'subnet', summary: 'Show a subnet', response: one('Subnet') }, (ctx, req) => subnets.getSubnet(ctx, ref(req)));
  route('PATCH', '/subnets/:ref', { tag: 'subnet', summary: 'Rename a subnet', body: Inputs.rename, response: one('Subnet') }, (ctx, req) =>
    subnets.updateSubnet(ctx, ref(req), body(req)),
  );
  route('DELETE', '/subnets/:ref', { tag: 'subnet', summary: 'Delete a subnet', response: one('Subnet') }, (ctx, req) => subnets.deleteSubnet(ctx, ref(req)));

  const serverQuery = Type.Object({ vpc: Type.Optional(Type.String()), subnet: Type.Optional(Type.String()) }, { additionalProperties: false });
  route('GET', '/servers', { tag: 'server', summary: 'List servers', query: serverQuery, response: list('Server') }, (ctx, req) => {
    const filter = q<{ subnet?: string; vpc?: string }>(req);
    // Unfiltered, the stored documents are the view: sent as stored (the 10,000-resource list).
    const show = (s: Parameters<typeof servers.presentServer>[0]) => servers.presentServer(s, deps.workloads);
    if (!filter.subnet && !filter.vpc && deps.workloads.failing().length === 0) return RawJson.array(servers.serverDocuments(ctx));
    return servers.listServers(ctx, filter).map(show);
  });
  route('POST', '/servers', { tag: 'server', summary: 'Create a server', body: Inputs.server, response: one('Server'), status: 201 }, (ctx, req) =>
    servers.createServer(ctx, body(req)),
  );
  route('GET', '/servers/:ref', { tag: 'server', summary: 'Show a server', response: one('Server') }, (ctx, req) =>
    servers.presentServer(servers.getServer(ctx, ref(req)), deps.workloads),
  );
  route(
    'PATCH',
    '/servers/:ref',
    { tag: 'server', summary: 'Rename a server or change its security groups', body: Inputs.serverUpdate, response: one('Server') },
    (ctx, req) => servers.updateServer(ctx, ref(req), body(req)),
  );
  route('POST', '/servers/:ref/stop', { tag: 'server', summary: 'Stop a server', response: one('Server') }, (ctx, req) =>
    servers.setServerStatus(ctx, ref(req), 'stopped'),
  );
  route('POST', '/servers/:ref/start', { tag: 'server', summary: 'Start a server', response: one('Server') }, (ctx, req) =>
    servers.setServerStatus(ctx, ref(req), 'running'),
  );
  route('DELETE', '/servers/:ref', { tag: 'server', summary: 'Delete a server', response: one('Server') }, (ctx, req) => servers.deleteServer(ctx, ref(req)));

  route('GET', '/security-groups', { tag: 'securityGroup', summary: 'List security groups', response: list('SecurityGroup') }, (ctx) =>
    groups.listSecurityGroups(ctx),
  );
  route(
    'POST',
    '/security-groups',
    { tag: 'securityGroup', summary: 'Create a security group', body: Inputs.securityGroup, response: one('SecurityGroup'), status: 201 },
    (ctx, req) => groups.createSecurityGroup(ctx, body(req)),
  );
  route('GET', '/security-groups/:ref', { tag: 'securityGroup', summary: 'Show a security group', response: one('SecurityGroup') }, (ctx, req) =>
    groups.getSecurityGroup(ctx, ref(req)),
  );
  route(
    'PATCH',
    '/security-groups/:ref',
    { tag: 'securityGroup', summary: 'Rename or describe a security group', body: Inputs.securityGroupUpdate, response: one('SecurityGroup') },
    (ctx, req) => groups.updateSecurityGroup(ctx, ref(req), body(req)),
  );
  route('DELETE', '/security-groups/:ref', { tag: 'securityGroup', summary: 'Delete a security group', response: one('SecurityGroup') }, (ctx, req) =>
    groups.deleteSecurityGroup(ctx, ref(req)),
  );
  route(
    'POST',
    '/security-groups/:ref/rules',
    { tag: 'securityGroup', summary: 'Add a rule', body: Inputs.rule, response: one('SecurityGroup'), status: 201 },
    (ctx, req) => groups.addRule(ctx, ref(req), body(req)),
  );
  route(
    'DELETE',
    '/security-groups/:ref/rules/:ruleId',
    { tag: 'securityGroup', summary: 'Remove a rule', params: Type.Object({ ref: Type.String(), ruleId: Type.String() }), response: one('SecurityGroup') },
    (ctx, req) => groups.removeRule(ctx, ref(req), (req.params as { ruleId: string }).ruleId),
  );

  route('GET', '/route-tables', { tag: 'routeTable', summary: 'List route tables', query: vpcQuery, response: list('RouteTable') }, (ctx, req) =>
    tables.listRouteTables(ctx, q(req)),
  );
  route(
    'POST',
    '/route-tables',
    { tag: 'routeTable', summary: 'Create a route table', body: Inputs.routeTable, response: one('RouteTable'), status: 201 },
    (ctx, req) => tables.createRouteTable(ctx, body(req)),
  );
  route('GET', '/route-tables/:ref', { tag: 'routeTable', summary: 'Show a route table', response: one('RouteTable') }, (ctx, req) =>
    tables.getRouteTable(ctx, ref(req)),
  );
  route('PATCH', '/route-tables/:ref', { tag: 'routeTable', summary: 'Rename a route table', body: Inputs.rename, response: one('RouteTable') }, (ctx, req) =>
    tables.renameRouteTable(ctx, ref(req), body(req)),
  );
  route('DELETE', '/route-tables/:ref', { tag: 'routeTable', summary: 'Delete a route table', response: one('RouteTable') }, (ctx, req) =>
    tables.deleteRouteTable(ctx, ref(req)),
  );
  route(
    'POST',
    '/route-tables/:ref/associations',
    { tag: 'routeTable', summary: 'Associate a subnet', body: Inputs.association, response: one('RouteTable') },
    (ctx, req) => tables.associate(ctx, ref(req), body<{ subnet: string }>(req).subnet),
  );
  route(
    'POST',
    '/subnets/:ref/disassociate',
    { tag: 'routeTable', summary: "Return a subnet to its VPC's main route table", response: one('Subnet') },
    (ctx, req) => tables.disassociate(ctx, ref(req)),
  );
  route(
    'POST',
    '/route-tables/:ref/routes',
    { tag: 'routeTable', summary: 'Add a route', body: Inputs.route, response: one('RouteTable'), status: 201 },
    (ctx, req) => tables.addRoute(ctx, { routeTable: ref(req), ...body<{ destination: string; target: string }>(req) }),
  );
  route(
    'DELETE',
    '/route-tables/:ref/routes',
    {
      tag: 'routeTable',
      summary: 'Remove a route',
      query: Type.Object({ destination: Type.String() }, { additionalProperties: false }),
      response: one('RouteTable'),
    },
    (ctx, req) => tables.removeRoute(ctx, { routeTable: ref(req), destination: q<{ destination: string }>(req).destination }),
  );

  route('GET', '/peerings', { tag: 'peering', summary: 'List peerings (both sides see them)', response: list('Peering') }, (ctx) => peerings.listPeerings(ctx));
  route('POST', '/peerings', { tag: 'peering', summary: 'Request a peering', body: Inputs.peering, response: one('Peering'), status: 201 }, (ctx, req) =>
    peerings.createPeering(ctx, body(req)),
  );
  route('GET', '/peerings/:ref', { tag: 'peering', summary: 'Show a peering', response: one('Peering') }, (ctx, req) => peerings.getPeering(ctx, ref(req)));
  route(
    'POST',
    '/peerings/:ref/dns',
    {
      tag: 'peering',
      summary: "Let the other side resolve your side's names (both sides must allow)",
      body: Inputs.peeringDns,
      response: one('Peering'),
    },
    (ctx, req) => peerings.setPeeringDns(ctx, ref(req), body<{ allow: boolean }>(req).allow),
  );
  route('PATCH', '/peerings/:ref', { tag: 'peering', summary: 'Rename a peering', body: Inputs.rename, response: one('Peering') }, (ctx, req) =>
    peerings.renamePeering(ctx, ref(req), body(req)),
  );
  route('POST', '/peerings/:ref/accept', { tag: 'peering', summary: 'Accept a pending peering', response: one('Peering') }, (ctx, req) =>
    peerings.acceptPeering(ctx, ref(req)),
  );
  route('POST', '/peerings/:ref/reject', { tag: 'peering', summary: 'Reject a pending peering', response: one('Peering') }, (ctx, req) =>
    peerings.rejectPeering(ctx, ref(req)),
  );
  route('DELETE', '/peerings/:ref', { tag: 'peering', summary: 'Delete a peering', response: one('Peering') }, (ctx, req) =>
    peerings.deletePeering(ctx, ref(req)),
  );
}
