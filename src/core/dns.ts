/**
 * Private DNS (pure): where a VPC's resolver answers, the names it knows, and which VPCs'
 * names it serves. A VPC's resolver answers at 169.254.169.253 (AWS's link-local address) and
 * at each subnet's third-to-last address (Huawei's .253 in a /24, a reserved address no server
 * takes). It knows, for each server of the VPC (and of a peered VPC whose peering lets names
 * through both ways):
 *
 *   NAME.VPC.PROJECT.nimbus.internal   when the VPC has DNS hostnames on (short NAME through the search list)
 *   ip-A-B-C-D.ec2.internal            always (DescribeInstances' PrivateDnsName; short ip-A-B-C-D too)
 *
 * and for each load balancer NAME.lb.VPC.PROJECT.nimbus.internal (and NAME.VPC... when no server
 * of the VPC has that name) at its VIP. Every other name is NXDOMAIN: the resolver never asks
 * anyone else.
 */
import { intToIp, parseCidr } from './cidr.js';

export const RESOLVER_IP = '169.254.169.253';
export const DNS_SUFFIX = 'nimbus.internal';
export const EC2_SUFFIX = 'ec2.internal';

/** A subnet's resolver address: its third-to-last (the .253 of a /24). */
export function subnetResolver(cidr: string): string {
  const c = parseCidr(cidr);
  const size = 2 ** (32 - c.prefix);
  return intToIp((c.net + size - 3) >>> 0);
}

/** A name as a DNS label: lower case, anything not a letter, digit or hyphen a hyphen. */
export function label(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/** The VPC's own domain, the first of its servers' search list. */
export function vpcDomain(vpcName: string, projectName: string): string {
  return `${label(vpcName)}.${label(projectName)}.${DNS_SUFFIX}`;
}

export const ipName = (ip: string) => `ip-${ip.replace(/\./g, '-')}`;

export interface DnsVpc {
  id: string;
  name: string;
  projectName: string;
  enableDnsSupport?: boolean;
  enableDnsHostnames?: boolean;
}

export const dnsSupport = (v: { enableDnsSupport?: boolean; enableDnsHostnames?: boolean }) => v.enableDnsSupport ?? true;
export const dnsHostnames = (v: { enableDnsSupport?: boolean; enableDnsHostnames?: boolean }) => dnsSupport(v) && (v.enableDnsHostnames ?? true);

export interface DnsWorld {
  vpcs: DnsVpc[];
  servers: { name: string; vpcId: string; privateIp: string }[];
  loadBalancers: { name: string; vpcId: string; vip: string }[];
  /** Active peerings and whether each side lets its names be resolved from the other. */
  peerings: { requesterVpcId: string; accepterVpcId: string; requesterDns?: boolean; accepterDns?: boolean }[];
}

/** The VPCs whose names `vpcId`'s resolver serves: its own, and each peer's whose peering lets names through both ways. */
export function servedVpcs(w: DnsWorld, vpcId: string): string[] {
  const out = [vpcId];
  for (const p of w.peerings) {
    if (!p.requesterDns || !p.accepterDns) continue;
    if (p.requesterVpcId === vpcId) out.push(p.accepterVpcId);
    else if (p.accepterVpcId === vpcId) out.push(p.requesterVpcId);
  }
  return out;
}

/** The resolver's records: each address with its names, own VPC first. */
export function hostRecords(w: DnsWorld, vpcId: string): { ip: string; names: string[] }[] {
  const byId = new Map(w.vpcs.map((v) => [v.id, v]));
  const out: { ip: string; names: string[] }[] = [];
  for (const id of servedVpcs(w, vpcId)) {
    const v = byId.get(id);
    if (!v) continue;
    const own = id === vpcId;
    const domain = vpcDomain(v.name, v.projectName);
    const servers = w.servers.filter((s) => s.vpcId === id);
    const serverNames = new Set(servers.map((s) => label(s.name)));
    for (const s of servers) {
      const names: string[] = [];
      if (dnsHostnames(v)) names.push(`${label(s.name)}.${domain}`);
      names.push(`${ipName(s.privateIp)}.${EC2_SUFFIX}`);
      if (own) names.push(ipName(s.privateIp));
      out.push({ ip: s.privateIp, names });
    }
    if (!dnsHostnames(v)) continue;
    for (const lb of w.loadBalancers.filter((l) => l.vpcId === id)) {
      const names = [`${label(lb.name)}.lb.${domain}`];
      if (!serverNames.has(label(lb.name))) names.push(`${label(lb.name)}.${domain}`);
      out.push({ ip: lb.vip, names });
    }
  }
  return out;
}

/** The resolv.conf a server of the VPC gets: its subnet's resolver; its VPC's domain (then peered VPCs' that let names through) and ec2.internal searched. */
export function resolvConf(resolver: string, domains: string[]): string {
  return `# Nimbus: the VPC's resolver (also at ${RESOLVER_IP})\nnameserver ${resolver}\nsearch ${[...domains, EC2_SUFFIX].join(' ')}\noptions timeout:1 attempts:2\n`;
}

/**
 * dnsmasq's arguments for a VPC's resolver: no configuration file, no upstream, no hosts file,
 * every domain local (NXDOMAIN for what it does not know), bound to the resolver addresses as
 * they appear, logging to stderr. Names come as --host-record (first name is the PTR's).
 */
export function dnsmasqArgs(listen: string[], records: { ip: string; names: string[] }[]): string[] {
  return [
    'dnsmasq',
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--pid-file=',
    '--bind-dynamic',
    ...listen.map((a) => `--listen-address=${a}`),
    '--local=/#/',
    '--log-facility=-',
    ...records.map((r) => `--host-record=${[...r.names, r.ip].join(',')}`),
  ];
}
