/**
 * Layer-4 load balancing in the kernel (pure): a TCP listener of a load balancer on the linux
 * data plane is nftables rules in the load balancer's namespace, as LVS is in a real cloud's.
 *
 *   table ip nimbus_l4 (in the load balancer's namespace)
 *     map s_<listener>   slot → member address . port, SLOTS slots, each member holding slots
 *                        in proportion to its weight (ROUND_ROBIN: interleaved, so that
 *                        `numgen inc` alternates; SOURCE_IP: by weighted rendezvous hashing, so
 *                        that a member leaving moves only the clients it had)
 *     chain pre          VIP or link address, listener port → dnat through the slots
 *     chain post         whatever was dnat'ed leaves with the VIP as its source (FullNAT: the
 *                        member answers the load balancer, which reverses both translations)
 *     chain count        one verdict-map lookup per forwarded packet (listener port, member
 *                        address and port, from conntrack) jumps to the member's chain m_<l>_<m>,
 *                        which counts new connections, and packets and bytes each way
 *
 *   table ip nimbus_l4_<prefix> (on the host): the public IP's ports dnat'ed over a veth
 *   (host end <prefix>l<hex>, namespace end pub0, link-local /30) to the namespace end,
 *   the source rewritten to the host end (a 127/8 source cannot leave the host's loopback;
 *   route_localnet on the host end lets the rewritten packet be routed at all).
 *
 * Layer-7 listeners do not take this link: their public IP's socket is opened on the host and
 * handed to the engine (HAProxy binds it as a descriptor: lb/haproxy/agent.ts).
 *
 * The namespace table is changed by one `nft -f` transaction of `add` (idempotent) and
 * `flush` commands, so its counters live on across changes and established flows keep their
 * member (NAT is decided on a flow's first packet). The host table's rules stay; its map and set are refilled.
 */
import { createHash } from 'node:crypto';

export const L4_TABLE = 'ip nimbus_l4';
export const SLOTS = 256;
/** The namespace end of the public link. */
export const PUBLIC_LINK = 'pub0';
/** The namespace's interface into its subnet (as for a server). */
export const VPC_LINK = 'eth0';

export interface L4Member {
  id: string;
  ip: string;
  port: number;
  weight: number;
  /** May take new connections: admitted, not failing its health check. (Weight 0 drains.) */
  eligible: boolean;
}

export interface L4Listener {
  id: string;
  port: number;
  algorithm: 'ROUND_ROBIN' | 'SOURCE_IP';
  members: L4Member[];
}

export interface L4Namespace {
  lbId: string;
  vip: string;
  /** The namespace end of the public link, when the load balancer has a public IP. */
  linkAddress: string | null;
  listeners: L4Listener[];
}

const short = (id: string) => id.slice(id.indexOf('-') + 1, id.indexOf('-') + 9);
export const slotMap = (listenerId: string) => `s_${short(listenerId)}`;
export const counterName = (kind: 'n' | 'o' | 'r', listenerId: string, memberId: string) => `${kind}_${short(listenerId)}_${short(memberId)}`;
export const memberChain = (listenerId: string, memberId: string) => `m_${short(listenerId)}_${short(memberId)}`;

/** Smooth weighted round robin (nginx's) over `n` slots: weight 2:1 gives a, b, a, a, b, a... */
export function interleavedSlots(members: { key: string; weight: number }[], n = SLOTS): string[] {
  const live = members.filter((m) => m.weight > 0);
  if (live.length === 0) return [];
  const total = live.reduce((a, m) => a + m.weight, 0);
  const current = live.map(() => 0);
  const out: string[] = [];
  for (let s = 0; s < n; s++) {
    let best = 0;
    for (let i = 0; i < live.length; i++) {
      current[i] += live[i].weight;
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    out.push(live[best].key);
  }
  return out;
}

function unit(text: string): number {
  // 52 bits of a hash, in (0, 1).
  const h = createHash('sha256').update(text).digest();
  return (h.readUIntBE(0, 6) + 0.5) / 2 ** 48;
}

/** Weighted rendezvous hashing per slot: a member's slots move only when it comes or goes. */
export function stableSlots(members: { key: string; weight: number }[], n = SLOTS): string[] {
  const live = members.filter((m) => m.weight > 0);
  if (live.length === 0) return [];
  const out: string[] = [];
  for (let s = 0; s < n; s++) {
    let best = live[0];
    let bestScore = -Infinity;
    for (const m of live) {
      const score = m.weight / -Math.log(unit(`${s}/${m.key}`));
      if (score > bestScore) [best, bestScore] = [m, score];
    }
    out.push(best.key);
  }
  return out;
}

/** Which member each slot holds, as `ip . port`, or none when no member may take connections. */
export function listenerSlots(l: L4Listener): string[] {
  const keyed = l.members.filter((m) => m.eligible).map((m) => ({ key: `${m.ip} . ${m.port}`, weight: m.weight }));
  return l.algorithm === 'SOURCE_IP' ? stableSlots(keyed) : interleavedSlots(keyed);
}

/** A seed per listener, so two listeners do not send a client to the same slot number. */
export function seedOf(listenerId: string): string {
  return `0x${createHash('sha256').update(listenerId).digest('hex').slice(0, 8)}`;
}

/** Names of the maps, counters and member chains in an existing table (from `nft -j list table`). */
export interface L4Objects {
  maps: string[];
  counters: string[];
  /** Member chains (m_...); absent in tables made before they were. */
  chains?: string[];
}

/** The objects a namespace's listeners need. */
export function wantedObjects(ns: L4Namespace): L4Objects {
  return {
    maps: ns.listeners.map((l) => slotMap(l.id)),
    counters: ns.listeners.flatMap((l) => l.members.flatMap((m) => (['n', 'o', 'r'] as const).map((k) => counterName(k, l.id, m.id)))),
    chains: ns.listeners.flatMap((l) => l.members.map((m) => memberChain(l.id, m.id))),
  };
}

/** The nft script that brings a namespace's table to `ns`, deleting what `existing` has that it no longer needs. */
export function namespaceScript(ns: L4Namespace, existing: L4Objects): string {
  const t = L4_TABLE;
  const want = wantedObjects(ns);
  const lines = [
    `add table ${t}`,
    `add chain ${t} pre { type nat hook prerouting priority dstnat; }`,
    `add chain ${t} post { type nat hook postrouting priority srcnat; }`,
    `add chain ${t} count { type filter hook forward priority -10; }`,
    `flush chain ${t} pre`,
    `flush chain ${t} post`,
    `flush chain ${t} count`,
    // The chains that sent the public IP's layer-7 connections to HAProxy over this link, before
    // HAProxy was handed the public socket itself: gone from a namespace made by an older Nimbus.
    `add chain ${t} front_in`,
    `delete chain ${t} front_in`,
    `add chain ${t} front_out`,
    `delete chain ${t} front_out`,
  ];
  for (const c of want.counters) lines.push(`add counter ${t} ${c}`);
  const dests = [ns.vip, ...(ns.linkAddress ? [ns.linkAddress] : [])].join(', ');
  /** listener port . member address . member port → its chain (the first member with that key, should two share it). */
  const flows = new Map<string, string>();
  for (const l of ns.listeners) {
    const map = slotMap(l.id);
    lines.push(`add map ${t} ${map} { typeof numgen inc mod ${SLOTS} : ip daddr . tcp dport; }`, `flush map ${t} ${map}`);
    const slots = listenerSlots(l);
    if (slots.length > 0) {
      lines.push(`add element ${t} ${map} { ${slots.map((s, i) => `${i} : ${s}`).join(', ')} }`);
      const pick = l.algorithm === 'SOURCE_IP' ? `jhash ip saddr mod ${SLOTS} seed ${seedOf(l.id)}` : `numgen inc mod ${SLOTS}`;
      lines.push(`add rule ${t} pre ip daddr { ${dests} } tcp dport ${l.port} dnat ip to ${pick} map @${map}`);
    }
    // Counted whether the member takes new connections or not: its established flows go on.
    for (const m of l.members) {
      const chain = memberChain(l.id, m.id);
      lines.push(`add chain ${t} ${chain}`, `flush chain ${t} ${chain}`);
      lines.push(`add rule ${t} ${chain} ct state new counter name ${counterName('n', l.id, m.id)}`);
      lines.push(`add rule ${t} ${chain} ct direction original counter name ${counterName('o', l.id, m.id)} return`);
      lines.push(`add rule ${t} ${chain} counter name ${counterName('r', l.id, m.id)}`);
      const key = `${l.port} . ${m.ip} . ${m.port}`;
      if (!flows.has(key)) flows.set(key, chain);
    }
  }
  // One lookup per packet, whatever the number of members (a rule per member would be tried in turn).
  if (flows.size > 0) {
    const elements = [...flows].map(([key, chain]) => `${key} : jump ${chain}`).join(', ');
    lines.push(`add rule ${t} count meta l4proto tcp ct original proto-dst . ct reply ip saddr . ct reply proto-src vmap { ${elements} }`);
  }
  lines.push(`add rule ${t} post ct status dnat oifname "${VPC_LINK}" snat ip to ${ns.vip}`);
  for (const m of existing.maps) if (!want.maps.includes(m)) lines.push(`delete map ${t} ${m}`);
  // The count chain no longer jumps to a member chain that goes, and a counter goes after the chain that used it.
  for (const c of existing.chains ?? []) if (!want.chains!.includes(c)) lines.push(`delete chain ${t} ${c}`);
  for (const c of existing.counters) if (!want.counters.includes(c)) lines.push(`delete counter ${t} ${c}`);
  return lines.join('\n') + '\n';
}

/** A namespace's table objects as `nft -j list table` prints them. */
export function parseObjects(json: string): L4Objects {
  const out: L4Objects = { maps: [], counters: [], chains: [] };
  for (const item of (JSON.parse(json) as { nftables?: Record<string, { name?: string }>[] }).nftables ?? []) {
    if (item.map?.name) out.maps.push(item.map.name);
    if (item.counter?.name) out.counters.push(item.counter.name);
    if (item.chain?.name?.startsWith('m_')) out.chains!.push(item.chain.name);
  }
  return out;
}

export interface CounterValue {
  packets: number;
  bytes: number;
}

/** Counter values by name, from `nft -j list counters table ...`. */
export function parseCounters(json: string): Map<string, CounterValue> {
  const out = new Map<string, CounterValue>();
  for (const item of (JSON.parse(json) as { nftables?: { counter?: { name: string; packets: number; bytes: number } }[] }).nftables ?? []) {
    if (item.counter) out.set(item.counter.name, { packets: item.counter.packets, bytes: item.counter.bytes });
  }
  return out;
}

/** The host's table, for one installation. */
export const hostTable = (prefix: string) => `nimbus_l4_${prefix}`;

/** A load balancer's public link: the host end's name and the /30's two addresses. */
export interface PublicLink {
  lbId: string;
  hostLink: string;
  hostAddress: string;
  nsAddress: string;
}

export function hostLinkName(prefix: string, lbId: string): string {
  const hex = lbId.slice(lbId.indexOf('-') + 1).replace(/[^0-9a-f]/g, '');
  return `${prefix}l${hex.slice(0, 14 - prefix.length)}`;
}

/** Link-local /30 blocks for public links: 169.254.128.0/18, away from 169.254.169.254 and the peerings' addresses (inside namespaces). */
const LINK_BLOCKS = 4096;
export function linkBlock(prefix: string, lbId: string, taken: Set<string>): { hostAddress: string; nsAddress: string } {
  let b = parseInt(createHash('sha256').update(`${prefix}/${lbId}`).digest('hex').slice(0, 8), 16) % LINK_BLOCKS;
  const ip = (n: number) => `169.254.${128 + ((n >> 8) & 63)}.${n & 255}`;
  for (let i = 0; i < LINK_BLOCKS; i++, b = (b + 1) % LINK_BLOCKS) {
    const hostAddress = ip(b * 4 + 1);
    const nsAddress = ip(b * 4 + 2);
    if (!taken.has(hostAddress) && !taken.has(nsAddress)) return { hostAddress, nsAddress };
  }
  throw new Error('no free link-local block for a public link');
}

export interface HostEntry {
  publicIp: string;
  port: number;
  link: PublicLink;
}

/**
 * The host table: the public IPs' kernel ports to their namespaces (the map `ports`), and the
 * source rewritten on the way for a kernel listener's (the set `masq`). Its rules never change
 * and are there with no entry at all; a pass only empties and fills the map and the set, in one
 * transaction. That keeps connection tracking on in the host's namespace for the daemon's whole
 * life: the kernel tracks a namespace's connections only once a rule needs it (a nat or ct
 * expression, not an empty nat chain), and a connection made untracked, kept alive to a public
 * socket the daemon holds, would be picked up mid-flow as new when the first entry comes, then
 * dnat'ed to the namespace, which resets it (tested by hand, and by a kept-alive client in
 * test/netns/lb.test.ts). Tracked from its start, it keeps its null binding and its socket.
 * `nimbus dataplane clean` deletes the table.
 */
export function hostScript(prefix: string, entries: HostEntry[]): string {
  const t = `ip ${hostTable(prefix)}`;
  const lines = [
    `add table ${t}`,
    `add map ${t} ports { type ipv4_addr . inet_service : ipv4_addr . inet_service; }`,
    `add set ${t} masq { type ipv4_addr . inet_service; }`,
    `add chain ${t} out { type nat hook output priority -100; }`,
    `add chain ${t} post { type nat hook postrouting priority srcnat; }`,
    `flush chain ${t} out`,
    `flush chain ${t} post`,
    `flush map ${t} ports`,
    `flush set ${t} masq`,
    `add rule ${t} out dnat ip to ip daddr . tcp dport map @ports`,
    `add rule ${t} post ct status dnat ip daddr . tcp dport @masq masquerade`,
  ];
  if (entries.length > 0)
    lines.push(`add element ${t} ports { ${entries.map((e) => `${e.publicIp} . ${e.port} : ${e.link.nsAddress} . ${e.port}`).join(', ')} }`);
  // A kernel listener's flows leave with the host end as their source.
  if (entries.length > 0) lines.push(`add element ${t} masq { ${entries.map((e) => `${e.link.nsAddress} . ${e.port}`).join(', ')} }`);
  return lines.join('\n') + '\n';
}
