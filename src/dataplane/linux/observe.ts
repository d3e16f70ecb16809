/**
 * Reading what a namespace holds: one process per namespace prints its links, addresses,
 * routes, rules, the sysctls we set and the hash in our nftables table; parseObserved()
 * turns that text into data (pure, unit-tested).
 */
import { inNamespace, run, type Runner } from './run.js';
import type { RouteSpec } from './desired.js';

export interface Observed {
  links: Map<string, { kind: string | null; up: boolean; master: string | null; mac?: string }>;
  addrs: Set<string>;
  routes: Map<string, RouteSpec>;
  rules: { pref: number; iif: string; table: number }[];
  sysctl: string;
  nftHash: string | null;
}

export const SEP = '@@nimbus@@';

export const OBSERVE_SCRIPT = [
  'ip -j -d link show',
  `echo ${SEP}`,
  'ip -j addr show',
  `echo ${SEP}`,
  'ip -j route show table all',
  `echo ${SEP}`,
  'ip -j rule show',
  `echo ${SEP}`,
  'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/rp_filter /proc/sys/net/ipv4/conf/default/rp_filter /proc/sys/net/ipv4/conf/all/route_localnet | tr "\\n" " "',
  'ip route show table local type local 127.0.0.0/8 | wc -l',
  `echo ${SEP}`,
  '(nft list table inet nimbus 2>/dev/null || true) | sed -n \'s/.*comment "nimbus \\([0-9a-f]*\\)".*/\\1/p\' | head -n 1',
].join('\n');

/**
 * A route destination in one spelling on both sides: the kernel prints 0.0.0.0/0 as `default`
 * and a /32 without its prefix, while the desired state holds CIDRs as typed. Compared
 * otherwise, such a route was deleted and added again on every full pass.
 */
export function canonicalDst(dst: string): string {
  if (dst === 'default') return '0.0.0.0/0';
  return dst.includes('/') ? dst : `${dst}/32`;
}

export function routeKey(r: { table: number | 'main'; dst: string }): string {
  return `${r.table} ${canonicalDst(r.dst)}`;
}

export function parseObserved(text: string): Observed {
  const [links, addrs, routes, rules, sysctl, nft] = text.split(SEP).map((s) => s.trim());
  const o: Observed = { links: new Map(), addrs: new Set(), routes: new Map(), rules: [], sysctl: sysctl ?? '', nftHash: nft ? nft : null };
  for (const l of JSON.parse(links || '[]') as { ifname: string; flags?: string[]; master?: string; address?: string; linkinfo?: { info_kind?: string } }[]) {
    o.links.set(l.ifname, {
      kind: l.linkinfo?.info_kind ?? null,
      up: (l.flags ?? []).includes('UP'),
      master: l.master ?? null,
      ...(l.address ? { mac: l.address } : {}),
    });
  }
  for (const a of JSON.parse(addrs || '[]') as { ifname: string; addr_info?: { family: string; local: string; prefixlen: number }[] }[]) {
    for (const i of a.addr_info ?? []) if (i.family === 'inet') o.addrs.add(`${a.ifname} ${i.local}/${i.prefixlen}`);
  }
  for (const r of JSON.parse(routes || '[]') as { type?: string; dst: string; dev?: string; gateway?: string; table?: string }[]) {
    const table = r.table === undefined || r.table === 'main' ? 'main' : Number(r.table);
    if (table !== 'main' && Number.isNaN(table)) continue; // local, default: not ours
    const type = r.type === 'blackhole' || r.type === 'unreachable' ? r.type : 'unicast';
    if (r.type && !['unicast', 'blackhole', 'unreachable'].includes(r.type)) continue;
    const spec: RouteSpec = { table, dst: r.dst, type };
    if (r.dev) spec.dev = r.dev;
    if (r.gateway) spec.via = r.gateway;
    o.routes.set(routeKey(spec), spec);
  }
  for (const r of JSON.parse(rules || '[]') as { priority: number; iif?: string; iifname?: string; table?: string }[]) {
    const iif = r.iif ?? r.iifname;
    if (iif && r.table) o.rules.push({ pref: r.priority, iif, table: Number(r.table) });
  }
  return o;
}

/** Names of the namespaces on the machine. */
export async function listNamespaces(runner: Runner = run): Promise<string[]> {
  const r = await runner('ip', ['-j', 'netns', 'list'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ip netns list failed: ${r.stderr.trim()}`);
  const text = r.stdout.trim();
  if (!text) return [];
  return (JSON.parse(text) as { name: string }[]).map((n) => n.name);
}

export async function observe(ns: string, runner: Runner = run): Promise<Observed> {
  const r = await inNamespace(ns, OBSERVE_SCRIPT, undefined, runner);
  if (r.code !== 0) throw new Error(`observing ${ns} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  return parseObserved(r.stdout);
}
