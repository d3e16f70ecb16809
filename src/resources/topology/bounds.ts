/**
 * A file is bounded by what it holds before anything is planned: a plan is a dry run of every
 * step, and it holds the daemon while it runs, so a file that could never apply must not cost
 * every tenant seconds. Refused at once: more than MAX_FILE_RESOURCES resources (for any
 * token), and, for a project token, more of a kind than the project's quota allows (AWS's
 * codes where it has them), whatever exists already.
 */
import { QUOTA_CODES, type QuotaKind } from '../../core/model/index.js';
import { quotaOf, type Ctx } from '../context.js';
import { pathText, type FileProblem, type PathPart } from './parse.js';
import type { Want } from './wants.js';

/** Resources one file may hold: a lab of 1,000 servers with its networks and load balancers fits. */
export const MAX_FILE_RESOURCES = 5_000;

export function boundProblems(ctx: Ctx, list: Want[], lineOf: (p: PathPart[]) => number | null): FileProblem[] {
  if (list.length > MAX_FILE_RESOURCES)
    return [
      {
        path: '',
        line: null,
        code: 'InvalidParameterValue',
        message: `the file holds ${list.length} resources; a file may hold at most ${MAX_FILE_RESOURCES} (split it into several files)`,
      },
    ];
  const problems: FileProblem[] = [];
  const over = (kind: QuotaKind, count: number, what: string, path: PathPart[]) => {
    const limit = quotaOf(ctx, kind);
    if (limit === null || count <= limit) return;
    const code = QUOTA_CODES[kind] ?? 'QuotaExceeded';
    problems.push({
      path: pathText(path),
      line: lineOf(path),
      code,
      message: `${what}: the file holds ${count}, the project's quota of ${kind} is ${limit} (${code})`,
    });
  };
  const of = (kind: Want['kind']) => list.filter((w) => w.kind === kind);
  const groupBy = (ws: Want[], key: (w: Want) => string) => {
    const m = new Map<string, Want[]>();
    for (const w of ws) m.set(key(w), [...(m.get(key(w)) ?? []), w]);
    return m;
  };
  over('vpcs', of('vpc').length, 'vpcs', ['vpcs']);
  over('servers', of('server').length, 'servers', ['servers']);
  over('securityGroups', of('securityGroup').length, 'securityGroups', ['securityGroups']);
  over('loadBalancers', of('loadBalancer').length, 'loadBalancers', ['loadBalancers']);
  over('internetGateways', of('internetGateway').length, 'internetGateways', ['internetGateways']);
  over('elasticIps', of('elasticIp').length, 'elasticIps', ['elasticIps']);
  over('natGateways', of('natGateway').length, 'natGateways', ['natGateways']);
  for (const [vpc, subnets] of groupBy(of('subnet'), (w) => String(w.input.vpc)))
    over('subnetsPerVpc', subnets.length, `subnets of VPC '${vpc}'`, subnets[0].path.slice(0, 3));
  for (const [lb, ls] of groupBy(of('listener'), (w) => String(w.input.loadBalancer)))
    over('listenersPerLoadBalancer', ls.length, `listeners of load balancer '${lb}'`, ls[0].path.slice(0, 3));
  for (const [table, routes] of groupBy(of('route'), (w) => w.key.split(':')[1]))
    over('routesPerTable', routes.length, `routes of ${table.replace('=', ' ')}`, ['routes']);
  for (const w of of('rules')) {
    const rules = (w.input.rules ?? []) as { direction: string }[];
    over('inboundRulesPerGroup', rules.filter((r) => r.direction?.toLowerCase() === 'ingress').length, `inbound rules of '${w.name}'`, w.path);
    over('outboundRulesPerGroup', rules.filter((r) => r.direction?.toLowerCase() === 'egress').length, `outbound rules of '${w.name}'`, w.path);
  }
  const peerings = of('peering');
  const perVpc = new Map<string, number>();
  for (const p of peerings) for (const v of [p.input.vpc, p.input.peerVpc]) perVpc.set(String(v), (perVpc.get(String(v)) ?? 0) + 1);
  for (const [vpc, n] of perVpc) over('peeringsPerVpc', n, `peerings of VPC '${vpc}'`, ['peerings']);
  return problems;
}
