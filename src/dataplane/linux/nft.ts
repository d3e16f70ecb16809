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

function chain(name: 'input' | 'output', lines: string[], flows: boolean): string {
  const lo = name === 'input' ? 'iif "lo" accept' : 'oif "lo" accept';
  const dir = name === 'input' ? 'in' : 'out';
  return [
    `  chain ${name} {`,
    `    type filter hook ${name} priority 0; policy drop;`,
    '    ct state established,related accept',
    `    ${lo}`,
    ...lines.map((l) => `    ${l}`),
    ...(flows ? flowUpdates(`rj_${dir}`) : []),
    '  }',
  ].join('\n');
}

/** How long a flow's counters stay in a set once it is idle: longer than the longest capture window (600 s) twice. */
const FLOW_TIMEOUT = '20m';

/**
 * The two sets a count of flows needs: `NAME` keyed by the 5-tuple (tcp, udp), `NAME_x` by
 * addresses and protocol (every other protocol). Each element carries its own packet and byte
 * counter, in the kernel; the flow-log collector reads them (linux/flows.ts), so no packet is
 * copied to user space.
 */
export function flowSets(name: string): string[] {
  const opts = `flags dynamic,timeout; timeout ${FLOW_TIMEOUT}; counter; size 65535;`;
  return [
    `  set ${name} { type ipv4_addr . ipv4_addr . inet_proto . inet_service . inet_service; ${opts} }`,
    `  set ${name}_x { type ipv4_addr . ipv4_addr . inet_proto; ${opts} }`,
  ];
}

/** The statements that count a packet in `name`'s sets; `prefix` narrows them (an ACL rule's match). */
export function flowUpdates(name: string, prefix = '', protocol: string = 'all'): string[] {
  const p = prefix ? `${prefix} ` : '';
  const out: string[] = [];
  if (protocol === 'all' || protocol === 'tcp' || protocol === 'udp')
    out.push(`    ${p}meta l4proto { tcp, udp } update @${name} { ip saddr . ip daddr . meta l4proto . th sport . th dport }`);
  if (protocol !== 'tcp' && protocol !== 'udp')
    out.push(`    ${p}meta nfproto ipv4 meta l4proto != { tcp, udp } update @${name}_x { ip saddr . ip daddr . meta l4proto }`);
  return out;
}

/**
 * A flow-logged server's accepted traffic: base chains after the groups' (priority 10) see
 * only what they accepted, in both directions; what they drop is counted just before their
 * policy drop (`rj_in`, `rj_out`).
 */
function flowChains(): string[] {
  return [
    ...['fl_in', 'fl_out', 'rj_in', 'rj_out'].flatMap(flowSets),
    '  chain flow_in {',
    '    type filter hook input priority 10; policy accept;',
    '    iif "lo" return',
    ...flowUpdates('fl_in'),
    '  }',
    '  chain flow_out {',
    '    type filter hook output priority 10; policy accept;',
    '    oif "lo" return',
    ...flowUpdates('fl_out'),
    '  }',
  ];
}

/** The table body for a server in groups with these rules; `flows` when a flow log watches it. */
export function serverRuleset(rules: SecurityGroupRule[], peerIps: (groupId: string) => string[], flows = false): string {
  const lines = (d: 'ingress' | 'egress') => [
    ...new Set(
      rules
        .filter((r) => r.direction === d)
        .map((r) => match(r, peerIps))
        .filter((l): l is string => l !== null)
        .map((l) => `${l} accept`),
    ),
  ];
  return [chain('input', lines('ingress'), flows), chain('output', lines('egress'), flows), ...(flows ? flowChains() : [])].join('\n');
}

/**
 * A load balancer's namespace also forwards: a kernel listener (l4.ts) dnat's its clients'
 * connections to members. Only such flows pass, admitted as the user-space engine's would be:
 * an ingress rule for the port the client called, and an egress rule for the member. What
 * comes over the public link is not checked on the way in (the user-space engine takes it on
 * a host socket, where no group applies either). Anything else is dropped: the load balancer
 * is not a router.
 */
export function loadBalancerRuleset(rules: SecurityGroupRule[], peerIps: (groupId: string) => string[], publicLink: string, flows = false): string {
  const uniq = (d: 'ingress' | 'egress', original: boolean) => [
    ...new Set(
      rules
        .filter((r) => r.direction === d)
        .map((r) => match(r, peerIps, original))
        .filter((l): l is string => l !== null),
    ),
  ];
  return [
    serverRuleset(rules, peerIps, flows),
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

/**
 * A router answers nothing addressed to itself; it only forwards. With its VPC's DNS on, its
 * resolver takes DNS (udp and tcp 53) at the resolver addresses from the VPC's own subnets,
 * and nothing from a peering or the internet.
 */
export function routerRuleset(dns?: { bridges: string[]; addresses: string[] }): string {
  const lines = ['  chain input {', '    type filter hook input priority 0; policy drop;'];
  if (dns && dns.bridges.length > 0)
    lines.push(
      `    iifname { ${dns.bridges.map((b) => `"${b}"`).join(', ')} } ip daddr { ${dns.addresses.join(', ')} } meta l4proto { udp, tcp } th dport 53 accept`,
    );
  lines.push('  }');
  return lines.join('\n');
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

/** The set a subnet's ACL rule counts what it rejects in, for flow logs: `ar_<bridge>_<i|o>_<number|any>`. */
export function aclRejectSet(bridge: string, direction: 'ingress' | 'egress', number: number | '*'): string {
  return `ar_${bridge}_${direction === 'ingress' ? 'i' : 'o'}_${number === '*' ? 'any' : number}`;
}

/** One ACL rule as nft statements: `return` lets the packet go on to the next check, `drop` ends it (counted first when its subnet is flow-logged). */
function aclStatements(r: AclRule, logged: string | null): string[] {
  const parts: string[] = [];
  const addr = r.direction === 'ingress' ? 'saddr' : 'daddr';
  parts.push(r.cidr === '0.0.0.0/0' ? 'meta nfproto ipv4' : `ip ${addr} ${r.cidr}`);
  if (r.protocol !== 'all') parts.push(`meta l4proto ${r.protocol}`);
  if (r.protocol === 'icmp' && r.icmp) parts.push(`icmp type ${r.icmp.type}${r.icmp.code === undefined ? '' : ` icmp code ${r.icmp.code}`}`);
  if (r.portRange && (r.protocol === 'tcp' || r.protocol === 'udp')) {
    const { from, to } = r.portRange;
    parts.push(`${r.protocol} dport ${rangeText({ from, to })}`);
  }
  if (r.action === 'allow') return [`    ${parts.join(' ')} return`];
  const counted = logged ? flowUpdates(aclRejectSet(logged, r.direction, r.number), parts.join(' '), r.protocol) : [];
  return [...counted, `    ${parts.join(' ')} counter drop comment "acl rule ${r.number}"`];
}

export interface AclSubnet {
  bridge: string;
  rules: AclRule[] | null;
  /** A flow log watches the subnet or one of its endpoints: rejects are counted per rule. */
  logged?: boolean;
}

/**
 * Network ACLs in a VPC router (stateless, no connection tracking in their rules): a packet
 * routed out of a subnet's bridge passes that subnet's outbound rules, one routed into a bridge
 * its inbound rules, lowest number first; an allow goes on to the next check, a deny or no
 * match (`*`) drops. Traffic within a subnet is bridged and never reaches them, as in a cloud.
 * Subnets whose ACL allows everything (`open`) get no chain. In a flow-logged subnet, each
 * deny rule (and `*`) first counts what it drops in sets of its own (nft.ts flowSets).
 */
export function aclRuleset(subnets: AclSubnet[]): string {
  const guarded = subnets.filter((s): s is AclSubnet & { rules: AclRule[] } => s.rules !== null);
  if (guarded.length === 0) return '';
  const ordered = (rules: AclRule[], d: 'ingress' | 'egress') => rules.filter((r) => r.direction === d).sort((a, b) => a.number - b.number);
  const sets = guarded
    .filter((s) => s.logged)
    .flatMap((s) =>
      (['ingress', 'egress'] as const).flatMap((d) => [
        ...ordered(s.rules, d)
          .filter((r) => r.action === 'deny')
          .flatMap((r) => flowSets(aclRejectSet(s.bridge, d, r.number))),
        ...flowSets(aclRejectSet(s.bridge, d, '*')),
      ]),
    );
  const chainOf = (s: AclSubnet & { rules: AclRule[] }, d: 'ingress' | 'egress') => {
    const logged = s.logged ? s.bridge : null;
    return [
      `  chain acl_${d === 'egress' ? 'out' : 'in'}_${s.bridge} {`,
      ...ordered(s.rules, d).flatMap((r) => aclStatements(r, logged)),
      ...(logged ? flowUpdates(aclRejectSet(logged, d, '*')) : []),
      '    counter drop comment "acl rule *"',
      '  }',
    ];
  };
  return [
    ...sets,
    '  chain acl {',
    '    type filter hook forward priority -10; policy accept;',
    ...guarded.map((s) => `    iifname "${s.bridge}" oifname != "${s.bridge}" jump acl_out_${s.bridge}`),
    ...guarded.map((s) => `    oifname "${s.bridge}" iifname != "${s.bridge}" jump acl_in_${s.bridge}`),
    '  }',
    ...guarded.flatMap((s) => [...chainOf(s, 'egress'), ...chainOf(s, 'ingress')]),
  ].join('\n');
}
