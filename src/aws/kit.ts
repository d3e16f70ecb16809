/**
 * What every AWS service's handlers share: the handler's shape, the account id a project
 * shows as, the attributes AWS keeps that Nimbus's model has no field for, and the filters
 * of EC2-style Describe calls. One room per resource imports this, never another room.
 */
import { NimbusError } from '../core/errors.js';
import type { Project } from '../core/model/index.js';
import type { Ctx } from '../resources/context.js';
import type { LbRuntime } from '../resources/load-balancer/status.js';
import { AwsError, type Value } from './codec.js';

/** An input as the codec decoded it from the model (its fields are read by their AWS names). */
export type In = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Out = Record<string, Value>;
/** One operation: the caller's project, its input, the region it signed for, the load balancers' runtime. */
export type Handler = (ctx: Ctx, input: In, region: string, runtime: LbRuntime) => Out;

import { accountId } from '../core/account.js';
export { accountId };

/** The project an account id (or a project's id or name) names, as PeerOwnerId gives it. */
export function projectOfAccount(ctx: Ctx, account: string): string | undefined {
  if (!/^\d{12}$/.test(account)) return undefined;
  return ctx.store.list<Project>('project').find((p) => accountId(p.id) === account)?.id;
}

// ---- attributes: what AWS keeps and Nimbus's model has no field for ----
// They are kept as tags under the `aws:` prefix, which AWS reserves (no caller can set one):
// never listed as tags, gone with their resource.

const ATTR = 'aws:';

export function attr(ctx: Ctx, id: string, key: string): string | undefined {
  return ctx.store.tags(id)[ATTR + key];
}

export function setAttr(ctx: Ctx, id: string, key: string, value: string | null): void {
  ctx.store.setTag(id, ATTR + key, value);
}

/** The tags a caller set, without the attributes. */
export function userTags(ctx: Ctx, id: string): Record<string, string> {
  return Object.fromEntries(Object.entries(ctx.store.tags(id)).filter(([k]) => !k.startsWith(ATTR)));
}

/** A subnet's availability zone: the one it was created in (`a` when none was named). */
export const zoneOf = (ctx: Ctx, subnetId: string, region: string) => `${region}${attr(ctx, subnetId, 'zone') ?? 'a'}`;

/** A Nimbus name for something AWS leaves nameless: a base and the first free counter. */
export function freshName(taken: string[], base: string): string {
  const used = new Set(taken);
  for (let i = 1; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

export const need = (input: In, key: string, code = 'MissingParameter'): string => {
  if (input[key] === undefined || input[key] === '') throw new AwsError(code, `${key} is required`);
  return String(input[key]);
};

/** A boolean attribute's value as EC2 takes it: `Attr.Value` (AttributeBooleanValue) or a bare boolean. */
export function boolValue(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object' && 'Value' in (v as object)) return boolValue((v as { Value: unknown }).Value);
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

// ---- filters: every EC2 Describe takes Filter.N.Name / Filter.N.Value.M and its plural ids ----

export type Fields = Record<string, string | string[] | undefined>;

export function filtered<T>(ctx: Ctx, items: T[], input: In, idsKey: string | null, fields: (t: T) => Fields, filtersKey = 'Filters'): T[] {
  const ids = idsKey ? ((input[idsKey] ?? []) as string[]) : [];
  const filters = (input[filtersKey] ?? []) as { Name?: string; Values?: string[] }[];
  return items.filter((t) => {
    const f = fields(t);
    if (ids.length > 0 && !ids.includes(String(f.id))) return false;
    for (const flt of filters) {
      const want = flt.Values ?? [];
      const name = flt.Name ?? '';
      const have = name in f ? (f[name] ?? []) : tagField(ctx, f, name);
      if (have === undefined)
        throw new NimbusError(
          'InvalidParameterValue',
          `Filter '${flt.Name}' is not one Nimbus serves here: ${[...Object.keys(f).filter((k) => k !== 'id'), 'tag:KEY', 'tag-key', 'tag-value'].join(', ')}`,
        );
      const values = Array.isArray(have) ? have : [have];
      if (!want.some((w) => values.some((v) => glob(w, v)))) return false;
    }
    return true;
  });
}

/** The tag filters: `tag:KEY` (no value when the resource lacks the tag), `tag-key` and `tag-value`. */
function tagField(ctx: Ctx, f: Fields, name: string): string | string[] | undefined {
  if (!name.startsWith('tag:') && name !== 'tag-key' && name !== 'tag-value') return undefined;
  const tags: Record<string, string> = { ...userTags(ctx, String(f.id)) };
  for (const [k, v] of Object.entries(f)) if (k.startsWith('tag:') && typeof v === 'string') tags[k.slice(4)] = v;
  if (name === 'tag-key') return Object.keys(tags);
  if (name === 'tag-value') return Object.values(tags);
  const key = name.slice('tag:'.length);
  return key in tags ? tags[key] : [];
}

/** EC2 filter values may use * and ?. */
function glob(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}

/** Ids asked for that do not exist: AWS refuses the whole call. */
export function missing(ids: string[] | undefined, found: { id: string }[], code: string, what: string): void {
  const gone = (ids ?? []).filter((id) => !found.some((f) => f.id === id));
  if (gone.length > 0) throw new AwsError(code, `The ${what} ID${gone.length > 1 ? 's' : ''} '${gone.join(', ')}' do${gone.length > 1 ? '' : 'es'} not exist`);
}

/** An ACM certificate's ARN: the Nimbus certificate's id after `certificate/`. */
export const certificateArn = (ctx: Ctx, region: string, certId: string) => `arn:aws:acm:${region}:${accountId(ctx.projectId)}:certificate/${certId}`;
