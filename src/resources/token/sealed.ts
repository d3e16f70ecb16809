/**
 * AWS secret keys and TLS certificates' private keys at rest. SigV4 needs the secret itself (a hash would not do), so it is kept
 * encrypted with AES-256-GCM under a key that lives apart from the database: a 0600 file in the
 * data directory (`secret.key`), made at the first start. A copy of the database alone gives no
 * usable secret. A store used without a key file (an in-memory one in unit tests) gets a key of
 * its process's own.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

let key: Buffer = randomBytes(32);

/** Loads the key from `file`, making it (0600) when there is none. */
export function loadSecretKey(file: string): void {
  let raw: Buffer | null = null;
  try {
    raw = readFileSync(file);
  } catch {
    raw = null;
  }
  if (raw === null || raw.length !== 32) {
    raw = randomBytes(32);
    writeFileSync(file, raw, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  key = raw;
}

/** `v1:<iv>:<tag>:<ciphertext>`, base64url parts. */
export function seal(plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join(':');
}

/** The secret sealed in `sealed`, or null when this key cannot open it (another installation's, or tampered). */
export function unseal(sealed: string): string | null {
  const [v, iv, tag, ct] = sealed.split(':');
  if (v !== 'v1' || !iv || !tag || ct === undefined) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
  } catch {
    return null;
  }
}
