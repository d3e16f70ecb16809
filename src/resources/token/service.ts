/**
 * API tokens: an admin's (every project, and the admin-only operations) or a project's (that
 * project only). A token's secret is shown once, when it is issued, and stored only as its
 * SHA-256; a request is authenticated by hashing what it presents. The daemon makes an admin
 * token at its first start (daemon.ts writes it to the data directory).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { newId } from '../../core/ids.js';
import type { IssuedToken, Token, TokenInput } from '../../core/model/index.js';
import { checkName, notFound, now, requireAdmin, saveDelete, saveNew, write, type Ctx } from '../context.js';
import { findProject } from '../project/service.js';
import type { Store } from '../../store/db.js';
import { NimbusError } from '../../core/errors.js';
import { seal, unseal } from './sealed.js';

interface StoredToken extends Token {
  hash: string;
  /**
   * The token's AWS access key (the AWS-compatible endpoint): SigV4 needs the secret itself, so
   * it is kept, sealed (sealed.ts). `secret` is the plain form of installations before; the
   * daemon seals it at start (sealLegacySecrets).
   */
  aws?: { accessKeyId: string; sealed?: string; secret?: string };
}

/** Who a request is, once its token is known. */
export interface Principal {
  tokenId: string;
  projectId: string;
  admin: boolean;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function view(t: StoredToken): Token {
  return { id: t.id, name: t.name, projectId: t.projectId, role: t.role, createdAt: t.createdAt };
}

function newSecret(): string {
  return `nbt_${randomBytes(24).toString('base64url')}`;
}

function issue(ctx: Ctx, name: string, projectId: string, role: Token['role']): IssuedToken {
  const secret = newSecret();
  const stored: StoredToken = { id: newId('token'), name, projectId, role, hash: hashSecret(secret), createdAt: now() };
  saveNew(ctx, 'token', stored);
  return { token: view(stored), secret };
}

/** Issues a token (admin only): for a project (the caller's when none is named), or another admin token. */
export function issueToken(ctx: Ctx, input: TokenInput): IssuedToken {
  requireAdmin(ctx, 'issuing tokens');
  return write(ctx, () => {
    const project = findProject(ctx.store, input.project ?? ctx.projectId);
    const name = checkName({ ...ctx, projectId: project.id }, 'token', input.name);
    return issue(ctx, name, project.id, input.role ?? 'project');
  });
}

export function listTokens(ctx: Ctx): Token[] {
  requireAdmin(ctx, 'listing tokens');
  return ctx.store.list<StoredToken>('token').map(view);
}

/** Revokes a token by id, or by name (in the caller's project first, then anywhere). */
export function revokeToken(ctx: Ctx, ref: string): Token {
  requireAdmin(ctx, 'revoking tokens');
  return write(ctx, () => {
    const all = ctx.store.list<StoredToken>('token');
    const t = all.find((x) => x.id === ref) ?? all.find((x) => x.name === ref && x.projectId === ctx.projectId) ?? all.find((x) => x.name === ref);
    if (!t) throw notFound('token', ref);
    saveDelete(ctx, 'token', t);
    return view(t);
  });
}

/** The principal a presented secret stands for, or null. */
export function authenticate(store: Store, secret: string): Principal | null {
  const want = Buffer.from(hashSecret(secret), 'hex');
  for (const t of store.list<StoredToken>('token')) {
    const have = Buffer.from(t.hash, 'hex');
    if (have.length === want.length && timingSafeEqual(have, want)) return { tokenId: t.id, projectId: t.projectId, admin: t.role === 'admin' };
  }
  return null;
}

/**
 * The daemon's admin credential: `existing` when it is still a live admin token, else a new one
 * (the secret of the old one is not kept anywhere, so a lost file means a new token).
 */
export function ensureAdminToken(ctx: Ctx, existing: string | null): string {
  if (existing) {
    const p = authenticate(ctx.store, existing);
    if (p?.admin) return existing;
  }
  return write(ctx, () => {
    const names = new Set(ctx.store.list<StoredToken>('token').map((t) => t.name));
    let name = 'admin';
    for (let i = 2; names.has(name); i++) name = `admin-${i}`;
    return issue({ ...ctx, admin: true }, name, ctx.projectId, 'admin').secret;
  });
}

/** An AWS access key pair and the project (AWS account) it acts for. */
export interface AwsKey {
  accessKeyId: string;
  secretAccessKey: string;
  project: string;
}

/**
 * The AWS access key of a token (made on first use, the same afterwards): the caller's own, or,
 * for an admin naming another project, that of the project's token `aws` (issued when
 * missing). An AWS account is a Nimbus project; revoking the token revokes its key.
 */
export function awsKey(ctx: Ctx, callerTokenId: string, projectRef?: string): AwsKey {
  return write(ctx, () => {
    let token = ctx.store.get<StoredToken>(callerTokenId, 'token');
    if (!token) throw notFound('token', callerTokenId);
    if (projectRef !== undefined) {
      const project = findProject(ctx.store, projectRef);
      if (project.id !== token.projectId || token.role === 'admin') {
        requireAdmin(ctx, 'AWS keys for another project');
        const own = ctx.store.list<StoredToken>('token').find((t) => t.projectId === project.id && t.name === 'aws' && t.role === 'project');
        token = own ?? ctx.store.get<StoredToken>(issue({ ...ctx, projectId: project.id }, 'aws', project.id, 'project').token.id, 'token')!;
      }
    }
    if (!token.aws) {
      token = { ...token, aws: { accessKeyId: `AKNB${randomBytes(8).toString('hex').toUpperCase()}`, sealed: seal(randomBytes(30).toString('base64')) } };
      ctx.store.update(token);
    }
    const project = findProject(ctx.store, token.projectId);
    const secret = secretOf(token);
    if (secret === null) throw new NimbusError('AuthFailure', `the AWS key ${token.aws!.accessKeyId} cannot be opened with this installation's secret.key`);
    return { accessKeyId: token.aws!.accessKeyId, secretAccessKey: secret, project: project.name };
  });
}

/** The principal and secret of an AWS access key id, or null. */
export function awsPrincipal(store: Store, accessKeyId: string): { principal: Principal; secret: string } | null {
  const t = store.list<StoredToken>('token').find((x) => x.aws?.accessKeyId === accessKeyId);
  const secret = t ? secretOf(t) : null;
  return t && secret !== null ? { principal: { tokenId: t.id, projectId: t.projectId, admin: t.role === 'admin' }, secret } : null;
}

function secretOf(t: StoredToken): string | null {
  if (t.aws?.sealed) return unseal(t.aws.sealed);
  return t.aws?.secret ?? null;
}

/** Seals the AWS secrets an older installation kept in plain text; returns how many. */
export function sealLegacySecrets(store: Store): number {
  let n = 0;
  store.tx(() => {
    for (const t of store.list<StoredToken>('token')) {
      if (!t.aws?.secret) continue;
      const sealed: StoredToken = { ...t, aws: { accessKeyId: t.aws.accessKeyId, sealed: seal(t.aws.secret) } };
      store.update(sealed);
      n++;
    }
  });
  return n;
}
