/**
 * A small subset of AWS Certificate Manager (JSON 1.1 protocol, `X-Amz-Target:
 * CertificateManager.<Operation>`): ImportCertificate, ListCertificates, DescribeCertificate,
 * GetCertificate, DeleteCertificate, and the certificate's tags. An ACM certificate is a Nimbus
 * certificate (nimbus cert); its ARN ends with the certificate's id, and HTTPS listeners take
 * it by ARN. Blobs come base64-encoded, as the AWS CLI's `fileb://` sends them.
 */
import type { Certificate, Listener, LoadBalancer } from '../core/model/index.js';
import { NimbusError } from '../core/errors.js';
import type { Ctx } from '../resources/context.js';
import { write } from '../resources/context.js';
import * as certs from '../resources/certificate/service.js';
import { AwsError } from './codec.js';
import { accountId, certificateArn, freshName, userTags } from './kit.js';
import { checkTag, checkTagCount } from './tags.js';

type Json = Record<string, unknown>;
export type AcmHandler = (ctx: Ctx, input: Json, region: string) => Json;

/** Nimbus's codes as ACM's. */
export const ACM_CODE: Record<string, string> = {
  'InvalidCertificateID.NotFound': 'ResourceNotFoundException',
  'Certificate.InUse': 'ResourceInUseException',
  InvalidCertificate: 'ValidationException',
  InvalidParameterValue: 'ValidationException',
  QuotaExceeded: 'LimitExceededException',
};

/** A base64 blob's text (PEM), or a refusal naming the field. */
function blob(input: Json, key: string, required: boolean): string | undefined {
  const v = input[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new AwsError('ValidationException', `${key} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/=\s]*$/.test(v)) throw new AwsError('ValidationException', `${key}: a base64-encoded PEM blob is expected`);
  return Buffer.from(v, 'base64').toString('utf8');
}

/** The certificate an ARN (or a name or id) names, in the caller's project. */
const certOf = (ctx: Ctx, arn: unknown): Certificate => {
  if (typeof arn !== 'string' || arn === '') throw new AwsError('ValidationException', 'CertificateArn is required');
  return certs.getCertificate(ctx, arn.slice(arn.lastIndexOf('/') + 1));
};

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const keyAlgorithm = (c: Certificate) => c.keyAlgorithm.replace('EC-prime256v1', 'EC_prime256v1').replace('EC-secp384r1', 'EC_secp384r1').replace('-', '_');

/** The load balancers whose listeners serve `c`, as ACM's InUseBy lists them. */
function inUseBy(ctx: Ctx, c: Certificate, region: string): string[] {
  const lbs = new Set(certs.listenersServing(ctx, c.id).map((l: Listener) => l.loadBalancerId));
  return [...lbs].map((id) => {
    const lb = ctx.store.get<LoadBalancer>(id, 'loadBalancer')!;
    return `arn:aws:elasticloadbalancing:${region}:${accountId(ctx.projectId)}:loadbalancer/app/${lb.name}/${lb.id}`;
  });
}

function summary(ctx: Ctx, c: Certificate, region: string): Json {
  return {
    CertificateArn: certificateArn(ctx, region, c.id),
    DomainName: c.domainName,
    SubjectAlternativeNameSummaries: c.subjectAlternativeNames,
    Type: 'IMPORTED',
    Status: 'ISSUED',
    KeyAlgorithm: keyAlgorithm(c),
    InUse: certs.listenersServing(ctx, c.id).length > 0,
    NotBefore: seconds(c.notBefore),
    NotAfter: seconds(c.notAfter),
    CreatedAt: seconds(c.createdAt),
    ImportedAt: seconds(c.createdAt),
  };
}

function tagsIn(input: Json): { Key: string; Value: string }[] {
  const tags = (input.Tags ?? []) as { Key?: unknown; Value?: unknown }[];
  if (!Array.isArray(tags)) throw new AwsError('ValidationException', 'Tags: a list of {Key, Value}');
  for (const t of tags) checkTag(t.Key, t.Value, 'InvalidTagException');
  return tags.map((t) => ({ Key: String(t.Key), Value: String(t.Value ?? '') }));
}

function setTags(ctx: Ctx, id: string, tags: { Key: string; Value: string }[]): void {
  for (const t of tags) ctx.store.setTag(id, t.Key, t.Value);
  checkTagCount(id, Object.keys(userTags(ctx, id)).length, 0, 'TooManyTagsException');
}

export const ACM: Record<string, AcmHandler> = {
  ImportCertificate: (ctx, input, region) => {
    if (input.CertificateArn)
      throw new AwsError('ValidationException', 'CertificateArn: Nimbus does not re-import over a certificate; import a new one and point the listener at it');
    const certificatePem = blob(input, 'Certificate', true)!;
    const privateKeyPem = blob(input, 'PrivateKey', true)!;
    const chainPem = blob(input, 'CertificateChain', false);
    const tags = tagsIn(input);
    // ACM certificates have no name; a Nimbus one gets acm-N (names are unique per project).
    const made = write(ctx, () => {
      const taken = ctx.store.list<{ name: string }>('certificate', { projectId: ctx.projectId }).map((c) => c.name);
      const c = certs.importCertificate(ctx, { name: freshName(taken, 'acm'), certificatePem, privateKeyPem, ...(chainPem ? { chainPem } : {}) });
      setTags(ctx, c.id, tags);
      return c;
    });
    return { CertificateArn: certificateArn(ctx, region, made.id) };
  },
  ListCertificates: (ctx, input, region) => {
    const statuses = (input.CertificateStatuses ?? []) as string[];
    const all = statuses.length === 0 || statuses.includes('ISSUED') ? certs.listCertificates(ctx) : [];
    const max = Math.max(1, Math.min(1000, Number(input.MaxItems ?? 1000) || 1000));
    const start = input.NextToken ? Number(Buffer.from(String(input.NextToken), 'base64url').toString()) || 0 : 0;
    const page = all.slice(start, start + max);
    return {
      CertificateSummaryList: page.map((c) => summary(ctx, c, region)),
      ...(start + max < all.length ? { NextToken: Buffer.from(String(start + max)).toString('base64url') } : {}),
    };
  },
  DescribeCertificate: (ctx, input, region) => {
    const c = certOf(ctx, input.CertificateArn);
    return {
      Certificate: {
        ...summary(ctx, c, region),
        SubjectAlternativeNames: c.subjectAlternativeNames,
        Subject: `CN=${c.domainName}`,
        Issuer: c.issuer,
        InUseBy: inUseBy(ctx, c, region),
        RenewalEligibility: 'INELIGIBLE',
        Options: { CertificateTransparencyLoggingPreference: 'DISABLED' },
      },
    };
  },
  GetCertificate: (ctx, input) => {
    const c = certOf(ctx, input.CertificateArn);
    return { Certificate: c.certificatePem, ...(c.chainPem ? { CertificateChain: c.chainPem } : {}) };
  },
  DeleteCertificate: (ctx, input) => {
    certs.deleteCertificate(ctx, certOf(ctx, input.CertificateArn).id);
    return {};
  },
  ListTagsForCertificate: (ctx, input) => {
    const c = certOf(ctx, input.CertificateArn);
    return { Tags: Object.entries(userTags(ctx, c.id)).map(([Key, Value]) => ({ Key, Value })) };
  },
  AddTagsToCertificate: (ctx, input) => {
    const c = certOf(ctx, input.CertificateArn);
    const tags = tagsIn(input);
    write(ctx, () => setTags(ctx, c.id, tags));
    return {};
  },
  RemoveTagsFromCertificate: (ctx, input) => {
    const c = certOf(ctx, input.CertificateArn);
    write(ctx, () => {
      for (const t of tagsIn(input)) ctx.store.setTag(c.id, t.Key, null);
    });
    return {};
  },
};

/** An error as ACM's JSON protocol answers it. */
export function acmError(err: unknown): { status: number; body: Json } | null {
  if (err instanceof AwsError) return { status: 400, body: { __type: err.code, message: err.message } };
  if (err instanceof NimbusError) return { status: err.status >= 500 ? 500 : 400, body: { __type: ACM_CODE[err.code] ?? err.code, message: err.message } };
  return null;
}
