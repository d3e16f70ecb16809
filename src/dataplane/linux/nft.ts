/**
 * Security groups as nftables text (pure). One `inet nimbus` table per server namespace:
 * policy drop both ways, established and related traffic accepted (stateful, as cloud
 * security groups are), loopback accepted, then one accept per rule. The text is replaced
 * atomically with `nft -f` (declare, delete, define again in one transaction).
 */
import { rangeText } from '../../core/ports.js';
import type { AclRule, SecurityGroupRule } from '../../core/model/index.js';

export const NFT_TABLE = 'inet nimbus';

/** A rule as an nft match; `original` matches the port a forwarded (dnat'ed) flow was first sent to. */
function match(rule: SecurityGroupRule, peerIps: (groupId: string) => string[], original = false): string | null {
  const parts: string[] = [];
  const dir = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  if ('cidr' in rule.remote) {
    parts.push(rule.remote.cidr === '0.0.0.0/0' ? 'meta nfproto ipv4' : `ip ${dir} ${rule.remote.cidr}`);
  } else {
    const ips = peerIps(rule.remote.groupId);
    if (ips.length === 0) return null;
    parts.push(`ip ${dir} { ${ips.join(', ')} }`);
  }
  if (rule.protocol !== 'all') parts.push(`meta l4proto ${rule.protocol}`);
  if (rule.protocol === 'icmp' && rule.icmp) parts.push(`icmp type ${rule.icmp.type}${rule.icmp.code === undefined ? '' : ` icmp code ${rule.icmp.code}`}`);
  if (rule.portRange && (rule.protocol === 'tcp' || rule.protocol === 'udp')) {
    const { from, to } = rule.portRange;
    const ports = rangeText({ from, to });
    parts.push(original ? `ct original proto-dst ${ports}` : `${rule.protocol} dport ${ports}`);
  }
  return parts.join(' ');
}

function chain(name: 'input' | 'output', lines: string[]): string {
  const lo = name === 'input' ? 'iif "lo" accept' : 'oif "lo" accept';
  return [
    `  chain ${name} {`,
    `    type filter hook ${name} priority 0; policy drop;`,
    '    ct state established,related accept',
    `    ${lo}`,
    ...lines.map((l) => `    ${l}`),
    '  }',
  ].join('\n');
}

/** The table body for a server in groups with these rules. */
export function serverRuleset(rules: SecurityGroupRule[], peerIps: (groupId: string) => string[]): string {
  const lines = (d: 'ingress' | 'egress') => [
    ...new Set(
      rules
        .filter((r) => r.direction === d)
        .map((r) => match(r, peerIps))
        .filter((l): l is string => l !== null)
        .map((l) => `${l} accept`),
    ),
  ];
  return [chain('input', lines('ingress')), chain('output', lines('egress'))].join('\n');
}

/**
 * A load balancer's namespace also forwards: a kernel listener (l4.ts) dnat's its clients'
 * connections to members. Only such flows pass, admitted as the user-space engine's would be:
 * an ingress rule for the port the client called, and an egress rule for the member. What
 * comes over the public link is not checked on the way in (the user-space engine takes it on
 * a host socket, where no group applies either). Anything else is dropped: the load balancer
 * is not a router.
 */
export function loadBalancerRuleset(rules: SecurityGroupRule[], peerIps: (groupId: string) => string[], publicLink: string): string {
  const uniq = (d: 'ingress' | 'egress', original: boolean) => [
    ...new Set(
      rules
        .filter((r) => r.direction === d)
        .map((r) => match(r, peerIps, original))
        .filter((l): l is string => l !== null),
    ),
  ];
  return [
    serverRuleset(rules, peerIps),
    '  chain forward {',
    '    type filter hook forward priority 0; policy drop;',
    '    ct state established,related accept',
    `    ct status dnat iifname "${publicLink}" jump l4_egress`,
    '    ct status dnat jump l4_ingress',
    '  }',
    '  chain l4_ingress {',
    ...uniq('ingress', true).map((l) => `    ${l} jump l4_egress`),
    '  }',
    '  chain l4_egress {',
    ...uniq('egress', false).map((l) => `    ${l} accept`),
    '  }',
  ].join('\n');
}

/** A router answers nothing addressed to itself; it only forwards. */
export function routerRuleset(): string {
  return ['  chain input {', '    type filter hook input priority 0; policy drop;', '  }'].join('\n');
}

export const PORTS_TABLE = 'bridge nimbus_ports';

/**
 * Port security in a router (AWS's source/destination check, OpenStack's port security): on
 * each subnet bridge, a frame that enters from an endpoint's port (a server's or a load
 * balancer's veth end) passes only with that endpoint's own IPv4 source address, or as ARP
 * speaking for it. A server's root can forge packets with a raw socket; they end here, before
 * anything else sees them. Stateless, so no bridge conntrack is needed.
 */
export function portsRuleset(ports: { port: string; ip: string }[]): string {
  if (ports.length === 0) return '';
  return [
    '  chain prerouting {',
    '    type filter hook prerouting priority -200; policy accept;',
    `    iifname vmap { ${ports.map((p) => `"${p.port}" : jump port_${p.port}`).join(', ')} }`,
    '  }',
    ...ports.flatMap((p) => [
      `  chain port_${p.port} {`,
      `    ether type ip ip saddr ${p.ip} return`,
      `    ether type arp arp saddr ip ${p.ip} return`,
      '    counter drop comment "port security: not its own source address"',
      '  }',
    ]),
  ].join('\n');
}

/** The nft script that replaces our table (and a router's port-security table) atomically, carrying `hash` in its comment. */
export function nftScript(body: string, hash: string, ports?: string): string {
  const main = `table ${NFT_TABLE}\ndelete table ${NFT_TABLE}\ntable ${NFT_TABLE} {\n  comment "nimbus ${hash}"\n${body}\n}\n`;
  if (ports === undefined) return main;
  const bridge = `table ${PORTS_TABLE}\ndelete table ${PORTS_TABLE}\n${ports ? `table ${PORTS_TABLE} {\n${ports}\n}\n` : ''}`;
  return main + bridge;
}

/** One ACL rule as an nft statement: `return` lets the packet go on to the next check, `drop` ends it. */
function aclStatement(r: AclRule): string {
  const parts: string[] = [];
  const addr = r.direction === 'ingress' ? 'saddr' : 'daddr';
  parts.push(r.cidr === '0.0.0.0/0' ? 'meta nfproto ipv4' : `ip ${addr} ${r.cidr}`);
  if (r.protocol !== 'all') parts.push(`meta l4proto ${r.protocol}`);
  if (r.protocol === 'icmp' && r.icmp) parts.push(`icmp type ${r.icmp.type}${r.icmp.code === undefined ? '' : ` icmp code ${r.icmp.code}`}`);
  if (r.portRange && (r.protocol === 'tcp' || r.protocol === 'udp')) {
    const { from, to } = r.portRange;
    parts.push(`${r.protocol} dport ${rangeText({ from, to })}`);
  }
  parts.push(r.action === 'allow' ? 'return' : `counter drop comment "acl rule ${r.number}"`);
  return parts.join(' ');
}

/**
 * Network ACLs in a VPC router (stateless, no connection tracking in their rules): a packet
 * routed out of a subnet's bridge passes that subnet's outbound rules, one routed into a bridge
 * its inbound rules, lowest number first; an allow goes on to the next check, a deny or no
 * match (`*`) drops. Traffic within a subnet is bridged and never reaches them, as in a cloud.
 * Subnets whose ACL allows everything (`open`) get no chain.
 */
export function aclRuleset(subnets: { bridge: string; rules: AclRule[] | null }[]): string {
  const guarded = subnets.filter((s): s is { bridge: string; rules: AclRule[] } => s.rules !== null);
  if (guarded.length === 0) return '';
  const ordered = (rules: AclRule[], d: 'ingress' | 'egress') => rules.filter((r) => r.direction === d).sort((a, b) => a.number - b.number);
  return [
    '  chain acl {',
    '    type filter hook forward priority -10; policy accept;',
    ...guarded.map((s) => `    iifname "${s.bridge}" oifname != "${s.bridge}" jump acl_out_${s.bridge}`),
    ...guarded.map((s) => `    oifname "${s.bridge}" iifname != "${s.bridge}" jump acl_in_${s.bridge}`),
    '  }',
    ...guarded.flatMap((s) => [
      `  chain acl_out_${s.bridge} {`,
      ...ordered(s.rules, 'egress').map((r) => `    ${aclStatement(r)}`),
      '    counter drop comment "acl rule *"',
      '  }',
      `  chain acl_in_${s.bridge} {`,
      ...ordered(s.rules, 'ingress').map((r) => `    ${aclStatement(r)}`),
      '    counter drop comment "acl rule *"',
      '  }',
    ]),
  ].join('\n');
}
