/**
 * What private DNS needs from the store (core/dns.ts is the pure part): every VPC with its
 * project's name, the servers, load balancers and active peerings; and a VPC's search list.
 */
import type { Store } from '../store/db.js';
import type { LoadBalancer, Peering, Project, Server, Subnet, Vpc } from '../core/model/index.js';
import { dnsSupport, resolvConf, servedVpcs, subnetResolver, vpcDomain, type DnsWorld } from '../core/dns.js';

/** The VPCs and active peerings: all a search list needs. */
function network(store: Store): Pick<DnsWorld, 'vpcs' | 'peerings'> {
  const projects = new Map(store.list<Project>('project').map((p) => [p.id, p.name]));
  return {
    vpcs: store.list<Vpc>('vpc').map((v) => ({ ...v, projectName: projects.get(v.projectId) ?? v.projectId })),
    peerings: store.list<Peering>('peering').filter((p) => p.status === 'active'),
  };
}

export function dnsWorld(store: Store): DnsWorld {
  return { ...network(store), servers: store.list<Server>('server'), loadBalancers: store.list<LoadBalancer>('loadBalancer') };
}

/**
 * A VPC's servers search its own domain, then those of the peered VPCs whose names they may
 * resolve. Asked for each server a pass places: it reads VPCs, projects and peerings only,
 * never the servers and load balancers.
 */
export function searchDomains(store: Store, vpcId: string): string[] {
  const w: DnsWorld = { ...network(store), servers: [], loadBalancers: [] };
  const byId = new Map(w.vpcs.map((v) => [v.id, v]));
  return servedVpcs(w, vpcId)
    .map((id) => byId.get(id))
    .filter((v): v is DnsWorld['vpcs'][number] => v !== undefined)
    .map((v) => vpcDomain(v.name, v.projectName));
}

/** A server's /etc/resolv.conf: its subnet's resolver and its VPC's domains (a comment when the VPC's DNS is off; none for an internet host). */
export function serverResolvConf(store: Store, endpoint: { id: string; vpcId: string; subnetId: string }): string | undefined {
  if (endpoint.id.startsWith('inet-')) return undefined;
  const vpc = store.get<Vpc>(endpoint.vpcId, 'vpc');
  const subnet = store.get<Subnet>(endpoint.subnetId, 'subnet');
  if (!vpc || !subnet) return undefined;
  if (!dnsSupport(vpc)) return `# Nimbus: DNS support is off in VPC ${vpc.name} (nimbus vpc update ${vpc.name} --dns on)\n`;
  return resolvConf(subnetResolver(subnet.cidr), searchDomains(store, vpc.id));
}
