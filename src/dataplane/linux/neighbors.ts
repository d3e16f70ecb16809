/**
 * The host's neighbor (ARP) table is one for the whole machine, every namespace's entries in
 * it, and Linux keeps at most net.ipv4.neigh.default.gc_thresh3 of them (1,024 by default).
 * A lab of a thousand servers needs more: each server resolves its gateway and its peers,
 * each router its servers. Past the limit the kernel drops new resolutions ("neighbor table
 * overflow") and servers answer only as old entries are collected, a minute later. So the
 * data plane raises the limits to ENTRIES_PER_ENDPOINT per server and load balancer when that
 * is more than the machine allows, as large Kubernetes nodes and Mininet labs do. It never
 * lowers them, and leaves them raised (they are the machine's, and cost a few hundred bytes
 * per entry used). Pure parts here; the reconciler reads and writes /proc.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export const ENTRIES_PER_ENDPOINT = 8;
const THRESH = (n: 2 | 3) => `/proc/sys/net/ipv4/neigh/default/gc_thresh${n}`;

/** The limits to set for `endpoints` servers and load balancers, or null when the machine's allow them. */
export function neighborLimits(endpoints: number, current: { thresh2: number; thresh3: number }): { thresh2: number; thresh3: number } | null {
  const need = endpoints * ENTRIES_PER_ENDPOINT;
  if (need <= current.thresh3) return null;
  return { thresh2: Math.max(current.thresh2, need / 2), thresh3: need };
}

export function readNeighborLimits(): { thresh2: number; thresh3: number } {
  return { thresh2: Number(readFileSync(THRESH(2), 'utf8')), thresh3: Number(readFileSync(THRESH(3), 'utf8')) };
}

/** Raises gc_thresh3 first, so that thresh2 <= thresh3 holds at every moment. */
export function writeNeighborLimits(l: { thresh2: number; thresh3: number }): void {
  writeFileSync(THRESH(3), String(l.thresh3));
  writeFileSync(THRESH(2), String(l.thresh2));
}
