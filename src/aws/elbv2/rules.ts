/**
 * ELBv2 listener rules as L7 policies (Octavia's model, src/resources/load-balancer/l7-policy.ts).
 * A rule's conditions become the policy's rules (all must match, as AWS's conditions do):
 * `path-pattern`, `host-header` and `http-header`, their wildcards (`*`, `?`) and several
 * values (any may match) as one comparison or a regular expression. Its action becomes the
 * policy's: `forward` to one target group (bound to the load balancer as a pool, as
 * CreateListener does), `redirect` to a fixed URL or to a fixed scheme, host and port before
 * the request's own path and query, `fixed-response` to an answer of the load balancer's own.
 * `query-string` (one parameter's values, or any parameter's) and `source-ip` (one CIDR per
 * condition) become QUERY_STRING and SOURCE_IP rules. Priorities order the rules made here;
 * policies made through Nimbus's own API come before them. What the model cannot say
 * (`http-request-method`, a redirect keeping the request's host) is refused with
 * ValidationError, naming it (docs/aws.md).
 */
import type { L7Policy, L7RuleInput, Listener, LoadBalancer } from '../../core/model/index.js';
import { saveUpdate, write, type Ctx } from '../../resources/context.js';
import * as elb from '../../resources/load-balancer/service.js';
import { AwsError } from '../codec.js';
import { addTags, attr, getListener, getTg, groupOfPool, idOf, ruleArn, setAttr, tgArn, type Handler, type In, type Out } from './kit.js';
import { bindGroup } from './listeners.js';

const PRIORITY = 'priority';
const CONDITIONS = 'conditions';

/** A glob (`*`, `?`) as the body of a regular expression. */
const globBody = (v: string) =>
  v
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');

/** Wildcard values (`*` any run, `?` one character; any value may match) as one rule comparison. */
export function globRule(type: L7RuleInput['type'], values: string[], key?: string): L7RuleInput {
  const base = { type, ...(key ? { key } : {}) };
  if (values.length === 1) {
    const v = values[0];
    const wild = /[*?]/.test(v);
    if (!wild) return { ...base, compareType: 'EQUAL_TO', value: v };
    if (/^[^*?]+\*$/.test(v)) return { ...base, compareType: 'STARTS_WITH', value: v.slice(0, -1) };
    if (/^\*[^*?]+$/.test(v)) return { ...base, compareType: 'ENDS_WITH', value: v.slice(1) };
  }
  return { ...base, compareType: 'REGEX', value: `^(?:${values.map(globBody).join('|')})$` };
}

function conditionValues(c: In, config: string): string[] {
  const v = (c[config]?.Values ?? c.Values ?? []) as unknown[];
  if (!Array.isArray(v) || v.length === 0) throw new AwsError('ValidationError', `Condition '${c.Field}' needs at least one value`);
  return v.map(String);
}

/**
 * A query-string condition: Key/Value pairs, any of which may match. Pairs of one key are that
 * parameter's values (a QUERY_STRING rule on it); pairs without a key match any parameter's
 * value (a regular expression over the whole query). Keys are compared as sent.
 */
function queryRule(c: In): L7RuleInput {
  const pairs = (c.QueryStringConfig?.Values ?? []) as In[];
  if (!Array.isArray(pairs) || pairs.length === 0) throw new AwsError('ValidationError', "Condition 'query-string' needs at least one Key/Value pair");
  const keys = [...new Set(pairs.map((p) => (p.Key === undefined || p.Key === '' ? '' : String(p.Key))))];
  if (keys.length > 1)
    throw new AwsError('ValidationError', `query-string: Nimbus matches one parameter per condition; these name ${keys.map((k) => k || '(any)').join(', ')}`);
  const values = pairs.map((p) => String(p.Value ?? ''));
  if (keys[0]) return globRule('QUERY_STRING', values, keys[0]);
  return { type: 'QUERY_STRING', compareType: 'REGEX', value: `(^|&)[^&=]*=(${values.map(globBody).join('|')})(&|$)` };
}

/** AWS's conditions as the policy's rules (all must match). */
function rulesOf(conditions: In[]): L7RuleInput[] {
  if (conditions.length === 0) throw new AwsError('ValidationError', 'Conditions: a rule needs at least one condition');
  return conditions.map((c) => {
    const field = String(c.Field ?? '');
    if (field === 'path-pattern') return globRule('PATH', conditionValues(c, 'PathPatternConfig'));
    if (field === 'host-header') return globRule('HOST_NAME', conditionValues(c, 'HostHeaderConfig'));
    if (field === 'http-header') {
      const name = String(c.HttpHeaderConfig?.HttpHeaderName ?? '');
      if (!name) throw new AwsError('ValidationError', 'http-header: HttpHeaderConfig.HttpHeaderName is required');
      return globRule('HEADER', conditionValues(c, 'HttpHeaderConfig'), name);
    }
    if (field === 'query-string') return queryRule(c);
    if (field === 'source-ip') {
      const cidrs = conditionValues(c, 'SourceIpConfig');
      if (cidrs.length > 1)
        throw new AwsError(
          'ValidationError',
          `source-ip: one CIDR per condition in Nimbus (a rule's conditions must all match); make a rule per CIDR of ${cidrs.join(', ')}`,
        );
      return { type: 'SOURCE_IP', compareType: 'EQUAL_TO', value: cidrs[0] };
    }
    if (field === 'http-request-method')
      throw new AwsError('ValidationError', `Condition '${field}': Nimbus's rules match host, path, header, cookie, file type, query string and source IP`);
    throw new AwsError('ValidationError', `Condition field '${field}' is not one of path-pattern, host-header, http-header, query-string, source-ip`);
  });
}

/** AWS's one action as the policy's action and target. */
function actionOf(
  ctx: Ctx,
  l: Listener,
  actions: In[],
): Pick<Parameters<typeof elb.createL7Policy>[1], 'action' | 'redirectPool' | 'redirectUrl' | 'redirectPrefix' | 'redirectHttpCode' | 'fixedResponse'> {
  if (actions.length !== 1) throw new AwsError('ValidationError', 'Actions: Nimbus serves one action per rule (forward, redirect or fixed-response)');
  const a = actions[0];
  if (a.Type === 'forward') {
    const groups = (a.ForwardConfig?.TargetGroups ?? []) as In[];
    if (groups.length > 1) throw new AwsError('ValidationError', 'Actions: Nimbus forwards to one target group per rule');
    const arn = a.TargetGroupArn ?? groups[0]?.TargetGroupArn;
    if (!arn) throw new AwsError('ValidationError', 'Actions: forward needs a TargetGroupArn');
    const lb = ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!;
    const tg = bindGroup(ctx, getTg(ctx, String(arn)), lb, l.protocol);
    return { action: 'REDIRECT_TO_POOL', redirectPool: tg.poolId! };
  }
  if (a.Type === 'redirect') {
    const r = (a.RedirectConfig ?? {}) as In;
    const code = r.StatusCode === 'HTTP_301' ? 301 : r.StatusCode === 'HTTP_302' ? 302 : NaN;
    if (Number.isNaN(code)) throw new AwsError('ValidationError', `RedirectConfig.StatusCode '${String(r.StatusCode)}' must be HTTP_301 or HTTP_302`);
    const protocol = String(r.Protocol ?? '#{protocol}').toLowerCase();
    const host = String(r.Host ?? '#{host}');
    const port = String(r.Port ?? '#{port}');
    const path = String(r.Path ?? '/#{path}');
    const query = String(r.Query ?? '#{query}');
    if ([protocol, host, port].some((v) => v.includes('#{')))
      throw new AwsError(
        'ValidationError',
        "RedirectConfig: Nimbus redirects to a fixed scheme, host and port (Octavia's REDIRECT_TO_URL and REDIRECT_PREFIX); #{protocol}, #{host} and #{port} are not served",
      );
    const origin = `${protocol}://${host}${port && !(protocol === 'https' && port === '443') && !(protocol === 'http' && port === '80') ? `:${port}` : ''}`;
    if (path === '/#{path}' && query === '#{query}') return { action: 'REDIRECT_PREFIX', redirectPrefix: origin, redirectHttpCode: code };
    if ([path, query].some((v) => v.includes('#{')))
      throw new AwsError('ValidationError', 'RedirectConfig: a path or query is either the request’s own (the defaults) or fixed');
    return { action: 'REDIRECT_TO_URL', redirectUrl: `${origin}${path}${query ? `?${query}` : ''}`, redirectHttpCode: code };
  }
  if (a.Type === 'fixed-response') {
    const f = (a.FixedResponseConfig ?? {}) as In;
    const code = Number(f.StatusCode);
    if (!/^[245]\d\d$/.test(String(f.StatusCode ?? '')))
      throw new AwsError('ValidationError', `FixedResponseConfig.StatusCode '${String(f.StatusCode)}' must be 2XX, 4XX or 5XX`);
    return {
      action: 'FIXED_RESPONSE',
      fixedResponse: {
        statusCode: code,
        ...(f.ContentType ? { contentType: String(f.ContentType) } : {}),
        ...(f.MessageBody !== undefined ? { body: String(f.MessageBody) } : {}),
      },
    };
  }
  throw new AwsError('ValidationError', `Action '${String(a.Type)}': Nimbus serves forward, redirect and fixed-response`);
}

function priorityOf(v: unknown): number {
  const p = Number(v);
  if (!Number.isInteger(p) || p < 1 || p > 50_000) throw new AwsError('ValidationError', `Priority '${String(v)}' must be from 1 to 50000`);
  return p;
}

/** Policies made through Nimbus's API first (as they are), then the rules made here by priority. */
function reorder(ctx: Ctx, listenerId: string): void {
  const all = elb.policiesOf(ctx.store, listenerId);
  const prio = (p: L7Policy) => (attr(ctx, p.id, PRIORITY) ? Number(attr(ctx, p.id, PRIORITY)) : 0);
  const ordered = [...all.filter((p) => !prio(p)), ...all.filter((p) => prio(p)).sort((a, b) => prio(a) - prio(b))];
  ordered.forEach((p, i) => {
    if (p.position !== i + 1) saveUpdate(ctx, 'l7Policy', { ...p, position: i + 1 });
  });
}

function ruleOut(ctx: Ctx, region: string, p: L7Policy): Out {
  const l = ctx.store.get<Listener>(p.listenerId, 'listener')!;
  const lb = ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!;
  const tg = groupOfPool(ctx, p.redirectPoolId);
  const actions: Out[] =
    p.action === 'REDIRECT_TO_POOL' && tg
      ? [
          {
            Type: 'forward',
            Order: 1,
            TargetGroupArn: tgArn(ctx, region, tg),
            ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn(ctx, region, tg), Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } },
          },
        ]
      : p.action === 'REDIRECT_PREFIX' || p.action === 'REDIRECT_TO_URL'
        ? [{ Type: 'redirect', Order: 1, RedirectConfig: redirectOut(p) }]
        : p.action === 'FIXED_RESPONSE' && p.fixedResponse
          ? [
              {
                Type: 'fixed-response',
                Order: 1,
                FixedResponseConfig: {
                  StatusCode: String(p.fixedResponse.statusCode),
                  ContentType: p.fixedResponse.contentType,
                  ...(p.fixedResponse.body ? { MessageBody: p.fixedResponse.body } : {}),
                },
              },
            ]
          : [];
  const conditions = attr(ctx, p.id, CONDITIONS);
  return {
    RuleArn: ruleArn(ctx, region, lb, l, p.id),
    Priority: attr(ctx, p.id, PRIORITY) ?? String(p.position),
    Conditions: conditions ? (JSON.parse(conditions) as Out[]) : [],
    Actions: actions,
    IsDefault: false,
  };
}

function redirectOut(p: L7Policy): Out {
  const u = new URL(p.redirectUrl ?? p.redirectPrefix!);
  const own = p.action === 'REDIRECT_PREFIX';
  return {
    Protocol: u.protocol.slice(0, -1).toUpperCase(),
    Host: u.hostname,
    Port: u.port || (u.protocol === 'https:' ? '443' : '80'),
    Path: own ? '/#{path}' : u.pathname,
    Query: own ? '#{query}' : u.search.slice(1),
    StatusCode: `HTTP_${p.redirectHttpCode ?? 302}`,
  };
}

function policyOfArn(ctx: Ctx, arn: unknown): L7Policy {
  const id = idOf(arn);
  const p = ctx.store.get<L7Policy>(id, 'l7Policy');
  if (!p || p.projectId !== ctx.projectId) throw new AwsError('RuleNotFound', `One or more rules not found: '${String(arn)}'`);
  return p;
}

export const RULES: Record<string, Handler> = {
  CreateRule: (ctx, input, region) => {
    const l = getListener(ctx, String(input.ListenerArn ?? ''));
    const priority = priorityOf(input.Priority);
    const p = write(ctx, () => {
      if (elb.policiesOf(ctx.store, l.id).some((x) => attr(ctx, x.id, PRIORITY) === String(priority)))
        throw new AwsError('PriorityInUse', `Priority '${priority}' is currently in use`);
      const made = elb.createL7Policy(ctx, {
        listener: l.id,
        rules: rulesOf((input.Conditions ?? []) as In[]),
        ...actionOf(ctx, l, (input.Actions ?? []) as In[]),
      });
      setAttr(ctx, made.id, PRIORITY, String(priority));
      setAttr(ctx, made.id, CONDITIONS, JSON.stringify(input.Conditions));
      addTags(ctx, [made.id], (input.Tags ?? []) as In[]);
      reorder(ctx, l.id);
      return elb.getL7Policy(ctx, made.id);
    });
    return { Rules: [ruleOut(ctx, region, p)] };
  },
  DescribeRules: (ctx, input, region) => {
    const ruleArns = (input.RuleArns ?? []) as string[];
    if (!input.ListenerArn && ruleArns.length === 0) throw new AwsError('ValidationError', 'ListenerArn or RuleArns is required');
    const out: Out[] = [];
    if (input.ListenerArn) {
      const l = getListener(ctx, String(input.ListenerArn));
      const lb = ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!;
      for (const p of elb.policiesOf(ctx.store, l.id)) out.push(ruleOut(ctx, region, p));
      out.push(defaultRule(ctx, region, lb, l));
    }
    for (const arn of ruleArns) {
      if (String(arn).endsWith('/default')) {
        const l = getListener(ctx, String(arn).slice(0, String(arn).lastIndexOf('/')));
        out.push(defaultRule(ctx, region, ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!, l));
      } else out.push(ruleOut(ctx, region, policyOfArn(ctx, arn)));
    }
    return { Rules: out };
  },
  ModifyRule: (ctx, input, region) => {
    const p = policyOfArn(ctx, input.RuleArn);
    const next = write(ctx, () => {
      const l = ctx.store.get<Listener>(p.listenerId, 'listener')!;
      let cur = p;
      if (input.Actions?.length) {
        const a = actionOf(ctx, l, input.Actions as In[]);
        cur = elb.updateL7Policy(ctx, p.id, { redirectPool: null, redirectUrl: null, redirectPrefix: null, redirectHttpCode: null, ...a });
      }
      if (input.Conditions?.length) {
        const rules = rulesOf(input.Conditions as In[]);
        for (const r of cur.rules) elb.deleteL7Rule(ctx, p.id, r.id);
        for (const r of rules) elb.addL7Rule(ctx, p.id, r);
        setAttr(ctx, p.id, CONDITIONS, JSON.stringify(input.Conditions));
      }
      return elb.getL7Policy(ctx, p.id);
    });
    return { Rules: [ruleOut(ctx, region, next)] };
  },
  DeleteRule: (ctx, input) => {
    const p = policyOfArn(ctx, input.RuleArn);
    write(ctx, () => {
      elb.deleteL7Policy(ctx, p.id);
      setAttr(ctx, p.id, PRIORITY, null);
      setAttr(ctx, p.id, CONDITIONS, null);
    });
    return {};
  },
  SetRulePriorities: (ctx, input, region) => {
    const pairs = (input.RulePriorities ?? []) as In[];
    const changed = write(ctx, () => {
      const policies = pairs.map((r) => ({ p: policyOfArn(ctx, r.RuleArn), priority: priorityOf(r.Priority) }));
      for (const { p, priority } of policies) setAttr(ctx, p.id, PRIORITY, String(priority));
      for (const listenerId of new Set(policies.map((x) => x.p.listenerId))) {
        const seen = new Set<string>();
        for (const x of elb.policiesOf(ctx.store, listenerId)) {
          const v = attr(ctx, x.id, PRIORITY);
          if (v && seen.has(v)) throw new AwsError('PriorityInUse', `Priority '${v}' is currently in use`);
          if (v) seen.add(v);
        }
        reorder(ctx, listenerId);
      }
      return policies.map(({ p }) => elb.getL7Policy(ctx, p.id));
    });
    return { Rules: changed.map((p) => ruleOut(ctx, region, p)) };
  },
};

function defaultRule(ctx: Ctx, region: string, lb: LoadBalancer, l: Listener): Out {
  const tg = groupOfPool(ctx, l.defaultPoolId);
  return {
    RuleArn: ruleArn(ctx, region, lb, l),
    Priority: 'default',
    Conditions: [],
    Actions: tg ? [{ Type: 'forward', TargetGroupArn: tgArn(ctx, region, tg) }] : [],
    IsDefault: true,
  };
}
