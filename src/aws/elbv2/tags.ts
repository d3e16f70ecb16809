/** ELBv2's AddTags, RemoveTags and DescribeTags, on load balancers, target groups, listeners and rules by ARN. */
import { write } from '../../resources/context.js';
import { AwsError } from '../codec.js';
import { addTags, taggedId, userTags, type Handler, type In } from './kit.js';

export const TAGS: Record<string, Handler> = {
  AddTags: (ctx, input) => {
    const arns = (input.ResourceArns ?? []) as string[];
    const tags = (input.Tags ?? []) as In[];
    if (arns.length === 0 || tags.length === 0) throw new AwsError('ValidationError', 'ResourceArns and Tags are required');
    write(ctx, () =>
      addTags(
        ctx,
        arns.map((a) => taggedId(ctx, a)),
        tags,
      ),
    );
    return {};
  },
  RemoveTags: (ctx, input) => {
    const arns = (input.ResourceArns ?? []) as string[];
    const keys = (input.TagKeys ?? []) as string[];
    if (arns.length === 0 || keys.length === 0) throw new AwsError('ValidationError', 'ResourceArns and TagKeys are required');
    write(ctx, () => {
      for (const id of arns.map((a) => taggedId(ctx, a))) for (const k of keys) if (!k.toLowerCase().startsWith('aws:')) ctx.store.setTag(id, k, null);
    });
    return {};
  },
  DescribeTags: (ctx, input) => {
    const arns = (input.ResourceArns ?? []) as string[];
    if (arns.length === 0 || arns.length > 20) throw new AwsError('ValidationError', `ResourceArns: from 1 to 20 (${arns.length} given)`);
    return {
      TagDescriptions: arns.map((arn) => ({
        ResourceArn: arn,
        Tags: Object.entries(userTags(ctx, taggedId(ctx, arn))).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  },
};
