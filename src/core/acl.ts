/**
 * Network ACLs' evaluation (pure): numbered rules, lowest first, the first that matches
 * decides allow or deny; when none matches, the final `*` rule denies. Stateless: a reply is
 * judged like any packet, by the rules of its own direction.
 */
import { rangeText } from './ports.js';
import type { AclRule, StoredAcl, Subnet } from './model/index.js';
import { maskOf, parseCidr } from './cidr.js';

/** A packet as an ACL sees it: its protocol, its destination port (or ICMP type and code), and the remote address. */
export interface AclPacket {
  protocol: 'tcp' | 'udp' | 'icmp';
  port?: number;
  icmpType?: number;
  icmpCode?: number;
  /** The remote end as an integer: the source of an inbound packet, the destination of an outbound one. */
  remote: number;
}

export interface AclVerdict {
  allowed: boolean;
  /** The rule that decided, or null for the final `*` deny. */
  rule: AclRule | null;
}

/** Rules' CIDRs parsed once: the analyzer evaluates them for every path of a reachability matrix. */
const parsed = new Map<string, { net: number; mask: number }>();
function cidrOf(text: string): { net: number; mask: number } {
  let c = parsed.get(text);
  if (!c) {
    const p = parseCidr(text);
    c = { net: p.net, mask: maskOf(p.prefix) };
    parsed.set(text, c);
  }
  return c;
}

export function ruleMatches(r: AclRule, p: AclPacket): boolean {
  if (r.protocol !== 'all' && r.protocol !== p.protocol) return false;
  const c = cidrOf(r.cidr);
  if ((p.remote & c.mask) >>> 0 !== c.net) return false;
  if (r.protocol === 'icmp' && r.icmp) {
    if (p.icmpType !== r.icmp.type) return false;
    if (r.icmp.code !== undefined && p.icmpCode !== r.icmp.code) return false;
  }
  if (r.portRange && (r.protocol === 'tcp' || r.protocol === 'udp')) {
    if (p.port === undefined || p.port < r.portRange.from || p.port > r.portRange.to) return false;
  }
  return true;
}

/** The verdict of the rules of one direction on a packet. */
export function evaluateAcl(rules: AclRule[], direction: 'ingress' | 'egress', p: AclPacket): AclVerdict {
  const ordered = rules.filter((r) => r.direction === direction).sort((a, b) => a.number - b.number);
  for (const r of ordered) if (ruleMatches(r, p)) return { allowed: r.action === 'allow', rule: r };
  return { allowed: false, rule: null };
}

/** A rule as one line: `100 allow tcp 80 from 0.0.0.0/0`. */
export function describeAclRule(r: AclRule): string {
  const what =
    r.protocol === 'all'
      ? 'all'
      : r.protocol === 'icmp'
        ? r.icmp
          ? `icmp ${r.icmp.type}${r.icmp.code === undefined ? '' : `/${r.icmp.code}`}`
          : 'icmp'
        : r.portRange
          ? `${r.protocol} ${rangeText(r.portRange)}`
          : `${r.protocol} all`;
  return `${r.number} ${r.action} ${what} ${r.direction === 'ingress' ? 'from' : 'to'} ${r.cidr}`;
}

/** The rules a new default ACL has: everything allowed both ways (rule 100), as AWS's. */
export function defaultAclRules(): AclRule[] {
  return [
    { number: 100, direction: 'ingress', action: 'allow', protocol: 'all', portRange: null, cidr: '0.0.0.0/0' },
    { number: 100, direction: 'egress', action: 'allow', protocol: 'all', portRange: null, cidr: '0.0.0.0/0' },
  ];
}

/** The ACL a subnet uses: its own, or its VPC's default (none for data made before ACLs: everything allowed). */
export function aclOfSubnet(acls: StoredAcl[], subnet: Subnet): StoredAcl | undefined {
  if (subnet.networkAclId) {
    const own = acls.find((a) => a.id === subnet.networkAclId);
    if (own) return own;
  }
  return acls.find((a) => a.vpcId === subnet.vpcId && a.isDefault);
}

/** Whether an ACL is a default one with the rules it was made with: it allows everything, guards nothing and is not shown on paths. */
export function untouchedDefault(acl: StoredAcl): boolean {
  return acl.isDefault && JSON.stringify(acl.rules) === JSON.stringify(defaultAclRules());
}
