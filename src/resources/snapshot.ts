/**
 * Reads the whole desired state (every project) into the analyzer's snapshot type. A load
 * balancer takes part in the network as an endpoint of its subnet: its VIP, in its
 * project's default security group; so the analyzer explains paths from and to it, and the
 * linux data plane gives it a namespace of its own.
 */
import type { Store } from '../store/db.js';
import type { Snapshot, SnapshotRouteTable } from '../net/topology.js';
import type { ElasticIp, InternetGateway, LoadBalancer, NatGateway, SecurityGroup, Server } from '../core/model/index.js';
import { internetHosts } from './edge/internet.js';
import { lbAddress } from './edge/service.js';

export function lbEndpoint(lb: LoadBalancer, groups: SecurityGroup[]): Server {
  const def = groups.find((g) => g.projectId === lb.projectId && g.isDefault);
  return {
    id: lb.id,
    name: lb.name,
    projectId: lb.projectId,
    vpcId: lb.vpcId,
    subnetId: lb.subnetId,
    privateIp: lb.vip,
    securityGroupIds: def ? [def.id] : [],
    app: null,
    loopbackIp: '',
    status: 'running',
    createdAt: lb.createdAt,
  };
}

/** A NAT gateway as an endpoint of its subnet: its ENI address, in no security group (AWS's have none). */
export function natEndpoint(nat: NatGateway): Server {
  return {
    id: nat.id,
    name: nat.name,
    projectId: nat.projectId,
    vpcId: nat.vpcId,
    subnetId: nat.subnetId,
    privateIp: nat.privateIp,
    securityGroupIds: [],
    app: null,
    loopbackIp: '',
    status: 'running',
    createdAt: nat.createdAt,
  };
}

export function readSnapshot(store: Store): Snapshot {
  const securityGroups = store.list<SecurityGroup>('securityGroup');
  const lbs = store.list<LoadBalancer>('loadBalancer').map((lb) => lbEndpoint(lb, securityGroups));
  const natGateways = store.list<NatGateway>('natGateway');
  return {
    vpcs: store.list('vpc'),
    subnets: store.list('subnet'),
    servers: [...store.list<Server>('server'), ...lbs, ...natGateways.map(natEndpoint)],
    securityGroups,
    routeTables: store.list<SnapshotRouteTable>('routeTable'),
    peerings: store.list('peering'),
    networkAcls: store.list('networkAcl'),
    flowLogs: store.list('flowLog'),
    internetGateways: store.list<InternetGateway>('internetGateway'),
    // A public load balancer's address maps to its VIP at its VPC's internet gateway, as an elastic IP does (Huawei shows it as one).
    elasticIps: [
      ...store.list<ElasticIp>('elasticIp'),
      ...store
        .list<LoadBalancer>('loadBalancer')
        .filter((lb) => lb.publicIp)
        .map((lb) => ({ ...lbAddress(lb), serverId: lb.id })),
    ],
    natGateways,
    internetHosts: internetHosts(store),
  };
}
