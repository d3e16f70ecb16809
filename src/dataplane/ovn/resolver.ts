/**
 * A VPC's DNS resolver on the ovn plane (pure): OVN routers are not namespaces, so each subnet
 * of a VPC with DNS support gets a resolver endpoint, a namespace plugged like a load balancer's,
 * at the subnet's .253 (the reserved address where the linux plane's resolver answers too), and
 * the linux plane's dnsmasq runs in each. The VPC's first subnet's endpoint also holds
 * 169.254.169.253, AWS's resolver address, which the VPC's router sends there (a static route).
 */
import type { Server, Subnet, Vpc } from '../../core/model/index.js';
import { dnsSupport, RESOLVER_IP, subnetResolver } from '../../core/dns.js';

export { RESOLVER_IP };

/** A subnet's resolver endpoint; `aws`: it also answers at 169.254.169.253. */
export type ResolverEndpoint = Server & { aws: boolean };

/** A VPC's subnets, oldest first (then by id): the first one's resolver answers at 169.254.169.253. */
function subnetsOf(subnets: Subnet[], vpcId: string): Subnet[] {
  return subnets.filter((s) => s.vpcId === vpcId).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** A subnet's resolver endpoint id, after its subnet. */
export const resolverId = (subnet: Subnet) => `dns-${subnet.id.slice(subnet.id.indexOf('-') + 1)}`;

/** The resolver endpoints of the VPCs with DNS support: one per subnet, in no security group. */
export function resolverEndpoints(vpcs: Vpc[], subnets: Subnet[]): ResolverEndpoint[] {
  const out: ResolverEndpoint[] = [];
  for (const v of vpcs) {
    if (!dnsSupport(v)) continue;
    subnetsOf(subnets, v.id).forEach((s, i) =>
      out.push({
        id: resolverId(s),
        name: `${s.name}-resolver`,
        projectId: v.projectId,
        vpcId: v.id,
        subnetId: s.id,
        privateIp: subnetResolver(s.cidr),
        securityGroupIds: [],
        app: null,
        loopbackIp: '',
        status: 'running',
        createdAt: s.createdAt,
        aws: i === 0,
      }),
    );
  }
  return out;
}
