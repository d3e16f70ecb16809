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
 *   kernel routing table of a route table   1000 + a number taken from its id
 *   table for traffic that arrived over a peering   PEER_TABLE (the VPC's own subnets only)
 *
 * Interface names stay within the kernel's 15 characters; they live only inside our
 * namespaces, so nothing is created in the host's. Everything an installation owns starts
 * with its prefix, which is what `clean` removes.
 */

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
/** The namespace of a server, or of a load balancer (which the network treats as an endpoint too). */
export const serverNs = (prefix: string, id: string) => (id.startsWith('lb-') ? `${prefix}-lb-${short(id)}` : `${prefix}-ecs-${short(id)}`);
export const bridgeName = (subnetId: string) => `b${short(subnetId)}`;
export const serverPort = (serverId: string) => `v${short(serverId)}`;
export const peeringPort = (peeringId: string) => `p${short(peeringId)}`;

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
  return ns.startsWith(`${prefix}-vpc-`) || ns.startsWith(`${prefix}-ecs-`) || ns.startsWith(`${prefix}-lb-`);
}
