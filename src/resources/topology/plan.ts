/**
 * A topology file against the store: what to create, update, replace, delete or adopt, and
 * why, in dependency order. Pure reads; apply.ts carries the steps out through the services.
 *
 * Resources are matched by name (a route by its table and destination, a member by its pool,
 * server or address and port, a health monitor by its pool). A field the API can change is an
 * update; one it cannot (a CIDR, a server's subnet, address or app, a listener's port) is a
 * replacement, and what stands on a replaced resource is replaced with it. Only what the
 * file owns is deleted when the file stops naming it; a resource the file names that exists
 * already without it is adopted (owned from then on, changed only where it differs).
 */
import { l7RuleText } from '../../core/model/l7.js';
import { dnsHostnames, dnsSupport } from '../../core/dns.js';
import { rangeText } from '../../core/ports.js';
import { parsePorts } from '../security-group/service.js';
import { icmpInput, icmpText, parseIcmp } from '../../core/icmp.js';
import type { Ctx } from '../context.js';
import type {
  ElasticIp,
  InternetGateway,
  NatGateway,
  FlowLog,
  HealthMonitor,
  Listener,
  LoadBalancer,
  Member,
  Peering,
  Pool,
  RouteTable,
  SecurityGroup,
  SecurityGroupRule,
  Server,
  RuleInput,
  Subnet,
  TopologyStep,
  Vpc,
  L7Policy,
} from '../../core/model/index.js';
import { LISTENER_LIMITS, POOL_LIMITS } from '../../core/model/index.js';
import { pathText } from './parse.js';
import { ORDER, canonical, type TopoKind, type Want } from './wants.js';
import { describeAclRule } from '../../core/acl.js';
import { aclRuleOf } from '../network-acl/service.js';
import type { AclRule, AclRuleInput, StoredAcl } from '../../core/model/index.js';

export { ORDER, wants, type TopoKind, type Want } from './wants.js';

/** An ACL rule as one line, the same for a stored rule and a rule of the file (a malformed one as given: apply refuses it). */
export function aclRuleText(r: AclRule): string {
  return describeAclRule(r);
}

function aclRuleOfInput(r: AclRuleInput): AclRule {
  try {
    return aclRuleOf(r);
  } catch {
    return {
      number: r.number,
      direction: r.direction,
      action: r.action,
      protocol: r.protocol,
      portRange: null,
      cidr: `${String(r.cidr)} ${String(r.ports ?? '')}${String(r.icmp ?? '')}`,
    };
  }
}

export const KIND_TEXT: Record<TopoKind, string> = {
  vpc: 'vpc',
  subnet: 'subnet',
  routeTable: 'route table',
  networkAcl: 'network ACL',
  internetGateway: 'internet gateway',
  elasticIp: 'elastic IP',
  natGateway: 'NAT gateway',
  flowLog: 'flow log',
  securityGroup: 'security group',
  rules: 'rules of',
  server: 'server',
  peering: 'peering',
  route: 'route',
  loadBalancer: 'load balancer',
  pool: 'pool',
  healthMonitor: 'health monitor of',
  member: 'member',
  listener: 'listener',
  l7Policy: 'L7 policy',
};

/** A step of a plan, with what apply needs to carry it out. */
export interface Step extends TopologyStep {
  key: string;
  want: Want | null;
  /** The existing resource's id (update, replace, delete, adopt). */
  id: string | null;
  needs: string[];
}

const portsText = (r: SecurityGroupRule) => (r.portRange ? rangeText(r.portRange) : 'all');

/** Ports as stored would show them (0-65535 is all, a range from 0 starts at 1); a malformed text as it is (apply refuses it). */
function canonicalPorts(text: string): string {
  try {
    const range = parsePorts(text);
    return range ? rangeText(range) : 'all';
  } catch {
    return text;
  }
}

/** A rule as one line, the same for a stored rule and a rule of the file. */
export function ruleText(r: { direction: string; protocol: string; ports?: string; icmp?: string; remote: string; description?: string }): string {
  const remote = /^[\d.]+\/\d+$/.test(r.remote) ? canonical(r.remote) : `group ${r.remote}`;
  const what = r.icmp !== undefined ? icmpText(parseIcmp(r.icmp)) : r.ports === undefined ? 'all' : canonicalPorts(r.ports);
  return `${r.direction} ${r.protocol}:${what} ${r.direction === 'ingress' ? 'from' : 'to'} ${remote}${r.description ? ` "${r.description}"` : ''}`;
}

/** A stored rule as the file would write it. */
export function storedRule(ctx: Ctx, r: SecurityGroupRule): RuleInput {
  const remote = 'cidr' in r.remote ? r.remote.cidr : (ctx.store.get<SecurityGroup>(r.remote.groupId, 'securityGroup')?.name ?? r.remote.groupId);
  return {
    direction: r.direction,
    protocol: r.protocol,
    ...(r.portRange ? { ports: portsText(r) } : {}),
    ...(r.icmp ? { icmp: icmpInput(r.icmp) } : {}),
    remote,
    ...(r.description ? { description: r.description } : {}),
  };
}

/** A route's target as a file names it: a peering's, gateway's or NAT gateway's name, or blackhole. */
export function routeTargetName(ctx: Ctx, t: RouteTable['routes'][number]['target']): string {
  const nameOf = (id: string) => ctx.store.get<{ name: string }>(id)?.name ?? id;
  if (t.type === 'peering') return nameOf(t.peeringId);
  if (t.type === 'internetGateway') return nameOf(t.gatewayId);
  if (t.type === 'natGateway') return nameOf(t.natGatewayId);
  return t.type;
}

const byName = <T>(ctx: Ctx, kind: Parameters<Ctx['store']['byName']>[0], name: unknown) =>
  typeof name === 'string' ? ctx.store.byName<T>(kind, ctx.projectId, name) : undefined;

function tableOf(ctx: Ctx, input: Record<string, unknown>): RouteTable | undefined {
  if (typeof input.routeTable === 'string') return byName<RouteTable>(ctx, 'routeTable', input.routeTable);
  const vpc = byName<Vpc>(ctx, 'vpc', input.vpc);
  return vpc ? ctx.store.get<RouteTable>(vpc.mainRouteTableId, 'routeTable') : undefined;
}

function memberOf(ctx: Ctx, input: Record<string, unknown>): Member | undefined {
  const pool = byName<Pool>(ctx, 'pool', input.pool);
  if (!pool) return undefined;
  const server = byName<Server>(ctx, 'server', input.server);
  return ctx.store
    .list<Member>('member', { parentId: pool.id })
    .find((m) => m.port === input.port && (input.server ? m.serverId === server?.id : m.address === input.address && !m.serverId));
}

/** A VPC's default network ACL (by the VPC's name), or undefined. */
export function defaultAclOf(ctx: Ctx, vpc: unknown): StoredAcl | undefined {
  const v = byName<Vpc>(ctx, 'vpc', vpc);
  return v ? ctx.store.list<StoredAcl>('networkAcl', { parentId: v.id }).find((a) => a.isDefault) : undefined;
}

/** The existing resource a want names, with its id, or null. */
export function existing(ctx: Ctx, w: Want): { id: string; doc: unknown } | null {
  let doc: { id: string } | undefined;
  switch (w.kind) {
    case 'rules':
      doc = byName<SecurityGroup>(ctx, 'securityGroup', w.name);
      break;
    case 'route': {
      const table = tableOf(ctx, w.input);
      const dest = canonical(String(w.input.destination));
      return table?.routes.some((r) => r.destination === dest) ? { id: table.id, doc: table.routes.find((r) => r.destination === dest) } : null;
    }
    case 'member':
      doc = memberOf(ctx, w.input);
      break;
    case 'healthMonitor': {
      const pool = byName<Pool>(ctx, 'pool', w.name);
      doc = pool ? ctx.store.list<HealthMonitor>('healthMonitor', { parentId: pool.id })[0] : undefined;
      break;
    }
    case 'networkAcl':
      doc = w.input.default ? defaultAclOf(ctx, w.input.vpc) : byName<{ id: string }>(ctx, w.kind, w.name);
      break;
    default:
      doc = byName<{ id: string }>(ctx, w.kind, w.name);
  }
  return doc ? { id: doc.id, doc } : null;
}

const differs = (label: string, now: unknown, want: unknown) =>
  want !== undefined && JSON.stringify(now) !== JSON.stringify(want) ? `${label} ${fmt(now)} -> ${fmt(want)}` : null;
const fmt = (v: unknown) => (v === null || v === undefined ? 'none' : typeof v === 'string' ? v : JSON.stringify(v));
const nameOf = (ctx: Ctx, id: string | null | undefined) => (id ? ((ctx.store.get<{ name: string }>(id)?.name ?? id) as string) : null);
/** A fixed response as compared: its defaults filled in (absent: none). */
const fixedOf = (f: { statusCode: number; contentType?: string; body?: string } | null | undefined) =>
  f ? { statusCode: f.statusCode, contentType: (f.contentType ?? 'text/plain').toLowerCase(), body: f.body ?? '' } : null;
const lower = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);

/** A VPC entry's DNS switches as the VPC will have them (absent: on; no resolver, no names). */
export function wantedDns(i: Record<string, unknown>): { enableDnsSupport: boolean; enableDnsHostnames: boolean } {
  const support = i.enableDnsSupport !== false;
  return { enableDnsSupport: support, enableDnsHostnames: support && i.enableDnsHostnames !== false };
}

/** What differs between a resource and the file: [fields that need a replacement, fields an update changes]. */
export function compare(ctx: Ctx, w: Want, doc: unknown): { replace: string[]; update: string[] } {
  const replace: (string | null)[] = [];
  const update: (string | null)[] = [];
  const i = w.input;
  switch (w.kind) {
    case 'vpc': {
      const v = doc as Vpc;
      replace.push(differs('cidr', v.cidr, canonical(String(i.cidr))));
      const dns = wantedDns(i);
      update.push(differs('dns', dnsSupport(v), dns.enableDnsSupport), differs('dns hostnames', dnsHostnames(v), dns.enableDnsHostnames));
      break;
    }
    case 'subnet': {
      const s = doc as Subnet;
      replace.push(differs('cidr', s.cidr, canonical(String(i.cidr))), differs('vpc', nameOf(ctx, s.vpcId), i.vpc));
      break;
    }
    case 'securityGroup': {
      const g = doc as SecurityGroup;
      update.push(differs('description', g.description, i.description ?? g.description));
      break;
    }
    case 'rules': {
      const g = doc as SecurityGroup;
      const now = new Set(g.rules.map((r) => ruleText(storedRule(ctx, r))));
      const want = new Set((i.rules as Parameters<typeof ruleText>[0][]).map(ruleText));
      for (const r of want) if (!now.has(r)) update.push(`+ ${r}`);
      for (const r of now) if (!want.has(r)) update.push(`- ${r}`);
      break;
    }
    case 'server': {
      const s = doc as Server;
      replace.push(
        differs('subnet', nameOf(ctx, s.subnetId), i.subnet),
        differs('ip', s.privateIp, i.ip),
        differs('app', s.app ?? null, i.app ?? null),
        differs('image', s.image ?? null, i.image ?? null),
      );
      const groups = i.securityGroups as string[] | undefined;
      if (groups)
        update.push(
          differs(
            'security groups',
            s.securityGroupIds.map((g) => nameOf(ctx, g)),
            groups,
          ),
        );
      break;
    }
    case 'peering': {
      const p = doc as Peering;
      replace.push(differs('vpc', nameOf(ctx, p.requesterVpcId), i.vpc), differs('peer vpc', nameOf(ctx, p.accepterVpcId), i.peerVpc));
      break;
    }
    case 'route': {
      const r = doc as RouteTable['routes'][number];
      replace.push(differs('target', routeTargetName(ctx, r.target), i.target));
      break;
    }
    case 'routeTable': {
      const t = doc as RouteTable;
      replace.push(differs('vpc', nameOf(ctx, t.vpcId), i.vpc));
      const now = ctx.store
        .list<Subnet>('subnet', { parentId: t.vpcId })
        .filter((x) => x.routeTableId === t.id)
        .map((x) => x.name)
        .sort();
      update.push(differs('subnets', now, [...((i.subnets as string[] | undefined) ?? [])].sort()));
      break;
    }
    case 'networkAcl': {
      const a = doc as StoredAcl;
      replace.push(differs('vpc', nameOf(ctx, a.vpcId), i.vpc));
      const now = i.default
        ? undefined
        : ctx.store
            .list<Subnet>('subnet', { parentId: a.vpcId })
            .filter((x) => x.networkAclId === a.id)
            .map((x) => x.name)
            .sort();
      if (now) update.push(differs('subnets', now, [...((i.subnets as string[] | undefined) ?? [])].sort()));
      const have = new Set(a.rules.map(aclRuleText));
      const want = new Set(((i.rules as AclRuleInput[] | undefined) ?? []).map((r) => aclRuleText(aclRuleOfInput(r))));
      for (const r of want) if (!have.has(r)) update.push(`+ ${r}`);
      for (const r of have) if (!want.has(r)) update.push(`- ${r}`);
      break;
    }
    case 'internetGateway': {
      const g = doc as InternetGateway;
      update.push(differs('vpc', nameOf(ctx, g.vpcId), i.vpc ?? null));
      break;
    }
    case 'elasticIp': {
      const e = doc as ElasticIp;
      if (typeof i.publicIp === 'string') replace.push(differs('public ip', e.publicIp, i.publicIp));
      if (!e.natGatewayId) update.push(differs('server', nameOf(ctx, e.serverId), i.server ?? null));
      break;
    }
    case 'natGateway': {
      const n = doc as NatGateway;
      replace.push(
        differs('subnet', nameOf(ctx, n.subnetId), i.subnet),
        differs('elastic ip', nameOf(ctx, n.allocationId), i.elasticIp),
        differs('ip', n.privateIp, i.ip),
      );
      break;
    }
    case 'flowLog': {
      // AWS cannot change a flow log: any difference makes a new one.
      const f = doc as FlowLog;
      const want = (['vpc', 'subnet', 'server'] as const).find((k) => i[k] !== undefined);
      replace.push(
        differs('watches', `${f.resourceType} ${nameOf(ctx, f.resourceId)}`, want ? `${want} ${String(i[want])}` : 'none'),
        differs('traffic', f.trafficType, String(i.trafficType ?? 'ALL').toUpperCase()),
        differs('window', f.maxAggregationInterval, i.maxAggregationInterval ?? 600),
      );
      break;
    }
    case 'loadBalancer': {
      const lb = doc as LoadBalancer;
      replace.push(differs('subnet', nameOf(ctx, lb.subnetId), i.subnet), differs('vip', lb.vip, i.vip));
      if (typeof i.publicIp === 'string') replace.push(differs('public ip', lb.publicIp, i.publicIp));
      else if (i.publicIp !== undefined) replace.push(differs('public ip', lb.publicIp !== null, i.publicIp));
      update.push(differs('workers', lb.workers ?? 1, i.workers ?? 1));
      break;
    }
    case 'pool': {
      const p = doc as Pool;
      replace.push(differs('protocol', p.protocol, lower(i.protocol)), differs('load balancer', nameOf(ctx, p.loadBalancerId), i.loadBalancer));
      update.push(differs('algorithm', p.algorithm, lower(i.algorithm)));
      const persistence = i.persistence ? { type: lower(i.persistence), ...(i.cookieName ? { cookieName: i.cookieName } : {}) } : null;
      update.push(differs('persistence', p.sessionPersistence, persistence));
      for (const k of Object.keys(POOL_LIMITS) as (keyof typeof POOL_LIMITS)[]) update.push(differs(k, p[k] ?? null, i[k] ?? null));
      break;
    }
    case 'healthMonitor': {
      const h = doc as HealthMonitor;
      replace.push(differs('type', h.type, lower(i.type)));
      for (const k of ['delay', 'timeout', 'maxRetries', 'maxRetriesDown', 'urlPath', 'expectedCodes'] as const) update.push(differs(k, h[k], i[k]));
      break;
    }
    case 'member': {
      const m = doc as Member;
      update.push(differs('weight', m.weight, i.weight ?? 1));
      break;
    }
    case 'l7Policy': {
      // A policy that differs in anything is made anew, at its place.
      const p = doc as L7Policy;
      const rules = (rs: Parameters<typeof l7RuleText>[0][]) => rs.map(l7RuleText).join('; ');
      replace.push(
        differs('listener', nameOf(ctx, p.listenerId), i.listener),
        differs('position', p.position, i.position),
        differs('action', p.action, lower(i.action)),
        differs('pool', nameOf(ctx, p.redirectPoolId), i.redirectPool ?? null),
        differs('url', p.redirectUrl, i.redirectUrl ?? null),
        differs('prefix', p.redirectPrefix, i.redirectPrefix ?? null),
        differs('code', p.redirectHttpCode, i.redirectUrl || i.redirectPrefix ? (i.redirectHttpCode ?? 302) : null),
        differs('fixed response', fixedOf(p.fixedResponse), fixedOf(i.fixedResponse as never)),
        differs('rules', rules(p.rules), rules((i.rules ?? []) as never)),
      );
      break;
    }
    case 'listener': {
      const l = doc as Listener;
      replace.push(
        differs('protocol', l.protocol, lower(i.protocol) === 'HTTPS' ? 'TERMINATED_HTTPS' : lower(i.protocol)),
        differs('port', l.port, i.port),
        differs('load balancer', nameOf(ctx, l.loadBalancerId), i.loadBalancer),
      );
      update.push(differs('pool', nameOf(ctx, l.defaultPoolId), i.defaultPool ?? null));
      update.push(differs('certificate', nameOf(ctx, l.certificateId), i.certificate ?? null));
      update.push(
        differs(
          'SNI certificates',
          (l.sniCertificateIds ?? []).map((id) => nameOf(ctx, id)),
          (i.sniCertificates as string[] | undefined) ?? [],
        ),
      );
      for (const k of Object.keys(LISTENER_LIMITS) as (keyof typeof LISTENER_LIMITS)[])
        update.push(differs(k, l[k] ?? LISTENER_LIMITS[k].default, i[k] ?? LISTENER_LIMITS[k].default));
      break;
    }
  }
  return { replace: replace.filter((x): x is string => x !== null), update: update.filter((x): x is string => x !== null) };
}

/** What an owned key (`kind:identity`) names now, for a delete. */
function ownedExisting(ctx: Ctx, key: string): { kind: TopoKind; name: string; id: string } | null {
  const kind = key.slice(0, key.indexOf(':')) as TopoKind;
  const rest = key.slice(key.indexOf(':') + 1);
  // A group's rules, and a VPC's default ACL, are never deleted: they go with their group or VPC.
  if (!ORDER.includes(kind) || kind === 'rules' || (kind === 'networkAcl' && rest.startsWith('default@'))) return null;
  if (kind === 'route') {
    const [table, ...dest] = rest.split(':');
    const input = table.startsWith('rt=') ? { routeTable: table.slice(3) } : { vpc: table.slice(4) };
    const t = tableOf(ctx, input);
    const d = dest.join(':');
    return t?.routes.some((r) => r.destination === d) ? { kind, name: `${t.name} ${d}`, id: t.id } : null;
  }
  if (kind === 'member') {
    const [pool, who, port] = rest.split(':');
    const isIp = /^[\d.]+$/.test(who);
    const m = memberOf(ctx, { pool, port: Number(port), ...(isIp ? { address: who } : { server: who }) });
    return m ? { kind, name: m.name, id: m.id } : null;
  }
  if (kind === 'healthMonitor') {
    const pool = byName<Pool>(ctx, 'pool', rest);
    const h = pool ? ctx.store.list<HealthMonitor>('healthMonitor', { parentId: pool.id })[0] : undefined;
    return h ? { kind, name: rest, id: h.id } : null;
  }
  const doc = byName<{ id: string; name: string }>(ctx, kind, rest);
  return doc ? { kind, name: doc.name, id: doc.id } : null;
}

/**
 * The plan: deletions first (what is no longer in the file, the last made first), then
 * creations, replacements, updates and adoptions in the order things are made.
 */
export function planTopology(ctx: Ctx, list: Want[], owned: Set<string>): Step[] {
  const found = new Map(list.map((w) => [w.key, existing(ctx, w)]));
  const verdict = new Map<string, { action: Step['action']; why: string }>();
  for (const w of list) {
    const now = found.get(w.key);
    if (!now) {
      verdict.set(w.key, { action: 'create', why: 'not there yet' });
      continue;
    }
    const { replace, update } = compare(ctx, w, now.doc);
    if (replace.length) verdict.set(w.key, { action: 'replace', why: replace.join('; ') });
    else if (update.length) verdict.set(w.key, { action: 'update', why: update.join('; ') });
    else if (!owned.has(w.key) && w.kind !== 'rules')
      verdict.set(w.key, { action: 'adopt', why: 'exists already as the file says: owned by the file from now on' });
  }
  // What stands on a replaced resource is replaced with it.
  for (let changed = true; changed;) {
    changed = false;
    for (const w of list) {
      const v = verdict.get(w.key);
      if (v?.action === 'create' || v?.action === 'replace' || !found.get(w.key)) continue;
      const gone = w.needs.find((n) => verdict.get(n)?.action === 'replace');
      if (!gone) continue;
      const [kind, ...name] = gone.split(':');
      verdict.set(w.key, { action: w.kind === 'rules' ? 'update' : 'replace', why: `${KIND_TEXT[kind as TopoKind] ?? kind} ${name.join(':')} is replaced` });
      changed = true;
    }
  }
  const rank = (k: TopoKind) => ORDER.indexOf(k);
  const deletes: Step[] = [];
  const wanted = new Set(list.map((w) => w.key));
  for (const key of owned) {
    if (wanted.has(key)) continue;
    const e = ownedExisting(ctx, key);
    if (e) deletes.push({ action: 'delete', kind: e.kind, name: e.name, path: '', why: 'no longer in the file', key, want: null, id: e.id, needs: [] });
  }
  deletes.sort((a, b) => rank(b.kind as TopoKind) - rank(a.kind as TopoKind));
  const rest: Step[] = [];
  for (const w of list) {
    const v = verdict.get(w.key);
    if (!v) continue;
    rest.push({
      action: v.action,
      kind: w.kind,
      name: w.name,
      path: pathText(w.path),
      why: v.why,
      key: w.key,
      want: w,
      id: found.get(w.key)?.id ?? null,
      needs: w.needs,
    });
  }
  rest.sort((a, b) => rank(a.kind as TopoKind) - rank(b.kind as TopoKind));
  // A replacement is one step: apply removes the old one among the deletions, the last made first.
  return [...deletes, ...rest];
}
