/**
 * Plan, apply and destroy a topology file, through the same services the API calls.
 *
 * Meaning is checked by doing: every step of the plan runs in one transaction that is then
 * rolled back (each step in a savepoint of its own, so one refusal does not hide the next,
 * and a step that stands on a refused one is skipped). Every refusal is reported with the
 * path of the file's entry and its line; a file with any problem changes nothing.
 *
 * Apply then runs the steps for real, one transaction each, recording in the same
 * transaction which resources the file owns (a `topology` record per file name and
 * project). A failure stops the run and reports what was done and what was not; the next
 * apply plans from where things are, so it finishes the job (also after the daemon was killed).
 */
import { NimbusError, invalid } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { TopologyFile, TopologyPlan, TopologyStep } from '../../core/model/index.js';
import { ChangeFeed, now, write, type Ctx } from '../context.js';
import { createVpc, deleteVpc, updateVpc } from '../vpc/service.js';
import { createFlowLog, deleteFlowLog } from '../flow-log/service.js';
import { createSubnet, deleteSubnet } from '../subnet/service.js';
import { addRule, createSecurityGroup, deleteSecurityGroup, getSecurityGroup, removeRule, updateSecurityGroup } from '../security-group/service.js';
import { createServer, deleteServer, updateServer } from '../server/service.js';
import { createPeering, deletePeering } from '../peering/service.js';
import { addRoute, associate, createRouteTable, deleteRouteTable, disassociate, getRouteTable, removeRoute } from '../route-table/service.js';
import * as edge from '../edge/service.js';
import {
  createHealthMonitor,
  createL7Policy,
  deleteL7Policy,
  createListener,
  createLoadBalancer,
  createMember,
  createPool,
  deleteHealthMonitor,
  deleteListener,
  deleteLoadBalancer,
  deleteMember,
  deletePool,
  updateHealthMonitor,
  updateListener,
  updateLoadBalancer,
  updateMember,
  updatePool,
} from '../load-balancer/service.js';
import type { AclRuleInput, RouteTable } from '../../core/model/index.js';
import * as acls from '../network-acl/service.js';
import { describeAclRule } from '../../core/acl.js';
import { parseTopology, pathText, type FileProblem } from './parse.js';
import { boundProblems } from './bounds.js';
import { defaultAclOf, ORDER, planTopology, ruleText, storedRule, wantedDns, wants, type Step, type TopoKind, type Want } from './plan.js';

interface Ownership {
  id: string;
  name: string;
  projectId: string;
  owned: string[];
  createdAt: string;
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function ownerName(file: TopologyFile, given: string | undefined): string {
  const name = file.name ?? given;
  if (!name) throw new NimbusError('InvalidParameterValue', "name: the file has no 'name:' and none was given (the CLI sends the file's name)");
  if (!FILE_NAME.test(name)) throw new NimbusError('InvalidParameterValue', `name: '${name}' must be letters, digits, '.', '_' or '-' (at most 63)`);
  return name;
}

function ownership(ctx: Ctx, name: string): Ownership | undefined {
  return ctx.store.byName<Ownership>('topology', ctx.projectId, name);
}

/** The keys (`kind:name`) a topology file owns now. */
export function ownedKeys(ctx: Ctx, name: string): Set<string> {
  return new Set(ownership(ctx, name)?.owned ?? []);
}

function own(ctx: Ctx, name: string, change: (owned: Set<string>) => void): void {
  const rec = ownership(ctx, name);
  const owned = new Set(rec?.owned ?? []);
  change(owned);
  if (rec) ctx.store.update({ ...rec, owned: [...owned].sort() } as never);
  else
    ctx.store.insert(
      'topology',
      { id: newId('topology'), name, projectId: ctx.projectId, owned: [...owned].sort(), createdAt: now() } satisfies Ownership as never,
      ctx.projectId,
    );
}

/** Carries out one step through the services (inside the caller's transaction). */
function carryOut(ctx: Ctx, s: Step, half: 'delete' | 'make'): void {
  // The file's schema is made of the services' input schemas, so an entry is its create's input.
  const f: Record<string, unknown> = s.want?.input ?? {};
  const i = f as never;
  if (half === 'delete') return remove(ctx, s.kind as TopoKind, s.id!, s.want?.input ?? keyInput(s.key));
  if (s.action === 'adopt') return;
  const update = s.action === 'update';
  switch (s.kind as TopoKind) {
    case 'vpc':
      return void (update ? updateVpc(ctx, s.name, wantedDns(f)) : createVpc(ctx, i));
    case 'subnet':
      return void createSubnet(ctx, i);
    case 'securityGroup':
      return void (update ? updateSecurityGroup(ctx, s.name, { description: f.description as string | undefined }) : createSecurityGroup(ctx, i));
    case 'rules': {
      const g = getSecurityGroup(ctx, s.name);
      const want = f.rules as Parameters<typeof ruleText>[0][];
      const wantText = new Set(want.map(ruleText));
      for (const r of g.rules) if (!wantText.has(ruleText(storedRule(ctx, r)))) removeRule(ctx, g.id, r.id);
      const have = new Set(getSecurityGroup(ctx, g.id).rules.map((r) => ruleText(storedRule(ctx, r))));
      for (const r of want) if (!have.has(ruleText(r))) addRule(ctx, g.id, r as never);
      return;
    }
    case 'server':
      return void (update ? updateServer(ctx, s.name, { securityGroups: f.securityGroups as string[] | undefined }) : createServer(ctx, i));
    case 'peering':
      return void createPeering(ctx, i);
    case 'route':
      return void addRoute(ctx, i);
    case 'routeTable': {
      const t = update ? getRouteTable(ctx, s.name) : createRouteTable(ctx, { name: s.name, vpc: String(f.vpc) });
      const want = new Set((f.subnets as string[] | undefined) ?? []);
      for (const id of getRouteTable(ctx, t.id).subnetIds) {
        const sub = ctx.store.get<{ name: string }>(id, 'subnet');
        if (sub && !want.has(sub.name) && !t.main) disassociate(ctx, id);
      }
      for (const name of want) associate(ctx, t.id, name);
      return;
    }
    case 'networkAcl': {
      const own = f.default ? defaultAclOf(ctx, f.vpc) : undefined;
      if (f.default && !own) throw invalid(`networkAcls: VPC '${String(f.vpc)}' has no default ACL (is it in the project?)`);
      const a = own
        ? acls.getNetworkAcl(ctx, own.id)
        : update
          ? acls.getNetworkAcl(ctx, s.name)
          : acls.createNetworkAcl(ctx, { name: s.name, vpc: String(f.vpc) });
      // The rules become exactly the file's (removed first: a number may change hands), then the subnets.
      const want = ((f.rules as AclRuleInput[] | undefined) ?? []).map((r) => acls.aclRuleOf(r));
      const wantText = new Set(want.map(describeAclRule));
      for (const r of a.rules) if (!wantText.has(describeAclRule(r))) acls.removeAclRule(ctx, a.id, r.direction, r.number);
      const have = new Set(acls.getNetworkAcl(ctx, a.id).rules.map(describeAclRule));
      for (const r of (f.rules as AclRuleInput[] | undefined) ?? []) if (!have.has(describeAclRule(acls.aclRuleOf(r)))) acls.addAclRule(ctx, a.id, r);
      if (own) return;
      const subnets = new Set((f.subnets as string[] | undefined) ?? []);
      const def = acls.listNetworkAcls(ctx, { vpc: a.vpcId }).find((x) => x.isDefault);
      for (const id of acls.getNetworkAcl(ctx, a.id).subnetIds) {
        const sub = ctx.store.get<{ name: string }>(id, 'subnet');
        if (sub && !subnets.has(sub.name) && def) acls.associateAcl(ctx, def.id, id);
      }
      for (const name of subnets) acls.associateAcl(ctx, a.id, name);
      return;
    }
    case 'internetGateway': {
      if (!update) return void edge.createInternetGateway(ctx, { name: s.name, ...(f.vpc ? { vpc: String(f.vpc) } : {}) });
      const g = edge.getInternetGateway(ctx, s.name);
      if (g.vpcId) edge.detachInternetGateway(ctx, g.id);
      if (f.vpc) edge.attachInternetGateway(ctx, g.id, String(f.vpc));
      return;
    }
    case 'elasticIp': {
      const e = update ? edge.getAddress(ctx, s.name) : edge.allocateElasticIp(ctx, { name: s.name, ...(f.publicIp ? { publicIp: String(f.publicIp) } : {}) });
      if (update && e.serverId) edge.disassociateAddress(ctx, e.id);
      if (f.server) edge.associateAddress(ctx, e.id, { server: String(f.server) });
      return;
    }
    case 'natGateway':
      return void edge.createNatGateway(ctx, i);
    case 'flowLog':
      return void createFlowLog(ctx, i);
    case 'loadBalancer':
      return void (update ? updateLoadBalancer(ctx, s.name, { workers: (f.workers as number | undefined) ?? 1 }) : createLoadBalancer(ctx, i));
    case 'pool': {
      if (!update) return void createPool(ctx, i);
      const { name: _n, loadBalancer: _l, protocol: _p, ...rest } = f;
      return void updatePool(ctx, s.name, {
        persistence: null,
        ...rest,
        timeoutMemberConnect: rest.timeoutMemberConnect ?? null,
        timeoutMemberData: rest.timeoutMemberData ?? null,
      } as never);
    }
    case 'healthMonitor': {
      if (!update) return void createHealthMonitor(ctx, i);
      const { pool: _p, type: _t, name: _n, ...rest } = f;
      return void updateHealthMonitor(ctx, s.id!, rest as never);
    }
    case 'member':
      return void (update ? updateMember(ctx, s.id!, { weight: (f.weight as number | undefined) ?? 1 }) : createMember(ctx, i));
    case 'l7Policy':
      // Any difference replaces a policy (plan.ts): it is only ever made.
      return void createL7Policy(ctx, i as never);
    case 'listener': {
      if (!update) return void createListener(ctx, i);
      const { name: _n, loadBalancer: _l, protocol: _p, port: _port, ...rest } = f;
      return void updateListener(ctx, s.name, { defaultPool: null, sniCertificates: [], ...rest } as never);
    }
  }
}

/** The input a delete needs when the file no longer names the resource (from its owned key). */
function keyInput(key: string): Record<string, unknown> {
  const rest = key.slice(key.indexOf(':') + 1);
  if (key.startsWith('route:')) {
    const [table, ...dest] = rest.split(':');
    return { ...(table.startsWith('rt=') ? { routeTable: table.slice(3) } : { vpc: table.slice(4) }), destination: dest.join(':') };
  }
  return {};
}

function remove(ctx: Ctx, kind: TopoKind, id: string, input: Record<string, unknown>): void {
  switch (kind) {
    case 'vpc':
      return void deleteVpc(ctx, id);
    case 'subnet':
      return void deleteSubnet(ctx, id);
    case 'securityGroup':
      return void deleteSecurityGroup(ctx, id);
    case 'server':
      return void deleteServer(ctx, id);
    case 'peering':
      return void deletePeering(ctx, id);
    case 'routeTable': {
      for (const sub of getRouteTable(ctx, id).subnetIds) disassociate(ctx, sub);
      return void deleteRouteTable(ctx, id);
    }
    case 'networkAcl': {
      const a = acls.getNetworkAcl(ctx, id);
      const def = acls.listNetworkAcls(ctx, { vpc: a.vpcId }).find((x) => x.isDefault);
      if (def) for (const sub of a.subnetIds) acls.associateAcl(ctx, def.id, sub);
      return void acls.deleteNetworkAcl(ctx, id);
    }
    case 'internetGateway': {
      if (edge.getInternetGateway(ctx, id).vpcId) edge.detachInternetGateway(ctx, id);
      return void edge.deleteInternetGateway(ctx, id);
    }
    case 'elasticIp': {
      const e = edge.getAddress(ctx, id);
      if (e.serverId) edge.disassociateAddress(ctx, id);
      return void edge.releaseAddress(ctx, id);
    }
    case 'natGateway':
      return void edge.deleteNatGateway(ctx, id);
    case 'flowLog':
      return void deleteFlowLog(ctx, id);
    case 'route': {
      const table = ctx.store.get<RouteTable>(id, 'routeTable');
      return void removeRoute(ctx, { routeTable: table?.id ?? String(input.routeTable ?? ''), destination: String(input.destination) });
    }
    case 'loadBalancer':
      return void deleteLoadBalancer(ctx, id);
    case 'pool':
      return void deletePool(ctx, id);
    case 'healthMonitor':
      return void deleteHealthMonitor(ctx, id);
    case 'member':
      return void deleteMember(ctx, id);
    case 'listener':
      return void deleteListener(ctx, id);
    case 'l7Policy':
      // Gone already when its listener went.
      if (ctx.store.get(id, 'l7Policy')) deleteL7Policy(ctx, id);
      return;
    case 'rules':
      return;
  }
}

/** The steps in the order they run: each removal (a delete, the old half of a replacement), the last made first; then the rest, the first made first. */
function phases(steps: Step[]): { step: Step; half: 'delete' | 'make' }[] {
  const rank = (s: Step) => ORDER.indexOf(s.kind as TopoKind);
  const removals = steps.filter((s) => s.action === 'delete' || (s.action === 'replace' && s.kind !== 'rules')).sort((a, b) => rank(b) - rank(a));
  const makes = steps.filter((s) => s.action !== 'delete').sort((a, b) => rank(a) - rank(b));
  return [...removals.map((step) => ({ step, half: 'delete' as const })), ...makes.map((step) => ({ step, half: 'make' as const }))];
}

function problemOf(parsed: ReturnType<typeof parseTopology>, s: Step, err: unknown): FileProblem {
  const e = err instanceof NimbusError ? err : new NimbusError('InternalError', String(err));
  let path = s.want?.path ?? [];
  let message = e.message;
  // A refusal that starts with the field at fault ("ip 10.0.0.255 is reserved", "cidr: ...") points at that field.
  const field = /^([a-zA-Z]+)(?::\s*|\s+)/.exec(message);
  if (s.want && field && field[1] in s.want.input) {
    path = [...path, field[1]];
    message = message.slice(field[0].length);
  }
  const where = s.want ? pathText(path) : `${s.kind} ${s.name}`;
  return { path: s.want ? pathText(path) : '', line: s.want ? parsed.lineOf(path) : null, code: e.code, message: `${where}: ${message} (${e.code})` };
}

function refuse(problems: FileProblem[]): never {
  const lines = problems.map((p) => `${p.line ? `line ${p.line}: ` : ''}${p.message}`);
  throw new NimbusError(
    'InvalidTopology',
    `the file has ${problems.length} problem${problems.length > 1 ? 's' : ''}; nothing was changed:\n${lines.join('\n')}`,
    { problems },
  );
}

/** The file read and checked (shape, then meaning by a dry run), and its plan. */
export function planFile(ctx: Ctx, text: string, given?: string): { name: string; steps: Step[]; list: Want[] } {
  const parsed = parseTopology(text);
  if (!parsed.file) refuse(parsed.problems);
  const name = ownerName(parsed.file, given);
  const list = wants(parsed.file);
  // Bounded by what it holds before the dry run, which holds the daemon while it runs.
  const bounds = boundProblems(ctx, list, parsed.lineOf);
  if (bounds.length) refuse(bounds);
  const dupes = new Map<string, Want>();
  const problems: FileProblem[] = [];
  for (const w of list) {
    const first = dupes.get(w.key);
    if (first)
      problems.push({
        path: pathOf(w),
        line: parsed.lineOf(w.path),
        code: 'NameInUse',
        message: `${pathOf(w)}: ${w.kind} '${w.name}' is already in the file at ${pathOf(first)} (NameInUse)`,
      });
    else dupes.set(w.key, w);
    if (w.kind === 'networkAcl' && w.input.default && ((w.input.subnets as string[] | undefined) ?? []).length > 0)
      problems.push({
        path: pathOf(w),
        line: parsed.lineOf(w.path),
        code: 'InvalidParameterValue',
        message: `${pathOf(w)}: the default ACL of '${String(w.input.vpc)}' takes rules only; every subnet behind no other ACL is behind it (InvalidParameterValue)`,
      });
  }
  if (problems.length) refuse(problems);
  const steps = planTopology(ctx, list, new Set(ownership(ctx, name)?.owned ?? []));
  dryRun(ctx, steps, parsed);
  return { name, steps, list };
}

const pathOf = (w: Want) => pathText(w.path);

class Rollback extends Error {}

/** How long a step waits for a busy load balancer to be ACTIVE. */
const IMMUTABLE_WAIT_MS = 120_000;

function dryRun(ctx: Ctx, steps: Step[], parsed: ReturnType<typeof parseTopology>): void {
  const problems: FileProblem[] = [];
  // The dry run checks meaning: a load balancer busy now is not a problem of the file.
  const quiet: Ctx = { ...ctx, feed: new ChangeFeed(), lbProvisioning: undefined };
  const failed = new Set<string>();
  try {
    ctx.store.tx(() => {
      for (const { step, half } of phases(steps)) {
        if (step.needs.some((n) => failed.has(n))) {
          failed.add(step.key);
          continue;
        }
        try {
          ctx.store.tx(() => carryOut(quiet, step, half));
        } catch (err) {
          failed.add(step.key);
          problems.push(problemOf(parsed, step, err));
        }
      }
      throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  if (problems.length) refuse(problems);
}

export function planView(name: string, steps: Step[]): TopologyPlan {
  return { name, steps: steps.map(({ action, kind, name: n, path, why }) => ({ action, kind, name: n, path, why })) };
}

export interface ApplyEvent {
  step: TopologyStep;
  done: number;
  total: number;
}

/**
 * Applies a checked plan, one transaction per step, calling `progress` after each and
 * yielding between steps (so progress can be sent as it happens, and other requests go on).
 */
export async function applyPlan(ctx: Ctx, name: string, steps: Step[], progress: (e: ApplyEvent) => void): Promise<void> {
  const all = phases(steps);
  let done = 0;
  for (const { step, half } of all) {
    try {
      // A step on a load balancer that is busy applying the previous one waits for ACTIVE (mutable.ts).
      for (const deadline = Date.now() + IMMUTABLE_WAIT_MS; ;) {
        try {
          write(ctx, () => {
            carryOut(ctx, step, half);
            if (half === 'make' || step.action === 'delete') own(ctx, name, (o) => (step.action === 'delete' ? o.delete(step.key) : o.add(step.key)));
          });
          break;
        } catch (err) {
          if (!(err instanceof NimbusError && err.code === 'ImmutableObject') || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } catch (err) {
      const e = err instanceof NimbusError ? err : new NimbusError('InternalError', String(err));
      const rest = all
        .slice(done)
        .map(({ step: s, half: h }) => `${h === 'delete' && s.action === 'replace' ? 'remove (to replace)' : s.action} ${s.kind} ${s.name}`);
      throw new NimbusError(
        e.code,
        `${step.action} ${step.kind} ${step.name} failed: ${e.message}\n${done} of ${all.length} steps done; not done: ${rest.join(', ')}. Run apply again to finish.`,
      );
    }
    done++;
    progress({
      step: {
        action: half === 'delete' && step.action === 'replace' ? 'delete' : step.action,
        kind: step.kind,
        name: step.name,
        path: step.path,
        why: step.why,
      },
      done,
      total: all.length,
    });
    await new Promise((r) => setImmediate(r));
  }
  // A file that owns nothing any more leaves no record behind.
  const rec = ownership(ctx, name);
  if (rec && rec.owned.length === 0) write(ctx, () => ctx.store.delete(rec.id));
}

/** The plan that removes everything a file owns (`nimbus destroy`). */
export function destroyPlan(ctx: Ctx, name: string): Step[] {
  const rec = ownership(ctx, name);
  if (!rec) throw new NimbusError('InvalidTopology.NotFound', `no topology file named '${name}' owns anything in this project`);
  return planTopology(ctx, [], new Set(rec.owned));
}

/** Names of the topology files that own resources in the project. */
export function topologyNames(ctx: Ctx): string[] {
  return ctx.store.list<Ownership>('topology', { projectId: ctx.projectId }).map((t) => t.name);
}
