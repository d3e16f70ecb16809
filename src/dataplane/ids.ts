/**
 * Host ids that belong to one tenant object alone: a server's machine (its user namespace maps
 * root and 65,535 more ids onto them) or a load balancer's worker (it runs as the first of
 * them). No two objects on the machine share a range, whichever installation made them, so no
 * process of one can signal, trace or read another's.
 *
 * Ranges are claimed in a folder shared by every installation on the machine: one file per
 * range, created exclusively (O_EXCL), holding its owner's name. An owner's range starts at a
 * hash of its name and moves to the next free one on collision; a restart finds the same range
 * again by reading the claims. The ids have no passwd entry; the kernel needs none.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The first host id of the first range: above the system's, the users' and the virtual plane's workload ids. */
export const ID_BASE = 2_000_000_000;
/** Ids per range (a user namespace's 0-65535, as unprivileged containers map). */
export const ID_RANGE = 65_536;
/** Ranges that fit below 2^32 - 1. */
const SLOTS = 32_768;

/** Where the claims are kept (machine-wide, like the namespaces they serve). */
export const CLAIMS_DIR = '/run/nimbus/ids';

function firstSlot(owner: string): number {
  return createHash('sha256').update(owner).digest().readUInt32BE(0) % SLOTS;
}

/** Claims made or found by this process, by owner (a claim never moves while its owner lives). */
const known = new Map<string, number>();

/** The slot `owner` holds in `dir`, read from the claims (a released range may sit before it on its probe path). */
function findSlot(owner: string, dir: string): number | null {
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return null;
  }
  for (const f of files) {
    try {
      if (readFileSync(join(dir, f), 'utf8') === owner) return Number(f);
    } catch {
      // released meanwhile
    }
  }
  return null;
}

/** The first host id of `owner`'s range, claiming one if it has none. */
export function claimIds(owner: string, dir = CLAIMS_DIR): number {
  const cached = known.get(`${dir}\0${owner}`);
  if (cached !== undefined) return cached;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let slot = findSlot(owner, dir);
  for (let i = 0, start = firstSlot(owner); slot === null && i < SLOTS; i++) {
    const s = (start + i) % SLOTS;
    try {
      writeFileSync(join(dir, String(s)), owner, { flag: 'wx', mode: 0o600 });
      slot = s;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (slot === null) throw new Error('every range of host ids is claimed: remove the namespaces of installations that are gone (nimbus dataplane clean)');
  const base = ID_BASE + slot * ID_RANGE;
  known.set(`${dir}\0${owner}`, base);
  return base;
}

/** Gives `owner`'s range back. */
export function releaseIds(owner: string, dir = CLAIMS_DIR): void {
  known.delete(`${dir}\0${owner}`);
  const slot = findSlot(owner, dir);
  if (slot !== null) rmSync(join(dir, String(slot)), { force: true });
}

/** Gives back every range whose owner's name starts with `prefix` (an installation's clean-up). */
export function releaseIdsOf(prefix: string, dir = CLAIMS_DIR): number {
  let n = 0;
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const f of files) {
    try {
      if (!readFileSync(join(dir, f), 'utf8').startsWith(prefix)) continue;
    } catch {
      continue;
    }
    rmSync(join(dir, f), { force: true });
    n++;
  }
  for (const k of known.keys()) {
    if (k.startsWith(`${dir}\0${prefix}`)) known.delete(k);
  }
  return n;
}
