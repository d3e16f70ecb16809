/**
 * Which link-local block of the machine an installation's edge uses (edge.ts): the first slot,
 * from a hash of its prefix on, whose /23 no device of the machine routes, or the one its own
 * uplink already routes (a restart keeps its block).
 */
import { execFileSync } from 'node:child_process';
import { firstSlot, slotBlock, SLOTS, type EdgeSlot } from './edge.js';

interface RouteRow {
  dst: string;
  dev?: string;
}

export function pickSlot(prefix: string, link: string, routes: RouteRow[]): EdgeSlot {
  const used = new Map<string, string | undefined>();
  for (const r of routes) used.set(r.dst.includes('/') ? r.dst : `${r.dst}/32`, r.dev);
  const start = firstSlot(prefix);
  // The one its own uplink routes already, wherever it is (a restart keeps it).
  for (let i = 0; i < SLOTS; i++) {
    const s = slotBlock(start + i);
    if (used.get(`169.254.${s.alias}.0/24`) === link) return s;
  }
  for (let i = 0; i < SLOTS; i++) {
    const s = slotBlock(start + i);
    const uplink = `169.254.${s.alias + 1}.0/30`;
    const taken = [...used.keys()].some((dst) => dst.startsWith(`169.254.${s.alias}.`) || dst.startsWith(`169.254.${s.alias + 1}.`));
    if (!taken && !used.has(uplink)) return s;
  }
  return slotBlock(start);
}

export function chooseSlot(prefix: string, link: string): EdgeSlot {
  let routes: RouteRow[] = [];
  try {
    routes = JSON.parse(execFileSync('ip', ['-j', 'route', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as RouteRow[];
  } catch {
    // no ip(8) or no permission: the first slot (applying will say what is wrong)
  }
  return pickSlot(prefix, link, routes);
}
