/**
 * Certificates for TERMINATED_HTTPS listeners: imported from PEM (a certificate, its
 * unencrypted private key, and a chain), or made self-signed for labs. Each is read with
 * node's X509Certificate, its key is checked to be the certificate's, and the key is kept
 * sealed (token/sealed.ts); the API shows the certificate and never the key.
 */
import { X509Certificate, createHash, createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { NimbusError, invalid } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Certificate, CertificateInput, Listener, StoredCertificate } from '../../core/model/index.js';
import { checkName, checkQuota, now, resolve, saveDelete, saveNew, write, type Ctx } from '../context.js';
import { seal, unseal } from '../token/sealed.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const bad = (message: string) => new NimbusError('InvalidCertificate', message);

/** What the API shows: everything but the sealed key. */
export function presentCertificate(c: StoredCertificate): Certificate {
  const { sealedKey: _sealed, ...shown } = c;
  return shown;
}

export function listCertificates(ctx: Ctx): Certificate[] {
  return ctx.store.list<StoredCertificate>('certificate', { projectId: ctx.projectId }).map(presentCertificate);
}

/** A certificate's id, by its name or id (InvalidCertificateID.NotFound otherwise). */
export const certificateIdOf = (ctx: Ctx, ref: string): string => resolve<StoredCertificate>(ctx, 'certificate', ref).id;

export const getCertificate = (ctx: Ctx, ref: string): Certificate => presentCertificate(resolve<StoredCertificate>(ctx, 'certificate', ref));

/** A DNS name a certificate may be for: labels of letters, digits and '-', a leading '*.' allowed. */
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function checkDnsName(n: string): string {
  const v = n.toLowerCase();
  if (v.length > 253 || !DNS_NAME.test(v)) throw invalid(`dnsNames: '${n}' must be a DNS name (letters, digits, '-' and dots; '*.' first for a wildcard)`);
  return v;
}

/** Every certificate in a PEM text, in order. */
function pemBlocks(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw bad(`${field}: no PEM certificate ('-----BEGIN CERTIFICATE-----') in it`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw bad(`${field}: certificate ${i + 1} cannot be read: ${(err as Error).message}`);
    }
  });
}

function readKey(pem: string): KeyObject {
  if (/ENCRYPTED/.test(pem))
    throw bad('privateKeyPem: the key is encrypted with a passphrase; import it unencrypted (openssl pkey -in key.pem -out plain.pem)');
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw bad(`privateKeyPem: not a PEM private key: ${(err as Error).message}`);
  }
}

/** RSA of 2048 bits or more, or EC on P-256 or P-384: what both engines serve (and AWS's ACM imports). */
function keyAlgorithm(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if ((d.modulusLength ?? 0) < 2048) throw bad(`privateKeyPem: an RSA key of ${d.modulusLength} bits; 2048 or more are needed`);
    return `RSA-${d.modulusLength}`;
  }
  if (key.asymmetricKeyType === 'ec' && (d.namedCurve === 'prime256v1' || d.namedCurve === 'secp384r1')) return `EC-${d.namedCurve}`;
  throw bad(`privateKeyPem: a ${key.asymmetricKeyType}${d.namedCurve ? ` ${d.namedCurve}` : ''} key; RSA (2048 bits or more) or EC P-256 or P-384 are served`);
}

const PEM_KEY = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A certificate and key as stored, after every check. */
function certificateOf(ctx: Ctx, name: string, certPem: string, keyPem: string, chainPem: string | null, selfSigned: boolean): StoredCertificate {
  const [cert, ...extra] = pemBlocks(certPem, 'certificatePem');
  if (extra.length > 0) throw bad('certificatePem: holds more than one certificate; put the intermediate ones in chainPem');
  const chain = chainPem ? pemBlocks(chainPem, 'chainPem') : [];
  const key = readKey(keyPem);
  if (!cert.checkPrivateKey(key)) throw bad("privateKeyPem: the key is not the certificate's (its public key does not match)");
  const algorithm = keyAlgorithm(key);
  const notAfter = new Date(cert.validTo);
  if (notAfter.getTime() <= Date.now()) throw bad(`certificatePem: expired on ${notAfter.toISOString()}`);
  const sans = (cert.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1] ?? null;
  const domain = cn ?? sans[0];
  if (!domain) throw bad('certificatePem: names no host (no subject common name and no DNS subject alternative name)');
  return {
    id: newId('certificate'),
    name,
    projectId: ctx.projectId,
    domainName: domain,
    subjectAlternativeNames: sans.length > 0 ? sans : [domain.toLowerCase()],
    issuer: cert.issuer.replace(/\n/g, ', '),
    selfSigned,
    keyAlgorithm: algorithm,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    fingerprint: cert.fingerprint256,
    certificatePem: cert.toString(),
    chainPem: chain.length > 0 ? chain.map((c) => c.toString()).join('') : null,
    createdAt: now(),
    sealedKey: seal(PEM_KEY(key)),
  };
}

/** A self-signed certificate for `dnsNames` (EC P-256, SHA-256), and its key, as PEM. */
export async function selfSign(dnsNames: string[], days: number): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: createHash('sha256')
      .update(`${dnsNames.join(',')}${Date.now()}${Math.random()}`)
      .digest('hex')
      .slice(0, 16),
    name: [{ CN: [dnsNames[0]] }, { O: ['Nimbus lab'] }] as unknown as x509.JsonName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * 86_400_000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { certPem: cert.toString('pem'), keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n` };
}

/** Imports a PEM certificate with its key (and chain). */
export function importCertificate(ctx: Ctx, input: CertificateInput, selfSigned = false): Certificate {
  if (input.selfSigned) throw invalid('selfSigned: give either PEM to import or selfSigned, not both');
  if (!input.certificatePem) throw invalid('certificatePem: required to import (or give selfSigned)');
  if (!input.privateKeyPem) throw invalid("privateKeyPem: required to import: the certificate's private key");
  const { certificatePem, privateKeyPem, chainPem } = input;
  return write(ctx, () => {
    const name = checkName(ctx, 'certificate', input.name);
    checkQuota(ctx, 'certificates', ctx.store.list('certificate', { projectId: ctx.projectId }).length, 'certificates');
    const cert = certificateOf(ctx, name, certificatePem, privateKeyPem, chainPem ?? null, selfSigned);
    return presentCertificate(saveNew(ctx, 'certificate', cert));
  });
}

/** Imports PEM, or (selfSigned) makes a certificate for the names given and imports it. */
export async function createCertificate(ctx: Ctx, input: CertificateInput): Promise<Certificate> {
  if (!input.selfSigned) return importCertificate(ctx, input);
  if (input.certificatePem !== undefined || input.privateKeyPem !== undefined || input.chainPem !== undefined)
    throw invalid('selfSigned: give either PEM to import or selfSigned, not both');
  checkName(ctx, 'certificate', input.name);
  const names = [...new Set(input.selfSigned.dnsNames.map(checkDnsName))];
  const made = await selfSign(names, input.selfSigned.days ?? 365);
  return importCertificate(ctx, { name: input.name, certificatePem: made.certPem, privateKeyPem: made.keyPem }, true);
}

/** The listeners that serve `certId`. */
export function listenersServing(ctx: Ctx, certId: string): Listener[] {
  return ctx.store.list<Listener>('listener', { projectId: ctx.projectId }).filter((l) => l.certificateId === certId || l.sniCertificateIds?.includes(certId));
}

export function deleteCertificate(ctx: Ctx, ref: string): Certificate {
  return write(ctx, () => {
    const c = resolve<StoredCertificate>(ctx, 'certificate', ref);
    const users = listenersServing(ctx, c.id);
    if (users.length > 0)
      throw new NimbusError('Certificate.InUse', `certificate '${c.name}' is served by listener '${users[0].name}'; change or delete that listener first`);
    return presentCertificate(saveDelete(ctx, 'certificate', c));
  });
}

/** The PEM the engine serves for a certificate: the certificate and its chain, and the key. Null when the key cannot be opened. */
export function servedPem(c: StoredCertificate): { cert: string; key: string } | null {
  const key = unseal(c.sealedKey);
  return key === null ? null : { cert: c.certificatePem + (c.chainPem ?? ''), key };
}
