/**
 * The edge on the linux data plane (pure): what the internet's namespace, its hosts, NAT
 * gateways and the VPC routers' gateway ends hold, and the host's table that lets the machine
 * reach elastic IPs.
 *
 *   <prefix>-inet     bridge inet0 (203.0.113.1/24) with each host's veth end h<id>; a veth
 *                     g<igw> to each VPC router whose VPC has an internet gateway attached
 *                     (169.254.64.0/18, a /30 each); up0 to the machine (its end <prefix>i0).
 *                     Each associated elastic IP (127.0.1.N/32) is routed to its VPC's g link.
 *                     What comes from the machine is translated: the destination from the
 *                     link-local alias of the EIP to the EIP, the source to 203.0.113.1. Nothing
 *                     new goes toward the machine. 127/8 is routable here (route_localnet, and
 *                     only 127.0.0.1 is local), as the public pool lives there.
 *   <prefix>-ih-<id>  an internet host: eth0 on inet0, default route via 203.0.113.1, the
 *                     same 127/8 treatment; its app (apps/internet.ts) runs inside.
 *   <prefix>-nat-<id> a NAT gateway: eth0 on its subnet's bridge with its ENI address; it
 *                     forwards the VPC's packets outward with its own address as source
 *                     (masquerade) and takes nothing new from outside.
 *   VPC router        g<igw> with a rule to PEER_TABLE (own subnets only); DNAT of each
 *                     elastic IP to its private address on the way in, SNAT on the way out;
 *                     a packet leaving through g whose source has no elastic IP is dropped
 *                     (AWS's internet gateway translates only addresses that have one).
 *   the machine       table ip nimbus_edge_<prefix>: an EIP's packets are sent to its
 *                     link-local alias in 169.254.S.0/24 (S per installation) over <prefix>i0.
 */
import { createHash } from 'node:crypto';
import { INTERNET_CIDR, INTERNET_ROUTER } from '../../core/model/internet.js';
import type { ElasticIp, InternetGateway, InternetHost, NatGateway } from '../../core/model/index.js';

/** The installation's link-local block on the machine: S = 2k (EIP aliases) and S+1 (the uplink /30). */
export interface EdgeSlot {
  /** Third octet of the EIP aliases' /24. */
  alias: number;
}

export const SLOTS = 60;

/** The first slot to try for a prefix (the next ones when the machine already routes it). */
export function firstSlot(prefix: string): number {
  return createHash('sha256').update(`edge/${prefix}`).digest().readUInt16BE(0) % SLOTS;
}

export function slotBlock(k: number): EdgeSlot {
  return { alias: 4 + 2 * (k % SLOTS) };
}

export const uplinkHost = (s: EdgeSlot) => `169.254.${s.alias + 1}.1`;
export const uplinkInternet = (s: EdgeSlot) => `169.254.${s.alias + 1}.2`;
export const aliasOf = (s: EdgeSlot, publicIp: string) => `169.254.${s.alias}.${publicIp.split('.')[3]}`;

/** An elastic IP mapped to a private address of a VPC (a server's or a NAT gateway's). */
export interface Mapping {
  publicIp: string;
  privateIp: string;
  vpcId: string;
  /** A load balancer's public IP: the machine reaches it on its own (its engine), not through the internet. */
  loadBalancer?: boolean;
}

export interface EdgeInputs {
  gateways: InternetGateway[];
  mappings: Mapping[];
  hosts: InternetHost[];
  nats: NatGateway[];
}

/** The mapped elastic IPs, given where their holders are. */
export function mappings(eips: ElasticIp[], vpcOf: (endpointId: string) => string | undefined): Mapping[] {
  const out: Mapping[] = [];
  for (const e of eips) {
    const holder = e.serverId ?? e.natGatewayId;
    const vpcId = holder ? vpcOf(holder) : undefined;
    if (holder && vpcId && e.privateIp) out.push({ publicIp: e.publicIp, privateIp: e.privateIp, vpcId, ...(e.loadBalancerId ? { loadBalancer: true } : {}) });
  }
  return out.sort((a, b) => a.publicIp.localeCompare(b.publicIp));
}

/** Whether the installation needs its internet: a gateway exists, or a host was added. */
export function internetWanted(e: EdgeInputs): boolean {
  return e.gateways.length > 0 || e.hosts.some((h) => !h.builtIn);
}

/** The router's NAT and filter for its internet gateway's link. */
export function routerEdgeRules(port: string, mapped: Mapping[]): string {
  const lines = [
    '  chain edge_in {',
    '    type nat hook prerouting priority dstnat;',
    ...(mapped.length > 0 ? [`    iifname "${port}" dnat ip to ip daddr map { ${mapped.map((m) => `${m.publicIp} : ${m.privateIp}`).join(', ')} }`] : []),
    '  }',
    '  chain edge_out {',
    '    type nat hook postrouting priority srcnat;',
    ...(mapped.length > 0 ? [`    oifname "${port}" snat ip to ip saddr map { ${mapped.map((m) => `${m.privateIp} : ${m.publicIp}`).join(', ')} }`] : []),
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    ...(mapped.length > 0 ? [`    oifname "${port}" ip saddr { ${mapped.map((m) => m.privateIp).join(', ')} } accept`] : []),
    `    oifname "${port}" counter drop comment "no elastic IP: the internet gateway does not translate it"`,
    `    iifname "${port}" ct state established,related accept`,
    `    iifname "${port}" ct status dnat accept`,
    `    iifname "${port}" drop`,
    '  }',
  ];
  return lines.join('\n');
}

/** A NAT gateway's namespace: forwards its VPC's packets outward as itself, takes nothing new from outside. */
export function natRuleset(natIp: string, vpcCidr: string): string {
  return [
    '  chain input {',
    '    type filter hook input priority 0; policy drop;',
    '    ct state established,related accept',
    '    iif "lo" accept',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy drop;',
    '    ct state established,related accept',
    `    iifname "eth0" ip saddr ${vpcCidr} ip daddr != ${vpcCidr} accept`,
    '  }',
    '  chain post {',
    '    type nat hook postrouting priority srcnat;',
    `    oifname "eth0" ip saddr != ${natIp} ip daddr != ${vpcCidr} snat ip to ${natIp}`,
    '  }',
  ].join('\n');
}

/** The internet's router: the machine's connections come in translated; nothing new goes out to it. */
export function internetRuleset(slot: EdgeSlot, uplink: string, mapped: Mapping[]): string {
  return [
    '  chain input {',
    '    type filter hook input priority 0; policy drop;',
    '    ct state established,related accept',
    '  }',
    '  chain from_machine {',
    '    type nat hook prerouting priority dstnat;',
    ...(mapped.length > 0
      ? [`    iifname "${uplink}" dnat ip to ip daddr map { ${mapped.map((m) => `${aliasOf(slot, m.publicIp)} : ${m.publicIp}`).join(', ')} }`]
      : []),
    '  }',
    '  chain as_router {',
    '    type nat hook postrouting priority srcnat;',
    `    iifname "${uplink}" snat ip to ${INTERNET_ROUTER}`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    `    oifname "${uplink}" ct direction original counter drop comment "nothing new goes to the machine"`,
    '  }',
  ].join('\n');
}

/** A host of the internet has no firewall of its own. */
export const OPEN_RULESET = ['  chain input {', '    type filter hook input priority 0; policy accept;', '  }'].join('\n');

/**
 * Sets a namespace where the public pool (127.0.1.0/24) must be routable: 127/8 not local but
 * 127.0.0.1, and packets with 127/8 addresses accepted on its links.
 */
export const ROUTABLE_LOOPBACK_SCRIPT = [
  'sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.default.route_localnet=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0',
  'ip route replace local 127.0.0.1 dev lo table local',
  'ip route del local 127.0.0.0/8 dev lo table local 2>/dev/null || true',
].join('\n');

/** The machine's side: its end of the uplink, the route to the aliases and the table that sends EIPs there. */
export function machineScript(prefix: string, link: string, slot: EdgeSlot, mapped: Mapping[]): string {
  const t = `ip nimbus_edge_${prefix}`;
  const lines = [
    `ip link show ${link} >/dev/null 2>&1 || exit 0`,
    `ip addr replace ${uplinkHost(slot)}/30 dev ${link}`,
    `sysctl -qw net.ipv4.conf.${link}.route_localnet=1`,
    `ip link set ${link} up`,
    `ip route replace 169.254.${slot.alias}.0/24 via ${uplinkInternet(slot)} dev ${link}`,
    `nft -f - <<'NIMBUS_EOF'`,
    `table ${t}`,
    `delete table ${t}`,
  ];
  if (mapped.length > 0) {
    lines.push(
      `table ${t} {`,
      `  chain out {`,
      `    type nat hook output priority -100;`,
      `    dnat ip to ip daddr map { ${mapped.map((m) => `${m.publicIp} : ${aliasOf(slot, m.publicIp)}`).join(', ')} }`,
      `  }`,
      `  chain post {`,
      `    type nat hook postrouting priority srcnat;`,
      `    ct status dnat oifname "${link}" masquerade`,
      `  }`,
      `}`,
    );
  }
  lines.push('NIMBUS_EOF');
  return lines.join('\n') + '\n';
}

export const INTERNET_PREFIX = Number(INTERNET_CIDR.split('/')[1]);
