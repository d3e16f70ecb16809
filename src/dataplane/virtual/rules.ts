/**
 * The virtual data plane's loopback firewall, as nftables text (pure). Workloads share the
 * host's loopback, each on an address of its own and, as root, under a user id of its own
 * (dataplane/user.ts workloadUid). One table per installation, in the output hook, decides
 * every new connection towards this installation's workload range:
 *
 *   - a socket not owned by a workload id (the daemon, its load balancers, the host's own
 *     tools) passes: the host is the operator's, not a tenant's;
 *   - replies of connections already let through pass (security groups are stateful);
 *   - a workload reaches a workload at exactly the tcp/udp ports and icmp the analyzer says
 *     are reachable between their servers (net/services.ts), and anything else is refused.
 *
 * Workload ids of other installations on the host are workload ids too: they are refused.
 */
import type { Topology } from '../../net/topology.js';
import { allowedServices, type PortRange } from '../../net/services.js';
import { WORKLOAD_UID_BASE, WORKLOAD_UID_COUNT, workloadUid } from '../user.js';

/** The table of the installation whose workload range is 127.<second>.0.0/16. */
export function guardTable(rangeBase: number): string {
  return `nimbus_lo_127_${(rangeBase >>> 16) & 0xff}`;
}

function set(ranges: PortRange[]): string {
  return `{ ${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')} }`;
}

/** The whole table: written in one `nft -f` batch that replaces the previous one atomically. */
export function guardRules(t: Topology, rangeBase: number): string {
  const table = guardTable(rangeBase);
  const range = `${rangeBase >>> 24}.${(rangeBase >>> 16) & 0xff}.0.0/16`;
  const workloads = [...t.servers.values()].filter((s) => s.loopbackIp && workloadUid(s.loopbackIp) !== null);
  const lines = [
    `meta skuid != ${WORKLOAD_UID_BASE}-${WORKLOAD_UID_BASE + WORKLOAD_UID_COUNT - 1} accept`,
    `ip daddr != ${range} accept`,
    'ct state established,related accept',
  ];
  for (const src of workloads) {
    const uid = workloadUid(src.loopbackIp)!;
    lines.push(`meta skuid ${uid} ip daddr ${src.loopbackIp} accept comment "${src.id} itself"`);
    for (const dst of workloads) {
      if (dst === src) continue;
      const s = allowedServices(t, src.id, dst.privateIp, dst.id);
      const head = `meta skuid ${uid} ip daddr ${dst.loopbackIp}`;
      const why = `comment "${src.id} -> ${dst.id}"`;
      if (s.tcp.length) lines.push(`${head} tcp dport ${set(s.tcp)} accept ${why}`);
      if (s.udp.length) lines.push(`${head} udp dport ${set(s.udp)} accept ${why}`);
      if (s.icmp) lines.push(`${head} icmp type echo-request accept ${why}`);
    }
  }
  lines.push('meta l4proto tcp reject with tcp reset', 'reject');
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain output {',
    '    type filter hook output priority filter; policy accept;',
    ...lines.map((l) => `    ${l}`),
    '  }',
    '}',
    '',
  ].join('\n');
}
