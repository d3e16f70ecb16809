/**
 * Who may call the API: tokens (an admin's, or a project's), and each project's quotas.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Name, Ref, S, StringEnum } from './kit.js';
import { QUOTA_KINDS, type QuotaKind } from './quotas.js';

export const TOKEN_ROLES = ['admin', 'project'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** A token as the API shows it: never its secret, which is stored hashed. */
export const Token = Type.Object({ id: S(), name: S(), projectId: S(), role: StringEnum(TOKEN_ROLES), createdAt: S() }, { $id: 'Token' });
export type Token = Static<typeof Token>;

/** A token with its secret: answered once, when it is made. */
export const IssuedToken = Type.Object({ token: Token, secret: S({ description: 'Shown once; send it as Authorization: Bearer <secret>' }) });
export type IssuedToken = Static<typeof IssuedToken>;

export const TokenInput = Type.Object(
  {
    name: Name,
    project: Type.Optional(Ref('project the token acts for')),
    role: Type.Optional(StringEnum(TOKEN_ROLES, { description: 'project (default) or admin' })),
  },
  { additionalProperties: false },
);
export type TokenInput = Static<typeof TokenInput>;

export const Quotas = Type.Partial(
  Type.Object(
    Object.fromEntries(QUOTA_KINDS.map((k) => [k, Type.Integer({ minimum: 0, maximum: 100_000 })])) as Record<QuotaKind, ReturnType<typeof Type.Integer>>,
  ),
  {
    additionalProperties: false,
  },
);
export type Quotas = Static<typeof Quotas>;

export const ProjectUpdate = Type.Object({ quotas: Type.Optional(Quotas) }, { additionalProperties: false });
export type ProjectUpdate = Static<typeof ProjectUpdate>;

/** An AWS access key pair for the AWS-compatible endpoint (`nimbus credentials aws`). */
export const AwsCredentialsInput = Type.Object(
  { project: Type.Optional(S({ description: "the project (AWS account) the key acts for; the caller's own when absent (another needs an admin token)" })) },
  { additionalProperties: false },
);
export type AwsCredentialsInput = Static<typeof AwsCredentialsInput>;
export const AwsCredentials = Type.Object({
  accessKeyId: S(),
  secretAccessKey: S({ description: 'SigV4 signs with it: keep it as secret as the token it belongs to' }),
  project: S(),
});
export type AwsCredentials = Static<typeof AwsCredentials>;
