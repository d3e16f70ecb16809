/**
 * Pool members. A member is a server (by name or id) or an address,
 * with a port and a weight (0 takes no new connections: it drains). Its address must lie in
 * the load balancer's VPC or in a VPC actively peered with it; an address and port appear
 * once per pool.
 */
import { checkMutable, lbOfPool } from './mutable.js';
import { NimbusError, invalid } from '../../core/errors.js';
import { contains, intToIp, parseCidr, parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import type { LoadBalancer, Member, MemberInput, MemberUpdate, Peering, Pool, Server, Vpc } from '../../core/model/index.js';
import { checkPort } from '../../core/model/index.js';
import { checkWeight } from './rules.js';
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

export function createMember(ctx: Ctx, input: MemberInput): Member {
  return write(ctx, () => {
    const pool = resolve<Pool>(ctx, 'pool', input.pool, 'pool');
    const lb = ctx.store.get<LoadBalancer>(pool.loadBalancerId, 'loadBalancer')!;
    checkMutable(ctx, lb.id);
    checkPort(input.port);
    let server: Server | null = null;
    let address: string;
    // Every field is checked, used or not; server and address together contradict each other.
    if (input.address !== undefined) parseIp(input.address, 'address');
    if (input.server && input.address !== undefined) {
      throw invalid(`address: '${input.address}' cannot be given with server '${input.server}': a member is a server or an address`);
    }
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
      throw new NimbusError(
        'InvalidMember.Unreachable',
        `member ${server ? `'${server.name}' (${address})` : address} is outside VPC ${lb.vpcId} of load balancer '${lb.name}' and the VPCs peered with it`,
      );
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
    checkMutable(ctx, lbOfPool(ctx, m.poolId));
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
    checkMutable(ctx, lbOfPool(ctx, m.poolId));
    saveDelete(ctx, 'member', m);
    return m;
  });
}
