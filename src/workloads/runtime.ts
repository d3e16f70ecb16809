/**
 * Our programs that run as identities other than the daemon's: a server's web app (as the
 * server's root, a host id of its own) and a load balancer's worker (as the load balancer's
 * id). They cannot be expected to read the installation (a clone in a 0700 folder, under
 * /root), so the build makes each one self-contained file (dist/runtime/) and the daemon, as
 * root, copies them into a folder owned by root that everyone may read, named by their
 * content: /var/lib/nimbus/runtime-<hash>/. Node itself must be where everyone can run it;
 * when it is not, the daemon refuses to start and says why, rather than run a tenant as root.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NimbusError } from '../core/errors.js';

export type RuntimeProgram = 'web' | 'app-host' | 'hand-over' | 'lb-worker' | 'lb-haproxy' | 'internet';
const PROGRAMS: RuntimeProgram[] = ['web', 'app-host', 'hand-over', 'lb-worker', 'lb-haproxy', 'internet'];
const BASE = '/var/lib/nimbus';

/** Where the build put the bundles (dist/runtime), from src/ (tsx) and from dist/ alike. */
const BUILT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../dist/runtime/' : '../runtime/', import.meta.url));

let folder: string | null = null;

/** The first part of `path` (or the file) that a user other than its owner may not traverse or read, or null. */
export function unreadableByOthers(path: string, fileBits = 0o005): string | null {
  const parts = path.split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const p = '/' + parts.slice(0, i).join('/');
    const st = statSync(p);
    const need = i === parts.length ? fileBits : 0o001;
    if ((st.mode & need) !== need) return p;
  }
  return null;
}

/**
 * Makes the programs readable by every identity (as root), or checks they exist (otherwise).
 * Throws a NimbusError naming what is wrong: no fallback to root.
 */
export function prepareRuntime(): void {
  for (const p of PROGRAMS) {
    if (!existsSync(join(BUILT, `${p}.js`))) throw new NimbusError('Dataplane.Unavailable', `${join(BUILT, `${p}.js`)} is missing: run npm run build`);
  }
  if (process.getuid?.() !== 0) {
    folder = BUILT;
    return;
  }
  const node = realpathSync(process.execPath);
  const blocked = unreadableByOthers(node);
  if (blocked) {
    throw new NimbusError(
      'Dataplane.Unavailable',
      `servers and load balancer workers run as identities of their own, and they cannot run node (${node}): ${blocked} is not open to other users. Install Node where every user can run it (for example Debian's nodejs, /usr/bin/node)`,
    );
  }
  const hash = createHash('sha256');
  for (const p of PROGRAMS) hash.update(readFileSync(join(BUILT, `${p}.js`)));
  const dir = join(BASE, `runtime-${hash.digest('hex').slice(0, 16)}`);
  mkdirSync(BASE, { recursive: true, mode: 0o711 });
  chmodSync(BASE, 0o711);
  if (!existsSync(dir)) {
    const tmp = `${dir}.${process.pid}`;
    mkdirSync(tmp, { recursive: true, mode: 0o755 });
    for (const p of PROGRAMS) {
      copyFileSync(join(BUILT, `${p}.js`), join(tmp, `${p}.js`));
      chmodSync(join(tmp, `${p}.js`), 0o644);
    }
    chmodSync(tmp, 0o755);
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another daemon put the same content there first
    }
  }
  folder = dir;
}

/** The argv that runs one of the programs with node. */
export function runtimeEntry(program: RuntimeProgram): string[] {
  if (folder === null) prepareRuntime();
  return [process.execPath, join(folder!, `${program}.js`)];
}
