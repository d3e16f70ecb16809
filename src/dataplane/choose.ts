/**
 * Picks the data plane: `virtual`, `linux`, or `auto` (linux when root on Linux with the
 * tools it needs, virtual otherwise, saying why). The linux data plane's name prefix is
 * kept in the data directory, so each installation owns its own kernel objects.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { NimbusError } from '../core/errors.js';
import type { Dataplane } from './driver.js';
import { VirtualDataplane } from './virtual/driver.js';
import { LoopbackGuard } from './virtual/guard.js';
import { LinuxDataplane } from './linux/driver.js';
import { checkPrefix } from './linux/names.js';
import { OvnDataplane } from './ovn/driver.js';
import { ovnUnavailable } from './ovn/fabric.js';

export type DataplaneChoice = 'auto' | 'virtual' | 'linux' | 'ovn';

export interface DataplaneOptions {
  dataDir: string;
  prefix?: string;
  /** The installation's workload range (127.x.0.0/16) as a number: the virtual plane guards it. */
  workloadBase: number;
  /** ovn plane: simulated chassis to start when there is none yet. */
  chassis?: number;
  /** ovn plane: other hosts may join as chassis (`--join-hosts`). */
  joinHosts?: boolean;
}

const TOOLS: [string, string][] = [
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
  ['ping', 'iputils-ping'],
];

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((dir) => dir && existsSync(join(dir, cmd)));
}

/** Why the linux data plane cannot run here, or null when it can. */
export function linuxUnavailable(): string | null {
  if (process.platform !== 'linux') return `this is ${process.platform}, not Linux`;
  if (process.getuid?.() !== 0) return 'not running as root (network namespaces need root)';
  const missing = TOOLS.filter(([cmd]) => !onPath(cmd)).map(([cmd, pkg]) => `${cmd} (Debian package ${pkg})`);
  if (missing.length > 0) return `missing ${missing.join(', ')}; as root run: bash scripts/install-deps.sh`;
  return null;
}

/** The prefix recorded in a data directory, if any. */
export function recordedPrefix(dataDir: string): string | null {
  const file = join(dataDir, 'dataplane-prefix');
  return existsSync(file) ? checkPrefix(readFileSync(file, 'utf8').trim()) : null;
}

/** The installation's prefix: given (and recorded), or the recorded one, or a new one (recorded). */
export function installationPrefix(dataDir: string, given?: string): string {
  const prefix = given ? checkPrefix(given) : (recordedPrefix(dataDir) ?? `nb${randomBytes(2).toString('hex')}`);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'dataplane-prefix'), prefix + '\n');
  return prefix;
}

/** The virtual plane, guarded by nftables when it can be (root on Linux with nft). */
function virtual(reason: string, opts: DataplaneOptions): VirtualDataplane {
  const guarded = process.platform === 'linux' && process.getuid?.() === 0 && onPath('nft');
  return new VirtualDataplane(
    reason,
    guarded ? new LoopbackGuard(opts.workloadBase) : undefined,
    `v${createHash('sha256').update(resolve(opts.dataDir)).digest('hex').slice(0, 8)}`,
  );
}

export async function chooseDataplane(choice: DataplaneChoice, opts: DataplaneOptions): Promise<Dataplane> {
  if (choice === 'virtual') return virtual('chosen with --dataplane virtual', opts);
  const why = linuxUnavailable();
  if (choice === 'ovn') {
    // Its Debian packages are installed when the plane is chosen (as root), not by npm install.
    if (!why && ovnUnavailable() && process.getuid?.() === 0) {
      process.stderr.write("nimbus: installing the ovn data plane's Debian packages (scripts/install-ovn.sh)\n");
      spawnSync('bash', [fileURLToPath(new URL('../../scripts/install-ovn.sh', import.meta.url))], { stdio: ['ignore', 2, 2], timeout: 900_000 });
    }
    const missing = why ?? ovnUnavailable();
    if (missing) throw new NimbusError('Dataplane.Unavailable', `the ovn data plane cannot run: ${missing}`);
    return new OvnDataplane(
      installationPrefix(opts.dataDir, opts.prefix),
      'chosen with --dataplane ovn',
      opts.dataDir,
      opts.chassis ?? 1,
      opts.joinHosts ?? false,
    );
  }
  if (choice === 'linux') {
    if (why) throw new NimbusError('Dataplane.Unavailable', `the linux data plane cannot run: ${why}`);
    return new LinuxDataplane(installationPrefix(opts.dataDir, opts.prefix), 'chosen with --dataplane linux', opts.dataDir);
  }
  if (why) return virtual(`auto: ${why}`, opts);
  return new LinuxDataplane(installationPrefix(opts.dataDir, opts.prefix), 'auto: root on Linux with ip, nft and ping', opts.dataDir);
}
