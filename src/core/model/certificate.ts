/**
 * TLS certificates for TERMINATED_HTTPS listeners (Octavia's TLS containers, AWS's ACM
 * certificates): the certificate and its chain are public and shown; the private key is kept
 * sealed (AES-256-GCM under the installation's key file) and never returned by the API.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, S } from './kit.js';

/** The most certificates one listener holds: its default one and those chosen by SNI (AWS's 25). */
export const MAX_LISTENER_CERTIFICATES = 25;

export const Certificate = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    domainName: S({ description: "The certificate's subject common name, else its first DNS name" }),
    subjectAlternativeNames: Type.Array(S(), { description: 'The DNS names it is valid for: SNI chooses by them' }),
    issuer: S(),
    selfSigned: Type.Boolean(),
    keyAlgorithm: S({ description: 'RSA-2048, EC-prime256v1, ...' }),
    notBefore: S(),
    notAfter: S(),
    fingerprint: S({ description: 'SHA-256 of the certificate' }),
    certificatePem: S(),
    chainPem: Nullable(S({ description: 'The intermediate certificates, sent after it' })),
    createdAt: S(),
  },
  { $id: 'Certificate' },
);
export type Certificate = Static<typeof Certificate>;

/** As stored: with its private key, sealed. */
export type StoredCertificate = Certificate & { sealedKey: string };
