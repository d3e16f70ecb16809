/**
 * Where the CLI finds its token without being told, the way kubectl finds its kubeconfig: a
 * daemon writes its admin token, per URL, into the user's config directory
 * ($NIMBUS_CONFIG_DIR, else $XDG_CONFIG_HOME/nimbus, else ~/.config/nimbus), in
 * credentials.json with mode 0600. NIMBUS_TOKEN or --token overrides it.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

interface Entry {
  token: string;
  dataDir: string;
  updatedAt: string;
}

/** Entries kept (the most recent): daemons on other ports leave theirs behind. */
const KEEP = 50;

export function configDir(): string {
  return process.env.NIMBUS_CONFIG_DIR ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'nimbus');
}

function file(): string {
  return join(configDir(), 'credentials.json');
}

function read(): Record<string, Entry> {
  try {
    return (JSON.parse(readFileSync(file(), 'utf8')) as { daemons?: Record<string, Entry> }).daemons ?? {};
  } catch {
    return {};
  }
}

/** The URL as a key: no trailing slash, localhost as 127.0.0.1. */
export function urlKey(url: string): string {
  return url.replace(/\/$/, '').replace('://localhost:', '://127.0.0.1:');
}

export function readCredential(url: string): string | undefined {
  return read()[urlKey(url)]?.token;
}

/** Records `token` for the daemon at `url` (written atomically, mode 0600, in a 0700 folder). */
export function writeCredential(url: string, token: string, dataDir: string): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const all = { ...read(), [urlKey(url)]: { token, dataDir, updatedAt: new Date().toISOString() } };
  const kept = Object.fromEntries(
    Object.entries(all)
      .sort((a, b) => b[1].updatedAt.localeCompare(a[1].updatedAt))
      .slice(0, KEEP),
  );
  const tmp = `${file()}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ daemons: kept }, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file());
}
