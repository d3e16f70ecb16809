/**
 * The kinds of quota a project has, and their defaults (kept free of schema code, so that the
 * CLI can show them without loading TypeBox).
 */
export const QUOTA_KINDS = [
  'vpcs',
  'subnetsPerVpc',
  'servers',
  'securityGroups',
  'inboundRulesPerGroup',
  'outboundRulesPerGroup',
  'routesPerTable',
  'peeringsPerVpc',
  'loadBalancers',
  'listenersPerLoadBalancer',
  'internetGateways',
  'elasticIps',
  'natGateways',
  'networkAclsPerVpc',
  'rulesPerNetworkAcl',
  'flowLogsPerResource',
  'certificates',
] as const;
export type QuotaKind = (typeof QUOTA_KINDS)[number];

/**
 * Per project, like a cloud's defaults (AWS: 5 VPCs, 200 subnets per VPC, 60 inbound and 60
 * outbound rules per group, 50 routes per table, 50 active peerings per VPC, 50 listeners).
 */
export const DEFAULT_QUOTAS: Record<QuotaKind, number> = {
  vpcs: 5,
  subnetsPerVpc: 200,
  servers: 200,
  securityGroups: 500,
  inboundRulesPerGroup: 60,
  outboundRulesPerGroup: 60,
  routesPerTable: 50,
  peeringsPerVpc: 50,
  loadBalancers: 50,
  listenersPerLoadBalancer: 50,
  internetGateways: 5,
  elasticIps: 5,
  natGateways: 5,
  networkAclsPerVpc: 200,
  rulesPerNetworkAcl: 20,
  flowLogsPerResource: 2,
  certificates: 100,
};

/** The code a quota's refusal carries: AWS's where it has one. */
export const QUOTA_CODES: Partial<Record<QuotaKind, string>> = {
  vpcs: 'VpcLimitExceeded',
  inboundRulesPerGroup: 'RulesPerSecurityGroupLimitExceeded',
  outboundRulesPerGroup: 'RulesPerSecurityGroupLimitExceeded',
  routesPerTable: 'RouteLimitExceeded',
  peeringsPerVpc: 'ActiveVpcPeeringConnectionPerVpcLimitExceeded',
  internetGateways: 'InternetGatewayLimitExceeded',
  elasticIps: 'AddressLimitExceeded',
  natGateways: 'NatGatewayLimitExceeded',
  networkAclsPerVpc: 'NetworkAclLimitExceeded',
  rulesPerNetworkAcl: 'NetworkAclEntryLimitExceeded',
  flowLogsPerResource: 'FlowLogsLimitExceeded',
};
