/**
 * How people read the analyzer: a trace as one line per hop (as traceroute prints), and a
 * virtual ping in ping's own format. Pure text from a TraceResult.
 */
import type { Hop, TraceResult } from '../core/model/index.js';

const KIND_LABEL: Record<Hop['kind'], string> = {
  source: 'source',
  'port-security': 'port',
  'network-acl': 'acl',
  'security-group-egress': 'sg egress',
  route: 'route',
  peering: 'peering',
  'internet-gateway': 'igw',
  'nat-gateway': 'nat',
  internet: 'internet',
  delivery: 'delivery',
  'security-group-ingress': 'sg ingress',
  stateful: 'sg stateful',
};

function hopLines(hops: Hop[]): string[] {
  const width = Math.max(12, ...hops.map((h) => h.resourceName.length));
  return hops.map(
    (h, i) => `${String(i + 1).padStart(3)}  ${h.ok ? 'ok  ' : 'DROP'}  ${KIND_LABEL[h.kind].padEnd(11)}  ${h.resourceName.padEnd(width)}  ${h.detail}`,
  );
}

export function formatTrace(r: TraceResult): string {
  const what = r.protocol === 'icmp' ? 'icmp' : `${r.protocol}/${r.port}`;
  const lines = [`trace ${r.source.name} (${r.source.ip}) -> ${r.destination} ${what}`, 'forward:', ...hopLines(r.forward)];
  if (r.return.length > 0) lines.push('return:', ...hopLines(r.return));
  if (r.reachable) {
    lines.push(`verdict: reachable${r.destinationServer ? ` (${r.destinationServer.name})` : ''}`);
  } else {
    const b = r.blockedBy!;
    lines.push(`verdict: unreachable, blocked on the ${b.direction} path at ${b.kind} ${b.resourceName} (${b.resourceId}): ${b.reason}`);
  }
  return lines.join('\n') + '\n';
}

/** Ping's own output for `count` echo requests, answered by the analyzer (no time is measured). */
export function formatVirtualPing(r: TraceResult, count: number): string {
  const dst = r.destination;
  const lines = [`PING ${dst} (${dst}) 56(84) bytes of data. [virtual data plane: answered by the path analyzer]`];
  if (r.reachable) {
    for (let i = 1; i <= count; i++) lines.push(`64 bytes from ${dst}: icmp_seq=${i} ttl=${64 - r.routers}`);
  } else if (r.blockedBy) {
    lines.push(`From ${r.source.ip}: blocked at ${r.blockedBy.kind} ${r.blockedBy.resourceName}: ${r.blockedBy.reason}`);
  }
  const got = r.reachable ? count : 0;
  lines.push('', `--- ${dst} ping statistics ---`, `${count} packets transmitted, ${got} received, ${got === count ? 0 : 100}% packet loss`);
  return lines.join('\n') + '\n';
}
