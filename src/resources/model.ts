/**
 * The resources as the API shows them (camelCase JSON). The store keeps each as one JSON
 * document; fields derived from other resources (a route's state) are filled in on read.
 */

export interface Project {
  id: string;
  name: string;
  createdAt: string;
}

export interface Vpc {
  id: string;
  name: string;
  projectId: string;
  cidr: string;
  status: 'available';
  mainRouteTableId: string;
  createdAt: string;
}

export interface Subnet {
  id: string;
  name: string;
  projectId: string;
  vpcId: string;
  cidr: string;
  gatewayIp: string;
  /** The route table the subnet is associated with; the VPC's main table when none is chosen. */
  routeTableId: string;
  /** Whether routeTableId is an explicit association (false: it follows the main table). */
  explicitRouteTable: boolean;
  availableIpCount: number;
  status: 'available';
  createdAt: string;
}

export type Protocol = 'icmp' | 'tcp' | 'udp' | 'all';
export type Direction = 'ingress' | 'egress';

export interface PortRange {
  from: number;
  to: number;
}

export interface SecurityGroupRule {
  id: string;
  direction: Direction;
  protocol: Protocol;
  /** Only for tcp and udp; null means every port. */
  portRange: PortRange | null;
  /** A CIDR, or the id of a security group whose members are the remote end. */
  remote: { cidr: string } | { groupId: string };
  description?: string;
}

export interface SecurityGroup {
  id: string;
  name: string;
  projectId: string;
  description: string;
  isDefault: boolean;
  rules: SecurityGroupRule[];
  createdAt: string;
}

export type ServerStatus = 'running' | 'stopped';

export interface Server {
  id: string;
  name: string;
  projectId: string;
  vpcId: string;
  subnetId: string;
  privateIp: string;
  securityGroupIds: string[];
  app: string | null;
  /** Where its workload listens on the virtual data plane (a loopback address of its own). */
  loopbackIp: string;
  status: ServerStatus;
  createdAt: string;
}

export type RouteTarget = { type: 'local' } | { type: 'peering'; peeringId: string } | { type: 'blackhole' };

export interface Route {
  destination: string;
  target: RouteTarget;
  /** active, or blackhole when its target is a blackhole or a peering that is not active. */
  state: 'active' | 'blackhole';
}

export interface RouteTable {
  id: string;
  name: string;
  projectId: string;
  vpcId: string;
  main: boolean;
  routes: Route[];
  /** Subnets using this table (explicitly, or through the main table). */
  subnetIds: string[];
  createdAt: string;
}

export type PeeringStatus = 'pending-acceptance' | 'active' | 'rejected' | 'deleted';

export interface Peering {
  id: string;
  name: string;
  projectId: string;
  requesterVpcId: string;
  accepterVpcId: string;
  accepterProjectId: string;
  status: PeeringStatus;
  createdAt: string;
}

export type LbProtocol = 'HTTP' | 'TCP';
export type Algorithm = 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'SOURCE_IP';
export type PersistenceType = 'SOURCE_IP' | 'HTTP_COOKIE' | 'APP_COOKIE';
/** Octavia's operating status. */
export type OperatingStatus = 'ONLINE' | 'DEGRADED' | 'OFFLINE' | 'ERROR' | 'NO_MONITOR';

export type ProvisioningStatus = 'ACTIVE' | 'PENDING_CREATE' | 'PENDING_UPDATE';

export interface LoadBalancer {
  id: string;
  name: string;
  projectId: string;
  vpcId: string;
  subnetId: string;
  /** The private front end, an address of its subnet. */
  vip: string;
  /** The public front end: a loopback address of the host, 127.0.1.x. */
  publicIp: string | null;
  /**
   * Octavia's: ACTIVE when the load balancer runs its latest configuration (stored as ACTIVE;
   * the API reports PENDING_CREATE or PENDING_UPDATE while a change is on its way to the worker).
   */
  provisioningStatus: ProvisioningStatus;
  createdAt: string;
}

export interface Listener {
  id: string;
  name: string;
  projectId: string;
  loadBalancerId: string;
  protocol: LbProtocol;
  port: number;
  defaultPoolId: string | null;
  createdAt: string;
}

export interface Pool {
  id: string;
  name: string;
  projectId: string;
  loadBalancerId: string;
  protocol: LbProtocol;
  algorithm: Algorithm;
  sessionPersistence: { type: PersistenceType; cookieName?: string } | null;
  createdAt: string;
}

export interface Member {
  id: string;
  name: string;
  projectId: string;
  poolId: string;
  serverId: string | null;
  address: string;
  port: number;
  weight: number;
  adminStateUp: boolean;
  createdAt: string;
}

export interface HealthMonitor {
  id: string;
  name: string;
  projectId: string;
  poolId: string;
  type: 'TCP' | 'HTTP';
  delay: number;
  timeout: number;
  /** Consecutive successes that bring a member up (Octavia's max_retries). */
  maxRetries: number;
  /** Consecutive failures that take a member down (Octavia's max_retries_down). */
  maxRetriesDown: number;
  urlPath: string;
  expectedCodes: string;
  createdAt: string;
}
