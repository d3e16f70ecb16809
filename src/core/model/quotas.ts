/**
 * The kinds of quota a project has, and their defaults (kept free of schema code, so that the
 * CLI can show them without loading TypeBox).
 */
export const QUOTA_KINDS = ['vpcs', 'subnetsPerVpc', 'servers', 'securityGroups', 'rulesPerGroup', 'loadBalancers', 'listenersPerLoadBalancer'] as const;
export type QuotaKind = (typeof QUOTA_KINDS)[number];

/** Per project, like a cloud's defaults (AWS: 5 VPCs, 200 subnets per VPC, 60 rules per group, 50 listeners). */
export const DEFAULT_QUOTAS: Record<QuotaKind, number> = {
  vpcs: 5,
  subnetsPerVpc: 200,
  servers: 200,
  securityGroups: 500,
  rulesPerGroup: 60,
  loadBalancers: 50,
  listenersPerLoadBalancer: 50,
};
