/**
 * The edge's endpoints: internet gateways, elastic IPs and NAT gateways (resources/edge), and
 * the internet's hosts (an admin's: the internet is the installation's, not a project's).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from './context.js';
import { Inputs } from '../core/model/index.js';
import { helpers, routeMaker } from './route.js';
import * as edge from '../resources/edge/service.js';
import { InternetHost, InternetHostInput } from '../core/model/internet.js';
import * as internet from '../resources/edge/internet.js';

export function edgeRoutes(app: FastifyInstance, deps: AppDeps): void {
  const route = routeMaker(app, deps);
  const { ref, body, list, one } = helpers;

  route('GET', '/internet-gateways', { tag: 'edge', summary: 'List internet gateways', response: list('InternetGateway') }, (ctx) =>
    edge.listInternetGateways(ctx),
  );
  route(
    'POST',
    '/internet-gateways',
    {
      tag: 'edge',
      summary: 'Create an internet gateway (attached at once when a VPC is named)',
      body: Inputs.internetGateway,
      response: one('InternetGateway'),
      status: 201,
    },
    (ctx, req) => edge.createInternetGateway(ctx, body(req)),
  );
  route('GET', '/internet-gateways/:ref', { tag: 'edge', summary: 'Show an internet gateway', response: one('InternetGateway') }, (ctx, req) =>
    edge.getInternetGateway(ctx, ref(req)),
  );
  route(
    'PATCH',
    '/internet-gateways/:ref',
    { tag: 'edge', summary: 'Rename an internet gateway', body: Inputs.rename, response: one('InternetGateway') },
    (ctx, req) => edge.renameInternetGateway(ctx, ref(req), body(req)),
  );
  route(
    'POST',
    '/internet-gateways/:ref/attach',
    { tag: 'edge', summary: 'Attach an internet gateway to a VPC', body: Inputs.gatewayAttachment, response: one('InternetGateway') },
    (ctx, req) => edge.attachInternetGateway(ctx, ref(req), body<{ vpc: string }>(req).vpc),
  );
  route(
    'POST',
    '/internet-gateways/:ref/detach',
    { tag: 'edge', summary: 'Detach an internet gateway from its VPC', body: Inputs.gatewayDetachment, response: one('InternetGateway') },
    (ctx, req) => edge.detachInternetGateway(ctx, ref(req), body<{ vpc?: string }>(req)?.vpc),
  );
  route('DELETE', '/internet-gateways/:ref', { tag: 'edge', summary: 'Delete a detached internet gateway', response: one('InternetGateway') }, (ctx, req) =>
    edge.deleteInternetGateway(ctx, ref(req)),
  );

  route('GET', '/elastic-ips', { tag: 'edge', summary: "List elastic IPs (a load balancer's public IP is listed too)", response: list('ElasticIp') }, (ctx) =>
    edge.listAddresses(ctx),
  );
  route(
    'POST',
    '/elastic-ips',
    { tag: 'edge', summary: 'Allocate an elastic IP from the public pool 127.0.1.0/24', body: Inputs.elasticIp, response: one('ElasticIp'), status: 201 },
    (ctx, req) => edge.allocateElasticIp(ctx, body(req)),
  );
  route(
    'GET',
    '/elastic-ips/:ref',
    { tag: 'edge', summary: 'Show an elastic IP (by allocation id, name or address)', response: one('ElasticIp') },
    (ctx, req) => edge.getAddress(ctx, ref(req)),
  );
  route('PATCH', '/elastic-ips/:ref', { tag: 'edge', summary: 'Rename an elastic IP', body: Inputs.rename, response: one('ElasticIp') }, (ctx, req) =>
    edge.renameAddress(ctx, ref(req), body(req)),
  );
  route(
    'POST',
    '/elastic-ips/:ref/associate',
    {
      tag: 'edge',
      summary: 'Associate an elastic IP with a server (its VPC needs an internet gateway)',
      body: Inputs.addressAssociation,
      response: one('ElasticIp'),
    },
    (ctx, req) => edge.associateAddress(ctx, ref(req), body(req)),
  );
  route('POST', '/elastic-ips/:ref/disassociate', { tag: 'edge', summary: 'Disassociate an elastic IP', response: one('ElasticIp') }, (ctx, req) =>
    edge.disassociateAddress(ctx, ref(req)),
  );
  route('DELETE', '/elastic-ips/:ref', { tag: 'edge', summary: 'Release an elastic IP that is not associated', response: one('ElasticIp') }, (ctx, req) =>
    edge.releaseAddress(ctx, ref(req)),
  );

  route('GET', '/nat-gateways', { tag: 'edge', summary: 'List NAT gateways', response: list('NatGateway') }, (ctx) => edge.listNatGateways(ctx));
  route(
    'POST',
    '/nat-gateways',
    { tag: 'edge', summary: 'Create a NAT gateway in a subnet, with an elastic IP', body: Inputs.natGateway, response: one('NatGateway'), status: 201 },
    (ctx, req) => edge.createNatGateway(ctx, body(req)),
  );
  route('GET', '/nat-gateways/:ref', { tag: 'edge', summary: 'Show a NAT gateway', response: one('NatGateway') }, (ctx, req) =>
    edge.getNatGateway(ctx, ref(req)),
  );
  route('PATCH', '/nat-gateways/:ref', { tag: 'edge', summary: 'Rename a NAT gateway', body: Inputs.rename, response: one('NatGateway') }, (ctx, req) =>
    edge.renameNatGateway(ctx, ref(req), body(req)),
  );
  route(
    'DELETE',
    '/nat-gateways/:ref',
    { tag: 'edge', summary: 'Delete a NAT gateway (routes to it turn blackhole)', response: one('NatGateway') },
    (ctx, req) => edge.deleteNatGateway(ctx, ref(req)),
  );

  route(
    'GET',
    '/internet/hosts',
    { tag: 'edge', summary: "The internet's hosts (every installation has an internet of its own)", response: Type.Array(InternetHost) },
    (ctx) => internet.listHosts(ctx),
  );
  route(
    'POST',
    '/internet/hosts',
    { admin: true, tag: 'edge', summary: 'Add a host to the internet (admin)', body: InternetHostInput, response: InternetHost, status: 201 },
    (ctx, req) => internet.addHost(ctx, body(req)),
  );
  route(
    'DELETE',
    '/internet/hosts/:ref',
    { admin: true, tag: 'edge', summary: 'Remove a host from the internet (admin)', response: InternetHost },
    (ctx, req) => internet.removeHost(ctx, ref(req)),
  );
}
