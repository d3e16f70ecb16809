/**
 * Every kernel object the linux data plane makes is named here, from resource ids.
 *
 *   namespace of a VPC's router     <prefix>-vpc-<8 hex of the vpc id>
 *   namespace of a server           <prefix>-ecs-<8 hex of the server id>
 *   namespace of a load balancer    <prefix>-lb-<8 hex of the load balancer id>
 *   inside a router namespace:
 *     bridge of a subnet            b<8 hex>   (holds the subnet's gateway IP)
 *     router end of a server veth   v<8 hex>   (its other end is eth0 in the server namespace)
 *     end of a peering veth         p<8 hex>   (same name in both routers)
 *   namespace of the internet       <prefix>-inet   (bridge inet0 with 203.0.113.1; up0 to the host)
 *   namespace of an internet host   <prefix>-ih-<8 hex of its id>   (eth0 on inet0)
 *   namespace of a NAT gateway      <prefix>-nat-<8 hex of its id>  (eth0 on its subnet's bridge)
 *   end of an internet gateway veth g<8 hex>   (same name in the router and the internet)
 *   internet end of a host's veth   h<8 hex>
 *   kernel routing table of a route table   1000 + a number taken from its id
 *   table for traffic that arrived over a peering   PEER_TABLE (the VPC's own subnets only)
 *
 * Interface names stay within the kernel's 15 characters; they live only inside our
 * namespaces, so nothing is created in the host's. Everything an installation owns starts
 * with its prefix, which is what `clean` removes.
 */

import { createHash } from 'node:crypto';

export const PEER_TABLE = 50;
export const RULE_PREF = 1000;

function short(id: string): string {
  return id.slice(id.indexOf('-') + 1, id.indexOf('-') + 9);
}

export function checkPrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix)) throw new Error(`prefix '${prefix}' must be 2-8 lowercase letters or digits, starting with a letter`);
  return prefix;
}

export const routerNs = (prefix: string, vpcId: string) => `${prefix}-vpc-${short(vpcId)}`;
/** The namespace of a server, or of a load balancer, a NAT gateway or an internet host (endpoints too). */
export function serverNs(prefix: string, id: string): string {
  if (id.startsWith('lb-')) return `${prefix}-lb-${short(id)}`;
  if (id.startsWith('nat-')) return `${prefix}-nat-${short(id)}`;
  if (id.startsWith('inet-')) return `${prefix}-ih-${short(id)}`;
  if (id.startsWith('dns-')) return `${prefix}-dns-${short(id)}`;
  return `${prefix}-ecs-${short(id)}`;
}
export const internetNs = (prefix: string) => `${prefix}-inet`;
export const gatewayPort = (igwId: string) => `g${short(igwId)}`;
export const hostPort = (hostId: string) => `h${short(hostId)}`;
/** The internet's bridge, and its end of the link to the machine. */
export const INTERNET_BRIDGE = 'inet0';
export const UPLINK = 'up0';
/** The machine's end of the link to the internet. */
export const uplinkHostEnd = (prefix: string) => `${prefix}i0`;
/** The internet's table (every interface's rule points at it): the hosts, the elastic IPs' routes. */
export const INTERNET_TABLE = 60;

/**
 * Link-local addresses of an internet gateway's veth: 169.254.64.0/18, a /30 per gateway,
 * the router's end .1 and the internet's .2 (all gateways meet in one internet namespace, so
 * blocks are allocated over all of them, as peerings' are).
 */
export function gatewayAddresses(igwIds: string[]): Map<string, { router: string; internet: string }> {
  const blocks = 4096;
  const used = new Set<number>();
  const out = new Map<string, { router: string; internet: string }>();
  for (const id of [...igwIds].sort()) {
    let b = parseInt(short(id), 16) % blocks;
    while (used.has(b)) b = (b + 1) % blocks;
    used.add(b);
    const n = 64 * 256 + b * 4;
    const ip = (k: number) => `169.254.${(k >> 8) & 255}.${k & 255}`;
    out.set(id, { router: ip(n + 1), internet: ip(n + 2) });
  }
  return out;
}
export const bridgeName = (subnetId: string) => `b${short(subnetId)}`;
export const serverPort = (serverId: string) => `v${short(serverId)}`;
export const peeringPort = (peeringId: string) => `p${short(peeringId)}`;

/** A bridge's MAC: locally administered, from its name (bridges of one namespace differ by name; namespaces do not share a segment). */
export function bridgeMac(name: string): string {
  const h = createHash('sha256').update(`bridge/${name}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** A stable kernel table number for a route table. */
export function tableNumber(routeTableId: string): number {
  return 1000 + (parseInt(short(routeTableId), 16) % 1_000_000_000);
}

/**
 * Link-local addresses of the two ends of each peering veth: a /30 block of 169.254/16 per
 * peering, the requester .1 and the accepter .2. Blocks must differ between peerings of one
 * router (a router cannot use its own address as a gateway), so they are allocated over all
 * peerings at once: from a hash of the id, the next free block on collision, in id order,
 * which keeps every block stable while its peering lives unless two hashes met.
 */
export function peerAddresses(peeringIds: string[]): Map<string, { requester: string; accepter: string }> {
  const blocks = 16_384;
  const used = new Set<number>();
  const out = new Map<string, { requester: string; accepter: string }>();
  for (const id of [...peeringIds].sort()) {
    let b = parseInt(short(id), 16) % blocks;
    while (used.has(b)) b = (b + 1) % blocks;
    used.add(b);
    const base = b * 4;
    const ip = (n: number) => `169.254.${(n >> 8) & 255}.${n & 255}`;
    out.set(id, { requester: ip(base + 1), accepter: ip(base + 2) });
  }
  return out;
}

/** Whether a namespace is a server's machine (machine.ts), not a router's or a load balancer's. */
export const isMachine = (prefix: string, ns: string) => ns.startsWith(`${prefix}-ecs-`);

/** Whether a namespace name belongs to the installation with this prefix. */
export function owned(prefix: string, ns: string): boolean {
  return (
    ns.startsWith(`${prefix}-vpc-`) ||
    ns.startsWith(`${prefix}-ecs-`) ||
    ns.startsWith(`${prefix}-lb-`) ||
    ns.startsWith(`${prefix}-nat-`) ||
    ns.startsWith(`${prefix}-dns-`) ||
    ns.startsWith(`${prefix}-ih-`) ||
    ns.startsWith(`${prefix}-ovn-`) ||
    ns.startsWith(`${prefix}-ch-`) ||
    ns === `${prefix}-inet`
  );
}
