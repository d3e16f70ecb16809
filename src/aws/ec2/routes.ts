/**
 * Route tables, their routes and their subnet associations. A route's target is a peering,
 * an internet gateway or a NAT gateway; its state is Nimbus's (blackhole when the target is
 * gone or not active), as AWS derives it.
 */
import { NimbusError } from '../../core/errors.js';
import type { InternetGateway, RouteTable, Subnet } from '../../core/model/index.js';
import type { Ctx } from '../../resources/context.js';
import * as tables from '../../resources/route-table/service.js';
import { AwsError } from '../codec.js';
import { accountId, created, filtered, missing, nameFor, nameTag, need, tagsOut, type Handler, type In, type Out } from './kit.js';

const assocId = (subnetId: string) => `rtbassoc-${subnetId.slice(subnetId.indexOf('-') + 1)}`;
const mainAssocId = (t: RouteTable) => `rtbassoc-${t.id.slice(4)}`;

function targetOut(r: RouteTable['routes'][number]): Out {
  switch (r.target.type) {
    case 'local':
      return { GatewayId: 'local' };
    case 'peering':
      return { VpcPeeringConnectionId: r.target.peeringId };
    case 'internetGateway':
      return { GatewayId: r.target.gatewayId };
    case 'natGateway':
      return { NatGatewayId: r.target.natGatewayId };
    default:
      return {};
  }
}

/** The subnets associated with a table explicitly (the others follow the main table without an association). */
const explicit = (ctx: Ctx, t: RouteTable) => t.subnetIds.filter((id) => ctx.store.get<Subnet>(id, 'subnet')?.explicitRouteTable);

function routeTableOut(ctx: Ctx, t: RouteTable): Out {
  return {
    RouteTableId: t.id,
    VpcId: t.vpcId,
    OwnerId: accountId(ctx.projectId),
    Routes: t.routes.map((r) => ({
      DestinationCidrBlock: r.destination,
      ...targetOut(r),
      State: r.state,
      Origin: r.target.type === 'local' ? 'CreateRouteTable' : 'CreateRoute',
    })),
    Associations: [
      ...(t.main ? [{ Main: true, RouteTableAssociationId: mainAssocId(t), RouteTableId: t.id, AssociationState: { State: 'associated' } }] : []),
      ...explicit(ctx, t).map((id) => ({
        Main: false,
        RouteTableAssociationId: assocId(id),
        RouteTableId: t.id,
        SubnetId: id,
        AssociationState: { State: 'associated' },
      })),
    ],
    PropagatingVgws: [],
    Tags: tagsOut(ctx, t.id, t.name),
  };
}

function routeTarget(ctx: Ctx, input: In): string {
  if (input.VpcPeeringConnectionId) return String(input.VpcPeeringConnectionId);
  if (input.NatGatewayId) return String(input.NatGatewayId);
  if (input.GatewayId) {
    const id = String(input.GatewayId);
    // AWS's answer for a gateway id it does not know (an internet gateway is the one kind Nimbus has).
    const g = id.startsWith('igw-') ? ctx.store.get<InternetGateway>(id, 'internetGateway') : undefined;
    if (!g || g.projectId !== ctx.projectId) throw new NimbusError('InvalidGatewayID.NotFound', `The gateway ID '${id}' does not exist`);
    return id;
  }
  const other = ['InstanceId', 'NetworkInterfaceId', 'TransitGatewayId', 'EgressOnlyInternetGatewayId', 'LocalGatewayId', 'CarrierGatewayId'].find(
    (k) => input[k],
  );
  if (other)
    throw new NimbusError(
      'InvalidParameterValue',
      `${other}: Nimbus routes to peering connections, internet gateways and NAT gateways (VpcPeeringConnectionId, GatewayId, NatGatewayId)`,
    );
  throw new AwsError('MissingParameter', 'a target is required: GatewayId, NatGatewayId or VpcPeeringConnectionId');
}

function destination(input: In): string {
  if (input.DestinationIpv6CidrBlock || input.DestinationPrefixListId)
    throw new NimbusError('InvalidParameterValue', 'Nimbus routes IPv4 CIDRs only (DestinationCidrBlock)');
  if (!input.DestinationCidrBlock) throw new AwsError('MissingParameter', 'DestinationCidrBlock is required (IPv4 only)');
  return String(input.DestinationCidrBlock);
}

export const ROUTES: Record<string, Handler> = {
  CreateRouteTable: (ctx, input) => {
    const vpc = need(input, 'VpcId');
    const name = nameFor(input, 'route-table', 'rtb', () => tables.listRouteTables(ctx).map((t) => t.name));
    return {
      RouteTable: routeTableOut(
        ctx,
        created(ctx, input, 'route-table', () => tables.createRouteTable(ctx, { name, vpc })),
      ),
    };
  },
  DescribeRouteTables: (ctx, input) => {
    const all = tables.listRouteTables(ctx);
    missing(input.RouteTableIds, all, 'InvalidRouteTableID.NotFound', 'route table');
    const found = filtered(ctx, all, input, 'RouteTableIds', (t) => {
      const routes = t.routes.map(targetOut);
      return {
        id: t.id,
        'route-table-id': t.id,
        'vpc-id': t.vpcId,
        'owner-id': accountId(ctx.projectId),
        'association.main': String(t.main),
        'association.subnet-id': explicit(ctx, t),
        'association.route-table-id': t.id,
        'association.route-table-association-id': [...(t.main ? [mainAssocId(t)] : []), ...explicit(ctx, t).map(assocId)],
        'route.destination-cidr-block': t.routes.map((r) => r.destination),
        'route.gateway-id': routes.map((r) => r.GatewayId as string).filter(Boolean),
        'route.nat-gateway-id': routes.map((r) => r.NatGatewayId as string).filter(Boolean),
        'route.vpc-peering-connection-id': routes.map((r) => r.VpcPeeringConnectionId as string).filter(Boolean),
        'route.state': t.routes.map((r) => r.state),
        'route.origin': t.routes.map((r) => (r.target.type === 'local' ? 'CreateRouteTable' : 'CreateRoute')),
        'tag:Name': nameTag(ctx, t.id, t.name),
      };
    });
    return { RouteTables: found.map((t) => routeTableOut(ctx, t)) };
  },
  DeleteRouteTable: (ctx, input) => {
    tables.deleteRouteTable(ctx, need(input, 'RouteTableId'));
    return {};
  },
  CreateRoute: (ctx, input) => {
    tables.addRoute(ctx, { routeTable: need(input, 'RouteTableId'), destination: destination(input), target: routeTarget(ctx, input) });
    return { Return: true };
  },
  ReplaceRoute: (ctx, input) => {
    const dst = destination(input);
    const target = routeTarget(ctx, input);
    const t = tables.getRouteTable(ctx, need(input, 'RouteTableId'));
    if (!t.routes.some((r) => r.destination === dst)) throw new NimbusError('InvalidRoute.NotFound', `no route to ${dst} in route table ${t.id}`);
    tables.removeRoute(ctx, { routeTable: t.id, destination: dst });
    tables.addRoute(ctx, { routeTable: t.id, destination: dst, target });
    return {};
  },
  DeleteRoute: (ctx, input) => {
    tables.removeRoute(ctx, { routeTable: need(input, 'RouteTableId'), destination: destination(input) });
    return {};
  },
  AssociateRouteTable: (ctx, input) => {
    if (!input.SubnetId) throw new AwsError('MissingParameter', 'SubnetId is required (gateways are not associated in Nimbus)');
    tables.associate(ctx, need(input, 'RouteTableId'), String(input.SubnetId));
    return { AssociationId: assocId(String(input.SubnetId)), AssociationState: { State: 'associated' } };
  },
  DisassociateRouteTable: (ctx, input) => {
    const id = String(input.AssociationId ?? '');
    if (!id.startsWith('rtbassoc-')) throw new AwsError('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`);
    tables.disassociate(ctx, `subnet-${id.slice('rtbassoc-'.length)}`);
    return {};
  },
};
