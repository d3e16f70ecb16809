/**
 * The error catalogue: every refusal Nimbus makes has a stable code, an HTTP status and a
 * message naming the value at fault. Callers compare codes, never messages.
 * docs/errors.md lists the same codes; a test keeps the two equal.
 */

export const ERROR_CATALOGUE = {
  InvalidParameterValue: { status: 400, summary: 'Malformed input: a field is missing, of the wrong type or out of range.' },
  'InvalidVpc.Range': { status: 400, summary: 'A VPC CIDR outside 10/8, 172.16/12 or 192.168/16, or a prefix outside /8–/28.' },
  'InvalidSubnet.Range': { status: 400, summary: 'A subnet CIDR not inside its VPC, or smaller than /28.' },
  'InvalidSubnet.Conflict': { status: 409, summary: 'A subnet CIDR overlapping a sibling subnet of the same VPC.' },
  'InvalidIPAddress.Range': { status: 400, summary: 'A private IP outside its subnet.' },
  'InvalidIPAddress.Reserved': { status: 400, summary: 'A private IP reserved by the cloud: network, gateway or the last three addresses.' },
  'InvalidIPAddress.InUse': { status: 409, summary: 'A private IP already held by another server or load balancer.' },
  InsufficientFreeAddressesInSubnet: { status: 409, summary: 'The subnet has no free address left.' },
  'InvalidGroup.Duplicate': { status: 409, summary: 'A security group name already used in the project.' },
  'InvalidGroup.Reserved': { status: 400, summary: "The name 'default' is reserved for the project's default security group." },
  'InvalidPermission.Duplicate': { status: 409, summary: 'A security group rule equal to one the group already has.' },
  CannotDelete: { status: 409, summary: 'The default security group cannot be deleted.' },
  'InvalidVpcPeeringConnection.OverlappingCidr': { status: 409, summary: 'A peering between VPCs whose CIDRs overlap, or between a VPC and itself.' },
  VpcPeeringConnectionAlreadyExists: { status: 409, summary: 'A second peering between the same two VPCs.' },
  OperationNotPermitted: { status: 409, summary: 'Only the accepter project may accept or reject a peering.' },
  InvalidStateTransition: { status: 409, summary: 'Accepting or rejecting a peering that is not pending acceptance.' },
  RouteAlreadyExists: { status: 409, summary: 'A route whose destination the route table already has.' },
  'InvalidRoute.Conflict': { status: 409, summary: "A route whose destination overlaps its VPC's own CIDR." },
  'InvalidRoute.NotFound': { status: 404, summary: 'No route with that destination in the route table.' },
  DependencyViolation: { status: 409, summary: 'The resource is still used by another one.' },
  NameInUse: { status: 409, summary: 'A name already used by another resource of the same kind in the project.' },
  'InvalidProjectID.NotFound': { status: 404, summary: 'No project with that name or id.' },
  'InvalidVpcID.NotFound': { status: 404, summary: 'No VPC with that name or id in the project.' },
  'InvalidSubnetID.NotFound': { status: 404, summary: 'No subnet with that name or id in the project.' },
  'InvalidServerID.NotFound': { status: 404, summary: 'No server with that name or id in the project.' },
  'InvalidChassis.NotFound': { status: 404, summary: 'No chassis with that name (ovn data plane: nimbus chassis list).' },
  'InvalidChassis.Duplicate': { status: 409, summary: 'A chassis with that name already exists.' },
  'InvalidChassis.Reporting': { status: 409, summary: "A joined host's chassis still reports: the host leaves first (nimbus chassis leave there)." },
  UnsupportedOperation: {
    status: 400,
    summary: 'What the running data plane does not enforce yet (the ovn plane: flow logs); nothing is stored.',
  },
  'InvalidGroupID.NotFound': { status: 404, summary: 'No security group with that name or id in the project.' },
  'InvalidPermission.NotFound': { status: 404, summary: 'No such rule in the security group.' },
  'InvalidRouteTableID.NotFound': { status: 404, summary: 'No route table with that name or id in the project.' },
  'InvalidVpcPeeringConnectionID.NotFound': {
    status: 404,
    summary: 'No peering with that name or id visible to the project, or one the VPC is not a side of.',
  },
  IncorrectInstanceState: { status: 409, summary: 'The server is stopped: it cannot send a ping or run a command until it is started.' },
  'InvalidLoadBalancerID.NotFound': { status: 404, summary: 'No load balancer with that name or id in the project.' },
  'InvalidListenerID.NotFound': { status: 404, summary: 'No listener with that name or id in the project.' },
  'InvalidPoolID.NotFound': { status: 404, summary: 'No pool with that name or id in the project.' },
  'InvalidMemberID.NotFound': { status: 404, summary: 'No member with that name or id in the project.' },
  'InvalidHealthMonitorID.NotFound': { status: 404, summary: 'No health monitor with that name or id in the project.' },
  DuplicateListener: { status: 409, summary: 'A listener port already used on that load balancer.' },
  DuplicateMember: { status: 409, summary: 'A member address and port already in the pool.' },
  DuplicateHealthMonitor: { status: 409, summary: 'A second health monitor for one pool.' },
  'InvalidPool.ProtocolMismatch': { status: 400, summary: 'A listener and a pool of different protocols, or a pool of another load balancer.' },
  'InvalidMember.Unreachable': { status: 400, summary: "A member outside the load balancer's VPC and the VPCs actively peered with it." },
  'InvalidPublicIp.Range': { status: 400, summary: 'A public IP outside the loopback pool 127.0.1.0/24.' },
  'InvalidPublicIp.InUse': { status: 409, summary: 'A public IP already held by another load balancer.' },
  InsufficientPublicIps: { status: 409, summary: 'The public IP pool 127.0.1.0/24 is exhausted.' },
  NotFound: { status: 404, summary: 'No such API path.' },
  AuthFailure: { status: 401, summary: 'No token, or a token Nimbus does not know (or one that was revoked).' },
  UnauthorizedOperation: { status: 403, summary: 'The token may not do this: an operation for admin tokens only.' },
  HostNotAllowed: { status: 403, summary: "The request's Host header does not name this daemon (a DNS-rebinding guard)." },
  UnsupportedMediaType: { status: 415, summary: 'A request body that is not application/json.' },
  'InvalidTokenID.NotFound': { status: 404, summary: 'No token with that name or id.' },
  'InvalidTopology.NotFound': { status: 404, summary: 'No resources owned by a topology file of that name in the project.' },
  TargetGroupNotFound: { status: 404, summary: 'No target group (the AWS-compatible endpoint) with that name or ARN in the project.' },
  'TargetGroup.InUse': { status: 409, summary: 'A target group a listener forwards to, or one bound to another load balancer than the listener being made.' },
  InvalidTopology: { status: 400, summary: 'A topology file with problems: each is listed with its path, line and code; nothing was changed.' },
  ImmutableObject: { status: 409, summary: 'The load balancer is PENDING_*: it and its children take changes once it is ACTIVE (Octavia).' },
  QuotaExceeded: { status: 400, summary: "The project's quota for that kind of resource is used up." },
  RulesPerSecurityGroupLimitExceeded: {
    status: 400,
    summary: "A security group has as many inbound (or outbound) rules as the project's quota allows (AWS's code).",
  },
  RouteLimitExceeded: { status: 400, summary: "A route table has as many routes as the project's quota allows (AWS's code)." },
  ActiveVpcPeeringConnectionPerVpcLimitExceeded: { status: 400, summary: "A VPC has as many active peerings as the project's quota allows (AWS's code)." },
  VpcLimitExceeded: { status: 400, summary: "The project's quota of VPCs is used up (AWS's code for it)." },
  'InvalidInternetGatewayID.NotFound': { status: 404, summary: 'No internet gateway with that name or id in the project.' },
  'InvalidAllocationID.NotFound': { status: 404, summary: 'No elastic IP with that allocation id, name or address in the project.' },
  'InvalidAssociationID.NotFound': { status: 404, summary: 'No elastic IP association with that id in the project.' },
  'InvalidInternetHost.NotFound': { status: 404, summary: 'No internet host with that name, id or address.' },
  NatGatewayNotFound: { status: 404, summary: 'No NAT gateway with that name or id in the project.' },
  'InvalidNetworkAclID.NotFound': { status: 404, summary: 'No network ACL with that name or id in the project.' },
  'InvalidNetworkAclEntry.NotFound': { status: 404, summary: 'No rule with that number and direction in the network ACL.' },
  NetworkAclEntryAlreadyExists: { status: 409, summary: 'A network ACL already has a rule with that number in that direction (AWS numbers them).' },
  NetworkAclLimitExceeded: { status: 400, summary: "A VPC has as many network ACLs as the project's quota allows (AWS's code)." },
  'InvalidFlowLogId.NotFound': { status: 404, summary: 'No flow log with that name or id in the project.' },
  FlowLogAlreadyExists: { status: 409, summary: 'A flow log with the same resource and traffic type exists (AWS allows one).' },
  FlowLogsLimitExceeded: { status: 400, summary: "A resource has as many flow logs as the project's quota allows (AWS allows 2)." },
  'InvalidL7PolicyID.NotFound': { status: 404, summary: 'No L7 policy with that name or id in the project.' },
  'InvalidL7RuleID.NotFound': { status: 404, summary: 'No rule with that id in the L7 policy.' },
  L7PolicyLimitExceeded: { status: 400, summary: 'A listener has 50 L7 policies, or a policy 50 rules.' },
  'InvalidCertificateID.NotFound': { status: 404, summary: 'No certificate with that name or id in the project.' },
  InvalidCertificate: {
    status: 400,
    summary: "A certificate or key that cannot be read, a key that is not the certificate's, or one Nimbus does not serve (AWS: MalformedCertificate).",
  },
  'Certificate.InUse': { status: 409, summary: 'Deleting a certificate a listener still serves (AWS: ResourceInUse).' },
  'InvalidListener.Protocol': { status: 409, summary: 'L7 policies on a TCP listener (they are for HTTP and TERMINATED_HTTPS ones).' },
  NetworkAclEntryLimitExceeded: { status: 400, summary: "A network ACL has as many rules in one direction as the project's quota allows (AWS's code)." },
  'InvalidGatewayID.NotFound': { status: 404, summary: 'A route target naming an internet gateway the project does not have.' },
  'Resource.AlreadyAssociated': {
    status: 409,
    summary: 'An internet gateway already attached, an elastic IP already associated, or a server that already has one.',
  },
  'Gateway.NotAttached': { status: 409, summary: 'An internet gateway that is not attached to the VPC named (or to any).' },
  'InvalidAddress.Locked': {
    status: 409,
    summary: "A load balancer's public IP, or a NAT gateway's, changed through the elastic IP calls: it goes with its holder.",
  },
  InvalidNatGatewayState: { status: 409, summary: 'A NAT gateway that is not available, named as a route target or changed while deleting.' },
  InternetGatewayLimitExceeded: { status: 400, summary: "The project's quota of internet gateways is used up (AWS's code)." },
  AddressLimitExceeded: { status: 400, summary: "The project's quota of elastic IPs is used up (AWS's code)." },
  NatGatewayLimitExceeded: { status: 400, summary: "The project's quota of NAT gateways is used up (AWS's code)." },
  'Dataplane.Unavailable': { status: 409, summary: 'The data plane cannot do this (for example a real command on the virtual data plane).' },
  InternalError: { status: 500, summary: 'An unexpected failure inside Nimbus; the state is unchanged.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** A refusal with a stable code; thrown by services, mapped to `{code, message}` by the API. */
export class NimbusError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** More the answer carries beside code and message (a topology file's problems). */
  readonly extra?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, extra?: Record<string, unknown>) {
    super(message);
    if (extra) this.extra = extra;
    this.name = 'NimbusError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export function invalid(message: string): NimbusError {
  return new NimbusError('InvalidParameterValue', message);
}
