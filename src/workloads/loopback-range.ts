/**
 * The loopback addresses of one installation's workloads on the virtual data plane: a /16 of
 * 127.64.0.0/10 of its own, so two daemons on one host never hand out the same address. The
 * range is chosen at the first start (from the data directory's path, then the next free one),
 * recorded in the data directory, and claimed host-wide in a folder of claims under the
 * system's temporary directory; a claim whose installation is gone is taken over.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { boundAddresses } from '../resources/host-addresses.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const RANGES = 64; // 127.64.0.0/16 to 127.127.0.0/16
const RANGE_FILE = 'workload-range';

function claimsDir(): string {
  return join(tmpdir(), 'nimbus-workload-ranges');
}

function recorded(dataDir: string): number | null {
  try {
    const m = /^127\.(\d+)\.0\.0\/16$/.exec(readFileSync(join(dataDir, RANGE_FILE), 'utf8').trim());
    return m && Number(m[1]) >= 64 && Number(m[1]) < 128 ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Who holds range `second` (127.<second>.0.0/16) now, or null when nobody (or an installation that is gone) does. */
function holder(second: number): string | null {
  try {
    const dir = readFileSync(join(claimsDir(), `127.${second}`), 'utf8').trim();
    return existsSync(dir) && recorded(dir) === second ? dir : null;
  } catch {
    return null;
  }
}

/** The second octets x of the 127.x.y.z addresses that sockets on this host are bound to. */
function boundRanges(): Set<number> {
  const out = new Set<number>();
  for (const ip of boundAddresses()) if (ip >>> 24 === 127) out.add((ip >>> 16) & 0xff);
  return out;
}

/** The first address of this installation's range, as a 32-bit number (its /16's .0.0). */
export function claimWorkloadRange(dataDir: string): number {
  const dir = resolve(dataDir);
  let second = recorded(dir);
  if (second === null) {
    const start = createHash('sha256').update(dir).digest()[0] % RANGES;
    // Skip ranges another installation claims, and ranges something on the host is bound in
    // (a workload left running by a daemon that was killed).
    const bound = boundRanges();
    for (let i = 0; i < RANGES && second === null; i++) {
      const candidate = 64 + ((start + i) % RANGES);
      const h = holder(candidate);
      if ((h === null && !bound.has(candidate)) || h === dir) second = candidate;
    }
    second ??= 64 + start; // all 64 held: share, as before ranges existed
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, RANGE_FILE), `127.${second}.0.0/16\n`);
  }
  mkdirSync(claimsDir(), { recursive: true, mode: 0o1777 });
  try {
    writeFileSync(join(claimsDir(), `127.${second}`), `${dir}\n`);
  } catch {
    // another user's claim file: the data directory's record still holds
  }
  return ((127 << 24) | (second << 16)) >>> 0;
}
