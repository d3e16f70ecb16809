/**
 * A VPC's DNS resolver on the ovn plane (pure): OVN routers are not namespaces, so the
 * resolver gets an endpoint of its own, a namespace plugged like a load balancer's, in the
 * VPC's first subnet at that subnet's .253 (the reserved address the linux plane's resolver
 * answers at), also holding 169.254.169.253, AWS's resolver address, which the VPC's router
 * sends there (a static route). Servers' resolv.conf names 169.254.169.253, which every subnet
 * reaches through its gateway; the other subnets' .253 do not answer on this plane.
 */
import type { Server, Subnet, Vpc } from '../../core/model/index.js';
import { dnsSupport, RESOLVER_IP, subnetResolver } from '../../core/dns.js';

export { RESOLVER_IP };

/** The subnet a VPC's resolver sits in: its oldest (then lowest id), none when the VPC has no subnet. */
export function resolverSubnet(subnets: Subnet[], vpcId: string): Subnet | undefined {
  return subnets.filter((s) => s.vpcId === vpcId).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))[0];
}

/** The resolver's endpoint id: named after its subnet, so a resolver that moves is a new endpoint. */
export const resolverId = (subnet: Subnet) => `dns-${subnet.id.slice(subnet.id.indexOf('-') + 1)}`;

/** The VPCs' resolver endpoints (those with DNS support and a subnet), as endpoints of their subnet in no security group. */
export function resolverEndpoints(vpcs: Vpc[], subnets: Subnet[]): Server[] {
  const out: Server[] = [];
  for (const v of vpcs) {
    if (!dnsSupport(v)) continue;
    const s = resolverSubnet(subnets, v.id);
    if (!s) continue;
    out.push({
      id: resolverId(s),
      name: `${v.name}-resolver`,
      projectId: v.projectId,
      vpcId: v.id,
      subnetId: s.id,
      privateIp: subnetResolver(s.cidr),
      securityGroupIds: [],
      app: null,
      loopbackIp: '',
      status: 'running',
      createdAt: s.createdAt,
    });
  }
  return out;
}
