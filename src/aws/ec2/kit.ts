/**
 * EC2's shared helpers: tags and names. A resource's Nimbus name is its `Name` tag. One made
 * through this endpoint without a Name tag still needs a Nimbus name: it gets `<kind>-N`, and
 * the attribute `unnamed` records that no one chose it, so that it is never shown as a tag
 * (AWS shows no Name then) until CreateTags gives one; DeleteTags of Name makes it unnamed again.
 */
import { write, type Ctx } from '../../resources/context.js';
import { checkTag as checkTagAs, checkTagCount } from '../tags.js';
import { attr, freshName, setAttr, userTags, type In, type Out } from '../kit.js';

export { accountId, attr, boolValue, filtered, freshName, missing, need, setAttr, userTags, type Fields, type Handler, type In, type Out } from '../kit.js';

/** Whether a resource's name was chosen (given as a Name tag or in Nimbus), rather than made up. */
export const named = (ctx: Ctx, id: string) => attr(ctx, id, 'unnamed') !== '1';

/** The AWS tags of a resource: Name (its Nimbus name, when chosen), then the others kept beside it. */
export function tagsOut(ctx: Ctx, id: string, name: string, extra: Record<string, string> = {}): Out[] {
  const all = { ...extra, ...userTags(ctx, id) };
  return [...(named(ctx, id) ? [{ Key: 'Name', Value: name }] : []), ...Object.entries(all).map(([Key, Value]) => ({ Key, Value }))];
}

/** The Name a filter on `tag:Name` sees: none for an unnamed resource. */
export const nameTag = (ctx: Ctx, id: string, name: string): string | string[] => (named(ctx, id) ? name : []);

export const checkTag = (key: unknown, value: unknown) => checkTagAs(key, value, 'InvalidParameterValue');

/** An instance's workload as a tag: shown when it was given as one (or in Nimbus), not when UserData chose it. */
export const appTag = (ctx: Ctx, s: { id: string; app: string | null }): Record<string, string> =>
  s.app && attr(ctx, s.id, 'app-from') !== 'user-data' ? { 'nimbus:app': s.app } : {};

/** Keys the instance's own fields stand for: Name is its name, nimbus:app its workload (chosen at launch). */
const OWN_KEYS = new Set(['Name', 'nimbus:app']);

/**
 * A security group's name is its GroupName, so its Name tag is an ordinary tag, kept as given.
 * Every other resource's Name is its Nimbus name.
 */
export const NAME_IS_TAG = 'security-group';

/** A resource's tags as AWS lists them when its Name is an ordinary tag. */
export const plainTags = (ctx: Ctx, id: string): Out[] => Object.entries(userTags(ctx, id)).map(([Key, Value]) => ({ Key, Value }));

/** Keeps the tags of TagSpecifications (of this resource type) other than the ones the resource's fields hold. */
export function keepSpecTags(ctx: Ctx, input: In, type: string, id: string): void {
  for (const spec of (input.TagSpecifications ?? []) as In[]) {
    if (spec.ResourceType && spec.ResourceType !== type) continue;
    for (const t of (spec.Tags ?? []) as In[]) {
      checkTag(t.Key, t.Value);
      if (type === NAME_IS_TAG || !OWN_KEYS.has(String(t.Key))) ctx.store.setTag(id, String(t.Key), String(t.Value ?? ''));
    }
  }
  if (type !== NAME_IS_TAG && specName(input, type) === undefined) setAttr(ctx, id, 'unnamed', '1');
  checkTagCount(id, Object.keys(userTags(ctx, id)).length, 1, 'TagLimitExceeded');
}

/** Runs a create and keeps its TagSpecifications in the same transaction: a refused tag creates nothing. */
export function created<T extends { id: string }>(ctx: Ctx, input: In, type: string, make: () => T): T {
  return write(ctx, () => {
    const made = make();
    keepSpecTags(ctx, input, type, made.id);
    return made;
  });
}

/** A Name from TagSpecifications of this resource type, or undefined. */
export function specName(input: In, type: string): string | undefined {
  for (const spec of (input.TagSpecifications ?? []) as In[]) {
    if (spec.ResourceType && spec.ResourceType !== type) continue;
    for (const t of (spec.Tags ?? []) as In[]) if (t.Key === 'Name') return String(t.Value ?? '');
  }
  return undefined;
}

export function specTag(input: In, key: string): string | undefined {
  for (const spec of (input.TagSpecifications ?? []) as In[]) for (const t of (spec.Tags ?? []) as In[]) if (t.Key === key) return String(t.Value ?? '');
  return undefined;
}

/** The Name tag of this resource type in TagSpecifications, or a made-up `<base>-N` (see `named`). */
export function nameFor(input: In, type: string, base: string, taken: () => string[]): string {
  return specName(input, type) ?? freshName(taken(), base);
}
