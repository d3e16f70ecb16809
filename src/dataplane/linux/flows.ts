/**
 * Reading the flow counters the kernel keeps (nft.ts flowSets): each element of a flow set is
 * one direction of one flow with its packet and byte counters. Pure: parseFlowSets() turns
 * `nft -j list table` output into samples, unit-tested.
 */

export interface FlowSample {
  /** The set it was counted in: fl_in, fl_out, rj_in, rj_out (an endpoint's), ar_<bridge>_<i|o>_<n|any> (a router's ACL). */
  set: string;
  src: string;
  dst: string;
  /** IANA protocol number. */
  proto: number;
  sport: number;
  dport: number;
  packets: number;
  bytes: number;
}

const PROTO: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, sctp: 132 };

/** A protocol as nft prints it (a name, or a number it has no name for). */
export function protoNumber(p: unknown): number {
  if (typeof p === 'number') return p;
  return PROTO[String(p)] ?? (Number.isInteger(Number(p)) ? Number(p) : 0);
}

interface NftSet {
  set?: { name: string; elem?: { elem?: { val?: { concat?: unknown[] }; counter?: { packets: number; bytes: number } } }[] };
}

/** The flow sets' elements in `nft -j list table inet nimbus` output (sets of other names are skipped). */
export function parseFlowSets(json: string): FlowSample[] {
  const out: FlowSample[] = [];
  let doc: { nftables?: NftSet[] };
  try {
    doc = JSON.parse(json) as { nftables?: NftSet[] };
  } catch {
    return out;
  }
  for (const item of doc.nftables ?? []) {
    const set = item.set;
    if (!set || !/^(fl|rj|ar)_/.test(set.name)) continue;
    const short = set.name.endsWith('_x');
    const name = short ? set.name.slice(0, -2) : set.name;
    for (const e of set.elem ?? []) {
      const v = e.elem?.val?.concat;
      const c = e.elem?.counter;
      if (!v || !c) continue;
      out.push({
        set: name,
        src: String(v[0]),
        dst: String(v[1]),
        proto: protoNumber(v[2]),
        sport: short ? 0 : Number(v[3]),
        dport: short ? 0 : Number(v[4]),
        packets: c.packets,
        bytes: c.bytes,
      });
    }
  }
  return out;
}

/** The table's handle in the same output: a table made anew (rules replaced) has another, and its counters start from zero. */
export function tableHandle(json: string): string {
  const m = /"table":\s*\{[^}]*?"handle":\s*(\d+)/.exec(json);
  return m ? m[1] : '';
}
