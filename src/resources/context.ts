/**
 * What every service works with: the store, the project the caller acts for, and the
 * change feed the reconciler listens to. Also the lookups shared by all services: a
 * resource by id or name, and the refusal when there is none.
 */
import { EventEmitter } from 'node:events';
import { NimbusError, invalid, type ErrorCode } from '../core/errors.js';
import { KIND_LABEL, kindOfId, looksLikeAnyId, looksLikeId, type Kind } from '../core/ids.js';
import type { Store } from '../store/db.js';
import { DEFAULT_QUOTAS, QUOTA_CODES, type QuotaKind } from '../core/model/quotas.js';

export interface Change {
  kind: Kind;
  id: string;
  op: 'created' | 'updated' | 'deleted';
}

/** Emits `change` (a Change) after each committed write. */
export class ChangeFeed extends EventEmitter {
  private pending: Change[] = [];
  record(change: Change): void {
    this.pending.push(change);
  }
  /** Called after a transaction commits; a rolled-back transaction calls discard(). */
  flush(): void {
    const list = this.pending;
    this.pending = [];
    for (const c of list) this.emit('change', c);
  }
  discard(): void {
    this.pending = [];
  }
}

export interface Ctx {
  readonly store: Store;
  readonly projectId: string;
  readonly feed: ChangeFeed;
  /** The caller holds an admin token (or is the daemon itself): admin-only operations are allowed. */
  readonly admin?: boolean;
  /** The first address of this installation's workload range (127.64.0.0 when not set). */
  readonly workloadBase?: number;
  /** A load balancer's live provisioning status (the daemon's; absent, changes are not refused for it: load-balancer/mutable.ts). */
  readonly lbProvisioning?: (lbId: string) => string;
  /** The chassis servers are placed on (the ovn data plane; absent on the others). */
  readonly chassis?: ChassisPlacement;
  /** What the running data plane does not enforce yet: a change that would rely on it is refused (requirePlane). */
  readonly planeLacks?: ReadonlySet<PlaneFeature>;
}

export type PlaneFeature = 'flow logs';

/**
 * Refuses a change that the running data plane would store but not carry out (the ovn plane
 * has no flow logs yet): the analyzer would then explain verdicts that
 * real packets do not follow. Nothing is stored.
 */
export function requirePlane(ctx: Ctx, feature: PlaneFeature, what: string): void {
  if (!ctx.planeLacks?.has(feature)) return;
  throw new NimbusError(
    'UnsupportedOperation',
    `${what}: ${feature} are not carried out on the ovn data plane yet (docs/decisions.md, issue 29); the linux data plane has them`,
  );
}

export interface ChassisPlacement {
  names(): string[];
  /** The least loaded chassis. */
  spread(): string | null;
  /** Whether a chassis is a joined host's (its agent plugs its servers; the daemon runs nothing there). */
  joined(name: string): boolean;
}

/**
 * Refuses a creation past the project's quota of `kind` (`used` of them exist). Quotas bind
 * project tokens, the tenants; an admin token is the operator and is not bound.
 */
export function checkQuota(ctx: Ctx, kind: QuotaKind, used: number, what: string): void {
  const limit = quotaOf(ctx, kind);
  if (limit === null || used < limit) return;
  const project = ctx.store.get<{ name: string }>(ctx.projectId, 'project');
  throw new NimbusError(
    (QUOTA_CODES[kind] ?? 'QuotaExceeded') as ErrorCode,
    `project '${project?.name ?? ctx.projectId}' has ${used} ${what}, its quota of ${kind} is ${limit}; an admin can raise it (nimbus project quota ${project?.name ?? ctx.projectId} --set ${kind}=N)`,
  );
}

/** The project's quota of `kind` for this caller: null for an admin token (not bound). */
export function quotaOf(ctx: Ctx, kind: QuotaKind): number | null {
  if (ctx.admin) return null;
  const project = ctx.store.get<{ quotas?: Partial<Record<QuotaKind, number>> }>(ctx.projectId, 'project');
  return project?.quotas?.[kind] ?? DEFAULT_QUOTAS[kind];
}

/** Refuses an admin-only operation to a project token. */
export function requireAdmin(ctx: Ctx, what: string): void {
  if (!ctx.admin) throw new NimbusError('UnauthorizedOperation', `${what} needs an admin token; a project token may not`);
}

export const NOT_FOUND: Record<Kind, ErrorCode> = {
  project: 'InvalidProjectID.NotFound',
  vpc: 'InvalidVpcID.NotFound',
  subnet: 'InvalidSubnetID.NotFound',
  securityGroup: 'InvalidGroupID.NotFound',
  securityGroupRule: 'InvalidPermission.NotFound',
  server: 'InvalidServerID.NotFound',
  routeTable: 'InvalidRouteTableID.NotFound',
  peering: 'InvalidVpcPeeringConnectionID.NotFound',
  loadBalancer: 'InvalidLoadBalancerID.NotFound',
  listener: 'InvalidListenerID.NotFound',
  pool: 'InvalidPoolID.NotFound',
  member: 'InvalidMemberID.NotFound',
  healthMonitor: 'InvalidHealthMonitorID.NotFound',
  token: 'InvalidTokenID.NotFound',
  topology: 'InvalidTopology.NotFound',
  targetGroup: 'TargetGroupNotFound',
  internetGateway: 'InvalidInternetGatewayID.NotFound',
  elasticIp: 'InvalidAllocationID.NotFound',
  natGateway: 'NatGatewayNotFound',
  internetHost: 'InvalidInternetHost.NotFound',
  networkAcl: 'InvalidNetworkAclID.NotFound',
  flowLog: 'InvalidFlowLogId.NotFound',
  l7Policy: 'InvalidL7PolicyID.NotFound',
  l7Rule: 'InvalidL7RuleID.NotFound',
  certificate: 'InvalidCertificateID.NotFound',
};

export function notFound(kind: Kind, ref: string): NimbusError {
  return new NimbusError(NOT_FOUND[kind], `${KIND_LABEL[kind]} '${ref}' does not exist`);
}

/**
 * Finds a resource of the caller's project by id or name. Another project's resources look
 * exactly like unknown ones.
 */
export function resolve<T extends { projectId: string }>(ctx: Ctx, kind: Kind, ref: unknown, field: string = kind): T {
  if (typeof ref !== 'string' || ref === '') throw invalid(`${field}: a name or id is required`);
  if (looksLikeId(kind, ref)) {
    const doc = ctx.store.get<T>(ref, kind);
    if (doc && doc.projectId === ctx.projectId) return doc;
  }
  const byName = ctx.store.byName<T>(kind, ctx.projectId, ref);
  if (byName) return byName;
  throw notFound(kind, ref);
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Checks a resource name's shape and that no live resource of the kind in the project has it. */
export function checkName(ctx: Ctx, kind: Kind, name: unknown, selfId?: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalid(`name: '${String(name)}' must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  if (looksLikeAnyId(name)) throw invalid(`name: '${name}' has the shape of an id; choose another name`);
  const other = ctx.store.byName<{ id: string }>(kind, ctx.projectId, name);
  if (other && other.id !== selfId) {
    throw new NimbusError('NameInUse', `${KIND_LABEL[kind]} name '${name}' is already used by ${other.id}`);
  }
  return name;
}

/** How many dependants a DependencyViolation names before "and N more". */
const NAMED_DEPENDANTS = 10;

/**
 * The refusal to delete `what` while others depend on it: each dependant by kind, name and id
 * (the first ten, then how many more), so the user knows what to delete first.
 */
export function dependencyViolation(what: string, dependants: { id: string; name: string; projectId?: string }[], viewer?: string): NimbusError {
  const named = dependants.slice(0, NAMED_DEPENDANTS).map((d) => {
    const kind = kindOfId(d.id);
    const label = kind ? KIND_LABEL[kind] : 'resource';
    // Another project's resource (a peering it requested) is named by id only.
    if (viewer && d.projectId && d.projectId !== viewer) return `${label} ${d.id}`;
    return `${label} '${d.name}' (${d.id})`;
  });
  const more = dependants.length > NAMED_DEPENDANTS ? ` and ${dependants.length - NAMED_DEPENDANTS} more` : '';
  return new NimbusError('DependencyViolation', `${what} is still used by ${named.join(', ')}${more}; delete ${dependants.length === 1 ? 'it' : 'them'} first`);
}

/** Runs a write in one transaction and publishes its changes only once it has committed. */
export function write<T>(ctx: Ctx, fn: () => T): T {
  // Inside another use case's transaction (a cascade): its commit publishes.
  if (ctx.store.inTransaction) return fn();
  try {
    const out = ctx.store.tx(() => {
      // A request authenticated before its project was deleted finds it gone here, in the same
      // transaction as its change: nothing is ever made under a deleted project.
      if (ctx.projectId && !ctx.store.get(ctx.projectId, 'project'))
        throw new NimbusError('InvalidProjectID.NotFound', `project '${ctx.projectId}' does not exist (deleted)`);
      return fn();
    });
    ctx.feed.flush();
    return out;
  } catch (err) {
    ctx.feed.discard();
    throw err;
  }
}

export function now(): string {
  return new Date().toISOString();
}

/** Stores a new resource (under its parent, for listing) and records the change; call inside write(). */
export function saveNew<T extends { id: string; name: string; projectId?: string }>(ctx: Ctx, kind: Kind, doc: T, parentId?: string): T {
  ctx.store.insert(kind, doc, parentId);
  ctx.feed.record({ kind, id: doc.id, op: 'created' });
  return doc;
}

/** Stores a changed resource and records the change; call inside write(). */
export function saveUpdate<T extends { id: string; name: string }>(ctx: Ctx, kind: Kind, doc: T): T {
  ctx.store.update(doc);
  ctx.feed.record({ kind, id: doc.id, op: 'updated' });
  return doc;
}

/** Deletes a resource and records the change; call inside write(). */
export function saveDelete<T extends { id: string }>(ctx: Ctx, kind: Kind, doc: T): T {
  ctx.store.delete(doc.id);
  ctx.feed.record({ kind, id: doc.id, op: 'deleted' });
  return doc;
}
