/**
 * Where a load balancer's worker keeps what it writes itself: its access log (which it
 * rotates) and its control socket. The worker parses tenants' traffic, so it runs as an id of
 * its load balancer's own, which owns this folder (0700): no server and no other load
 * balancer's worker can reach its socket or read its log. The data directory may sit
 * where it cannot reach (under /root), so the folder is under /var/lib/nimbus instead, one per
 * installation (a hash of the data directory's path), made by root: no other local user can
 * plant a link there. A daemon that is not root (no privilege to drop) keeps it in the data
 * directory, as before.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dropsPrivilege, type RunAs } from '../dataplane/user.js';

const BASE = '/var/lib/nimbus';

/** The worker's own folder. */
export function workerDir(dataDir: string, lbId: string): string {
  return dropsPrivilege() ? join(workerBase(dataDir), lbId) : join(dataDir, 'lb', lbId);
}

/** The installation's folder of worker folders (under /var/lib/nimbus), for clean-up. */
export function workerBase(dataDir: string): string {
  return join(BASE, `lb-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`);
}

/**
 * The app host's folder (the servers' request logs, app-host.ts): kept when the daemon stops,
 * as a server's log outlives a restart; removed by `dataplane clean`.
 */
export function appsBase(dataDir: string): string {
  return join(BASE, `apps-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`);
}

/** Every folder of the installation's under /var/lib/nimbus, for clean-up. */
export function installationFolders(dataDir: string): string[] {
  return [workerBase(dataDir), appsBase(dataDir)];
}

/** Makes the folder, owned by the worker's user (0700), under root-owned parents (0711). */
export function prepareWorkerDir(dir: string, user: RunAs | null): void {
  if (!user) return void mkdirSync(dir, { recursive: true });
  for (const parent of [BASE, join(dir, '..')]) {
    mkdirSync(parent, { recursive: true, mode: 0o711 });
    const st = lstatSync(parent);
    if (!st.isDirectory() || st.uid !== 0) throw new Error(`${parent} is not a folder of root's: refusing to put a load balancer's files there`);
    chmodSync(parent, 0o711);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`);
  chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
}

/**
 * The secret a load balancer's worker is handed at spawn and an adopting daemon says on its
 * control socket: kept in the daemon's private data directory (0600), made on first use.
 */
export function controlSecret(dataDir: string, lbId: string): string {
  const file = join(dataDir, 'lb', lbId, 'control.key');
  try {
    const s = readFileSync(file, 'utf8').trim();
    if (s) return s;
  } catch {
    // none yet
  }
  mkdirSync(join(dataDir, 'lb', lbId), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
