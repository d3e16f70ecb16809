/**
 * Pool members and health monitors. A member is a server (by name or id) or an address,
 * with a port and a weight (0 takes no new connections: it drains). Its address must lie in
 * the load balancer's VPC or in a VPC actively peered with it; an address and port appear
 * once per pool. One health monitor per pool; its timeout is below its delay.
 */
import { NimbusError, invalid } from '../../core/errors.js';
import { contains, intToIp, parseCidr, parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import type { HealthMonitor, HealthMonitorInput, LoadBalancer, Member, MemberInput, MemberUpdate, Peering, Pool, Server, Vpc } from '../../core/model/index.js';
import { checkPort } from '../../core/model/index.js';
import { checkName, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';

/** The VPCs a load balancer reaches: its own and those actively peered with it. */
function reachableVpcs(ctx: Ctx, lb: LoadBalancer): Vpc[] {
  const ids = new Set([lb.vpcId]);
  for (const p of ctx.store.list<Peering>('peering')) {
    if (p.status !== 'active') continue;
    if (p.requesterVpcId === lb.vpcId) ids.add(p.accepterVpcId);
    if (p.accepterVpcId === lb.vpcId) ids.add(p.requesterVpcId);
  }
  return [...ids].map((id) => ctx.store.get<Vpc>(id, 'vpc')!).filter(Boolean);
}

function checkWeight(weight: unknown): number {
  if (!Number.isInteger(weight) || (weight as number) < 0 || (weight as number) > 256) throw invalid(`weight: '${weight}' must be a whole number from 0 to 256`);
  return weight as number;
}

export function createMember(ctx: Ctx, input: MemberInput): Member {
  return write(ctx, () => {
    const pool = resolve<Pool>(ctx, 'pool', input.pool, 'pool');
    const lb = ctx.store.get<LoadBalancer>(pool.loadBalancerId, 'loadBalancer')!;
    checkPort(input.port);
    let server: Server | null = null;
    let address: string;
    if (input.server) {
      server = resolve<Server>(ctx, 'server', input.server, 'server');
      address = server.privateIp;
    } else if (input.address) {
      address = intToIp(parseIp(input.address, 'address'));
    } else {
      throw invalid('server: a server or an address is required');
    }
    const vpcs = reachableVpcs(ctx, lb);
    const reachable = server ? vpcs.some((v) => v.id === server!.vpcId) : vpcs.some((v) => contains(parseCidr(v.cidr), parseIp(address)));
    if (!reachable) {
      throw new NimbusError('InvalidMember.Unreachable', `member ${server ? `'${server.name}' (${address})` : address} is outside VPC ${lb.vpcId} of load balancer '${lb.name}' and the VPCs peered with it`);
    }
    const members = ctx.store.list<Member>('member', { parentId: pool.id });
    if (members.some((m) => m.address === address && m.port === input.port)) {
      throw new NimbusError('DuplicateMember', `${address}:${input.port} is already a member of pool '${pool.name}'`);
    }
    const id = newId('member');
    const member: Member = {
      id,
      name: checkName(ctx, 'member', input.name ?? `${server?.name ?? address.replace(/\./g, '-')}-${input.port}-${id.slice(4, 8)}`),
      projectId: ctx.projectId,
      poolId: pool.id,
      serverId: server?.id ?? null,
      address,
      port: input.port,
      weight: checkWeight(input.weight ?? 1),
      adminStateUp: true,
      createdAt: now(),
    };
    saveNew(ctx, 'member', member, pool.id);
    return member;
  });
}

export const getMember = (ctx: Ctx, ref: string) => resolve<Member>(ctx, 'member', ref);

export function listMembers(ctx: Ctx, filter: { pool?: string } = {}): Member[] {
  if (filter.pool) return ctx.store.list<Member>('member', { parentId: resolve<Pool>(ctx, 'pool', filter.pool, 'pool').id });
  return ctx.store.list<Member>('member', { projectId: ctx.projectId });
}

export function updateMember(ctx: Ctx, ref: string, input: MemberUpdate): Member {
  return write(ctx, () => {
    const m = getMember(ctx, ref);
    if (input.name !== undefined) m.name = checkName(ctx, 'member', input.name, m.id);
    if (input.weight !== undefined) m.weight = checkWeight(input.weight);
    if (input.adminStateUp !== undefined) m.adminStateUp = input.adminStateUp;
    saveUpdate(ctx, 'member', m);
    return m;
  });
}

export function deleteMember(ctx: Ctx, ref: string): Member {
  return write(ctx, () => {
    const m = getMember(ctx, ref);
    saveDelete(ctx, 'member', m);
    return m;
  });
}

/** "200", "200,202", "200-299": Octavia's expected_codes (the engine matches them). */
export function checkExpectedCodes(text: string): void {
  for (const p of text.split(',').map((x) => x.trim())) {
    const m = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(p);
    if (!m) throw invalid(`expectedCodes: '${text}' must be codes or ranges such as 200, 200,202 or 200-299`);
    if (Number(m[1]) > Number(m[2] ?? m[1])) throw invalid(`expectedCodes: '${p}' is an empty range`);
  }
}

function checkMonitor(h: Omit<HealthMonitor, 'id' | 'name' | 'projectId' | 'poolId' | 'createdAt'>): void {
  const int = (v: number, field: string, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw invalid(`${field}: '${v}' must be a whole number from ${lo} to ${hi}`);
  };
  if (h.type !== 'TCP' && h.type !== 'HTTP') throw invalid(`type: '${h.type}' must be TCP or HTTP`);
  int(h.delay, 'delay', 1, 3600);
  int(h.timeout, 'timeout', 1, 3600);
  if (h.timeout >= h.delay) throw invalid(`timeout: ${h.timeout} s must be below the delay of ${h.delay} s`);
  int(h.maxRetries, 'maxRetries', 1, 10);
  int(h.maxRetriesDown, 'maxRetriesDown', 1, 10);
  if (!h.urlPath.startsWith('/') || /\s/.test(h.urlPath)) throw invalid(`urlPath: '${h.urlPath}' must be a path starting with /`);
  checkExpectedCodes(h.expectedCodes);
}

export function createHealthMonitor(ctx: Ctx, input: HealthMonitorInput): HealthMonitor {
  return write(ctx, () => {
    const pool = resolve<Pool>(ctx, 'pool', input.pool, 'pool');
    const existing = ctx.store.list<HealthMonitor>('healthMonitor', { parentId: pool.id });
    if (existing.length > 0) throw new NimbusError('DuplicateHealthMonitor', `pool '${pool.name}' already has health monitor '${existing[0].name}'`);
    if (typeof input.type !== 'string' || !['TCP', 'HTTP'].includes(input.type.toUpperCase())) {
      throw invalid(`type: '${String(input.type)}' must be TCP or HTTP`);
    }
    const id = newId('healthMonitor');
    const h: HealthMonitor = {
      id,
      name: checkName(ctx, 'healthMonitor', input.name ?? `${pool.name}-hm`),
      projectId: ctx.projectId,
      poolId: pool.id,
      type: (typeof input.type === 'string' ? input.type.toUpperCase() : input.type) as HealthMonitor['type'],
      delay: input.delay ?? 5,
      timeout: input.timeout ?? 3,
      maxRetries: input.maxRetries ?? 2,
      maxRetriesDown: input.maxRetriesDown ?? 3,
      urlPath: input.urlPath ?? '/',
      expectedCodes: input.expectedCodes ?? '200',
      createdAt: now(),
    };
    checkMonitor(h);
    saveNew(ctx, 'healthMonitor', h, pool.id);
    return h;
  });
}

export const getHealthMonitor = (ctx: Ctx, ref: string) => resolve<HealthMonitor>(ctx, 'healthMonitor', ref);
export const listHealthMonitors = (ctx: Ctx) => ctx.store.list<HealthMonitor>('healthMonitor', { projectId: ctx.projectId });

export function updateHealthMonitor(ctx: Ctx, ref: string, input: Partial<Omit<HealthMonitorInput, 'pool'>>): HealthMonitor {
  return write(ctx, () => {
    const h = getHealthMonitor(ctx, ref);
    const next = { ...h, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as HealthMonitor;
    if (input.type) next.type = input.type.toUpperCase() as HealthMonitor['type'];
    if (input.name !== undefined) next.name = checkName(ctx, 'healthMonitor', input.name, h.id);
    checkMonitor(next);
    ctx.store.update(next);
    ctx.feed.record({ kind: 'healthMonitor', id: h.id, op: 'updated' });
    return next;
  });
}

export function deleteHealthMonitor(ctx: Ctx, ref: string): HealthMonitor {
  return write(ctx, () => {
    const h = getHealthMonitor(ctx, ref);
    saveDelete(ctx, 'healthMonitor', h);
    return h;
  });
}
