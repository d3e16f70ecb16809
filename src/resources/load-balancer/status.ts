/**
 * A load balancer's live status, Octavia's way: each member's operating status from what the
 * worker's health checks and the admission say, each pool's from its members', the load
 * balancer's from its pools' and its worker; and its access log with member names. The
 * runtime facts come through LbRuntime (the daemon's load-balancer workers implement it).
 */
import { invalid } from '../../core/errors.js';
import type {
  AccessRecord,
  HealthMonitor,
  L7Policy,
  LbAccessRecord,
  LbStatusTree,
  ListenerCounters,
  LoadBalancer,
  Member,
  MemberCounters,
  MemberView,
  OperatingStatus,
  ProvisioningStatus,
  Refusal,
} from '../../core/model/index.js';
import type { Ctx } from '../context.js';
import { getLoadBalancer, listListeners, listPools, policiesOf } from './service.js';
import { l7PolicyTarget, l7RuleText } from '../../core/model/l7.js';

/** What the runtime knows of a load balancer. */
export interface LbRuntimeStatus {
  running: boolean;
  health: Record<string, 'UP' | 'DOWN'>;
  admission: Record<string, Refusal | null>;
  counters: { listeners: Record<string, ListenerCounters>; members: Record<string, MemberCounters> } | null;
  errors: string[];
  /** Which engine serves each listener, and why. */
  engines?: Record<string, { engine: 'kernel' | 'user-space'; reason: string }>;
}

/** The runtime side of load balancers, as the control plane reads it. */
export interface LbRuntime {
  status(lbId: string): LbRuntimeStatus;
  provisioning(lbId: string): ProvisioningStatus;
  accessLog(lbId: string, tail: number): AccessRecord[];
}

/** A member's operating status: refused members are OFFLINE (on purpose) or ERROR; then health decides. */
export function memberOperatingStatus(
  refusal: Refusal | null,
  health: 'UP' | 'DOWN' | undefined,
  monitored: boolean,
): { operatingStatus: OperatingStatus; statusReason: string | null } {
  if (refusal)
    return { operatingStatus: refusal.code === 'UNREACHABLE' || refusal.code === 'WORKLOAD_DOWN' ? 'ERROR' : 'OFFLINE', statusReason: refusal.message };
  if (health === 'DOWN') return { operatingStatus: 'ERROR', statusReason: 'failing its health check' };
  return { operatingStatus: monitored ? 'ONLINE' : 'NO_MONITOR', statusReason: null };
}

/** A pool's: OFFLINE without members, ERROR with none up, DEGRADED with some down. */
export function poolOperatingStatus(members: { operatingStatus: OperatingStatus }[]): OperatingStatus {
  const up = members.filter((m) => m.operatingStatus === 'ONLINE' || m.operatingStatus === 'NO_MONITOR').length;
  if (members.length === 0) return 'OFFLINE';
  if (up === 0) return 'ERROR';
  return up < members.length ? 'DEGRADED' : 'ONLINE';
}

/**
 * A load balancer's, one status with its provisioning: OFFLINE without listeners or while
 * PENDING_CREATE (Octavia's new load balancer), ERROR when provisioning is (a listener it
 * cannot serve) or without a running worker, DEGRADED when a pool is not ONLINE.
 */
export function lbOperatingStatus(
  listeners: number,
  workerRunning: boolean,
  pools: { operatingStatus: OperatingStatus }[],
  provisioning: ProvisioningStatus = 'ACTIVE',
): OperatingStatus {
  if (listeners === 0 || provisioning === 'PENDING_CREATE') return 'OFFLINE';
  if (provisioning === 'ERROR') return 'ERROR';
  if (!workerRunning) return 'ERROR';
  return pools.some((p) => p.operatingStatus !== 'ONLINE') ? 'DEGRADED' : 'ONLINE';
}

/** A member with its live status. */
export function presentMember(ctx: Ctx, runtime: LbRuntime, m: Member): MemberView {
  const pool = ctx.store.get<{ loadBalancerId: string }>(m.poolId, 'pool');
  const rt = pool ? runtime.status(pool.loadBalancerId) : null;
  const monitored = ctx.store.list<HealthMonitor>('healthMonitor', { parentId: m.poolId }).length > 0;
  return { ...m, ...memberOperatingStatus(rt?.admission[m.id] ?? null, rt?.health[m.id], monitored) };
}

/** A load balancer with its live provisioning status. */
export function presentLoadBalancer(runtime: LbRuntime, lb: LoadBalancer): LoadBalancer {
  return { ...lb, provisioningStatus: runtime.provisioning(lb.id) };
}

/** The status tree: listeners with counters, pools with their members' live status. */
export function statusTree(ctx: Ctx, runtime: LbRuntime, ref: string): LbStatusTree {
  const lb = getLoadBalancer(ctx, ref);
  const rt = runtime.status(lb.id);
  const pools = listPools(ctx, lb.id).map((p) => {
    const members = ctx.store.list<Member>('member', { parentId: p.id }).map((m) => presentMember(ctx, runtime, m));
    const healthMonitor = ctx.store.list<HealthMonitor>('healthMonitor', { parentId: p.id })[0] ?? null;
    return { ...p, operatingStatus: poolOperatingStatus(members as { operatingStatus: OperatingStatus }[]), healthMonitor, members };
  });
  const listeners = listListeners(ctx, lb.id);
  const live = presentLoadBalancer(runtime, lb);
  return {
    ...live,
    operatingStatus: lbOperatingStatus(listeners.length, rt.running, pools, live.provisioningStatus),
    workerRunning: rt.running,
    errors: rt.errors,
    listeners: listeners.map((l) => {
      const c = rt.counters?.listeners[l.id];
      const choice = rt.engines?.[l.id] ?? { engine: 'user-space' as const, reason: 'not running' };
      return {
        ...l,
        counters: c ? { requests: c.requests, active: c.active, connections: c.connections } : null,
        policies: policiesOf(ctx.store, l.id).map((p) => ({
          id: p.id,
          name: p.name,
          position: p.position,
          action: p.action,
          to: l7PolicyTarget(p, p.redirectPoolId ? (pools.find((x) => x.id === p.redirectPoolId)?.name ?? null) : null),
          rules: p.rules.map(l7RuleText),
          requests: c?.policies?.[p.id] ?? 0,
        })),
        engine: choice.engine,
        engineReason: choice.reason,
      };
    }),
    pools,
    memberCounters: Object.fromEntries(
      pools
        .flatMap((p) => p.members)
        .map((m) => {
          const c = rt.counters?.members[m.id];
          const kernel = c?.packets !== undefined ? { packets: c.packets, bytes: c.bytes ?? 0 } : {};
          return [m.id, { requests: c?.requests ?? 0, active: c?.active ?? 0, ...kernel }];
        }),
    ),
  };
}

/** The last `tail` access-log lines (1-10000, as typed in a query string), with member names. */
export function accessLog(ctx: Ctx, runtime: LbRuntime, ref: string, tailText = '100'): LbAccessRecord[] {
  const lb = getLoadBalancer(ctx, ref);
  const tail = /^\d{1,5}$/.test(tailText) ? Number(tailText) : NaN;
  if (!(tail >= 1 && tail <= 10_000)) throw invalid(`tail '${tailText}' must be a whole number from 1 to 10000`);
  const names = new Map<string, string>();
  for (const p of listPools(ctx, lb.id)) for (const m of ctx.store.list<Member>('member', { parentId: p.id })) names.set(m.id, m.name);
  for (const l of listListeners(ctx, lb.id)) for (const p of ctx.store.list<L7Policy>('l7Policy', { parentId: l.id })) names.set(p.id, p.name);
  return runtime
    .accessLog(lb.id, tail)
    .map((r) => ({ ...r, memberName: r.member ? (names.get(r.member) ?? null) : null, ...(r.policy ? { policyName: names.get(r.policy) ?? null } : {}) }));
}
