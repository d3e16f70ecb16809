/**
 * `nimbus l7policy ...` and `nimbus l7rule ...`: Octavia's L7 policies of HTTP listeners, and
 * their rules. A rule on the command line is one argument, `TYPE[:KEY] COMPARE VALUE`, with
 * `not` first to invert it: `--rule "path starts_with /api"`, `--rule "header:x-env equal_to prod"`.
 */
import type { Command } from 'commander';
import type { L7Policy, L7Rule, L7RuleInput } from '../core/model/index.js';
import { l7PolicyTarget, l7RuleText } from '../core/model/l7.js';
import type { Column } from './output.js';
import { act, collect, int } from './shared.js';
import { standardVerbs } from './network.js';

/** `TYPE[:KEY] COMPARE VALUE`, `not` first to invert (the service checks the words). */
export function parseRule(text: string): L7RuleInput {
  const words = text.trim().split(/\s+/);
  const invert = words[0]?.toLowerCase() === 'not';
  if (invert) words.shift();
  if (words.length !== 3) throw new Error(`rule '${text}': write TYPE[:KEY] COMPARE VALUE, e.g. "path starts_with /api" or "header:x-env equal_to prod"`);
  const [typeKey, compareType, value] = words;
  const [type, key] = typeKey.split(':', 2);
  return { type, compareType, value, invert, ...(key ? { key } : {}) };
}

const POLICY: Column<L7Policy>[] = [
  { header: 'POSITION', value: (p) => p.position },
  { header: 'NAME', value: (p) => p.name },
  { header: 'ID', value: (p) => p.id },
  { header: 'LISTENER', value: (p, n) => n.of('listener', p.listenerId), refs: ['listener'] },
  { header: 'ACTION', value: (p) => p.action },
  { header: 'TO', value: (p, n) => l7PolicyTarget(p, n.of('pool', p.redirectPoolId)), refs: ['pool'] },
  { header: 'RULES (ALL MUST MATCH)', value: (p) => (p.rules.length ? p.rules.map(l7RuleText).join('; ') : '(none: never matches)') },
];
const RULE: Column<L7Rule>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'RULE', value: (r) => l7RuleText(r) },
];

export function l7Commands(program: Command): void {
  const policy = program.command('l7policy').description("L7 policies of HTTP listeners (Octavia's): the first whose rules all match takes the request");
  policy
    .command('create')
    .description('add a policy to an HTTP listener')
    .requiredOption('--listener <ref>', 'HTTP listener (name or id)')
    .requiredOption('--action <a>', 'redirect_to_pool, redirect_to_url, redirect_prefix, reject or fixed_response')
    .option('--pool <ref>', 'redirect_to_pool: the pool (name or id)')
    .option('--redirect-url <url>', 'redirect_to_url: where to')
    .option('--redirect-prefix <url>', 'redirect_prefix: the URL the request path is appended to')
    .option('--code <n>', 'redirects: 301, 302 (default), 303, 307 or 308; fixed_response: its status (2XX, 4XX or 5XX)', int('code'))
    .option('--content-type <type>', 'fixed_response: text/plain (default), text/css, text/html, application/javascript or application/json')
    .option('--body <text>', 'fixed_response: the body (at most 1024 bytes)')
    .option('--position <n>', 'where it goes, 1 first (default: last)', int('position'))
    .option('--rule <rule>', 'a rule, "TYPE[:KEY] COMPARE VALUE" ("not ..." inverts); repeatable', collect)
    .option('--name <name>', 'policy name')
    .action(
      act(
        POLICY,
        (
          c,
          o: {
            listener: string;
            action: string;
            pool?: string;
            redirectUrl?: string;
            redirectPrefix?: string;
            code?: number;
            contentType?: string;
            body?: string;
            position?: number;
            rule?: string[];
            name?: string;
          },
        ) => {
          const fixed = o.action.toUpperCase() === 'FIXED_RESPONSE';
          if (!fixed && (o.contentType !== undefined || o.body !== undefined)) throw new Error('--content-type and --body are for --action fixed_response');
          if (fixed && o.code === undefined) throw new Error('--action fixed_response needs --code (its status: 2XX, 4XX or 5XX)');
          return c.l7Policies.create({
            listener: o.listener,
            action: o.action,
            redirectPool: o.pool,
            redirectUrl: o.redirectUrl,
            redirectPrefix: o.redirectPrefix,
            ...(fixed ? { fixedResponse: { statusCode: o.code!, contentType: o.contentType, body: o.body } } : { redirectHttpCode: o.code }),
            position: o.position,
            rules: (o.rule ?? []).map(parseRule),
            name: o.name,
          });
        },
      ),
    );
  policy
    .command('move')
    .description('put a policy at another position (the others move)')
    .argument('<ref>', 'policy (name or id)')
    .requiredOption('--position <n>', '1 first', int('position'))
    .action(act(POLICY, (c, ref: string, o: { position: number }) => c.l7Policies.update(ref, { position: o.position })));
  standardVerbs(policy, 'L7 policy', POLICY, (c) => c.l7Policies, { filters: ['listener'] });

  const rule = program.command('l7rule').description('rules of L7 policies (all of a policy’s rules must match)');
  rule
    .command('add')
    .description('add a rule to a policy')
    .requiredOption('--policy <ref>', 'policy (name or id)')
    .argument('<rule...>', 'TYPE[:KEY] COMPARE VALUE, e.g. path starts_with /api ("not" first inverts)')
    .action(act(RULE, (c, words: string[], o: { policy: string }) => c.l7Policies.addRule(o.policy, parseRule(words.join(' ')))));
  rule
    .command('list')
    .alias('ls')
    .description("a policy's rules")
    .requiredOption('--policy <ref>', 'policy (name or id)')
    .action(act(RULE, async (c, o: { policy: string }) => (await c.l7Policies.get(o.policy)).rules));
  rule
    .command('delete')
    .alias('rm')
    .description('remove a rule from its policy')
    .requiredOption('--policy <ref>', 'policy (name or id)')
    .argument('<id>', 'rule id')
    .action(act(RULE, (c, id: string, o: { policy: string }) => c.l7Policies.deleteRule(o.policy, id)));
}
