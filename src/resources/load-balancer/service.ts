/**
 * Load balancers, listeners and pools (Octavia's model, as Huawei's ELB follows it). A load
 * balancer holds a private VIP of its subnet and, optionally, a public IP from the host's
 * loopback pool 127.0.1.0/24. Listener ports are unique per load balancer; a listener's
 * pool must be of its load balancer and protocol; APP_COOKIE needs a cookie name and the
 * SOURCE_IP algorithm takes no persistence.
 */
import { NimbusError, invalid } from '../../core/errors.js';
import { intToIp, parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import type { Algorithm, LbProtocol, Listener, ListenerInput, ListenerUpdate, LoadBalancer, LoadBalancerInput, PersistenceType, Pool, PoolInput, PoolUpdate, Rename, Subnet } from '../../core/model/index.js';
import { checkPort } from '../../core/model/index.js';
import { checkName, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';
import { allocateAddress } from '../subnet/addresses.js';

const PUBLIC_POOL = { first: parseIp('127.0.1.1'), last: parseIp('127.0.1.254') };

function allocatePublicIp(ctx: Ctx, wanted?: string): string {
  const taken = new Set(ctx.store.list<LoadBalancer>('loadBalancer').map((l) => l.publicIp).filter(Boolean));
  if (wanted !== undefined) {
    const ip = parseIp(wanted, 'publicIp');
    if (ip < PUBLIC_POOL.first || ip > PUBLIC_POOL.last) {
      throw new NimbusError('InvalidPublicIp.Range', `publicIp ${wanted} is outside the public pool 127.0.1.1-127.0.1.254`);
    }
    if (taken.has(intToIp(ip))) throw new NimbusError('InvalidPublicIp.InUse', `publicIp ${wanted} is held by another load balancer`);
    return intToIp(ip);
  }
  for (let ip = PUBLIC_POOL.first; ip <= PUBLIC_POOL.last; ip++) if (!taken.has(intToIp(ip))) return intToIp(ip);
  throw new NimbusError('InsufficientPublicIps', 'the public pool 127.0.1.0/24 has no free address');
}

export function createLoadBalancer(ctx: Ctx, input: LoadBalancerInput): LoadBalancer {
  return write(ctx, () => {
    const name = checkName(ctx, 'loadBalancer', input.name);
    const subnet = resolve<Subnet>(ctx, 'subnet', input.subnet, 'subnet');
    const lb: LoadBalancer = {
      id: newId('loadBalancer'),
      name,
      projectId: ctx.projectId,
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      vip: allocateAddress(ctx, subnet, input.vip),
      publicIp: input.publicIp ? allocatePublicIp(ctx, typeof input.publicIp === 'string' ? input.publicIp : undefined) : null,
      provisioningStatus: 'ACTIVE',
      createdAt: now(),
    };
    ctx.store.insert('loadBalancer', lb, subnet.id);
    subnet.availableIpCount -= 1;
    ctx.store.update(subnet);
    ctx.feed.record({ kind: 'loadBalancer', id: lb.id, op: 'created' });
    return lb;
  });
}

export const getLoadBalancer = (ctx: Ctx, ref: string) => resolve<LoadBalancer>(ctx, 'loadBalancer', ref);
export const listLoadBalancers = (ctx: Ctx) => ctx.store.list<LoadBalancer>('loadBalancer', { projectId: ctx.projectId });

export function updateLoadBalancer(ctx: Ctx, ref: string, input: Rename): LoadBalancer {
  return write(ctx, () => {
    const lb = getLoadBalancer(ctx, ref);
    if (input.name !== undefined) lb.name = checkName(ctx, 'loadBalancer', input.name, lb.id);
    saveUpdate(ctx, 'loadBalancer', lb);
    return lb;
  });
}

export function deleteLoadBalancer(ctx: Ctx, ref: string): LoadBalancer {
  return write(ctx, () => {
    const lb = getLoadBalancer(ctx, ref);
    const users = [...listListeners(ctx, lb.id), ...listPools(ctx, lb.id)].map((x) => x.id);
    if (users.length > 0) throw new NimbusError('DependencyViolation', `load balancer '${lb.name}' still has ${users.slice(0, 5).join(', ')}`);
    ctx.store.delete(lb.id);
    const subnet = ctx.store.get<Subnet>(lb.subnetId, 'subnet')!;
    subnet.availableIpCount += 1;
    ctx.store.update(subnet);
    ctx.feed.record({ kind: 'loadBalancer', id: lb.id, op: 'deleted' });
    return lb;
  });
}

function protocolOf(value: unknown, field: string): LbProtocol {
  const p = typeof value === 'string' ? value.toUpperCase() : value;
  if (p !== 'HTTP' && p !== 'TCP') throw invalid(`${field}: '${String(value)}' must be HTTP or TCP`);
  return p;
}

export function listListeners(ctx: Ctx, loadBalancerId?: string): Listener[] {
  return ctx.store.list<Listener>('listener', loadBalancerId ? { parentId: loadBalancerId } : { projectId: ctx.projectId });
}

function poolFor(ctx: Ctx, lb: LoadBalancer, ref: string | null | undefined, protocol: LbProtocol): string | null {
  if (ref === undefined || ref === null || ref === '') return null;
  const pool = resolve<Pool>(ctx, 'pool', ref, 'defaultPool');
  if (pool.loadBalancerId !== lb.id) {
    throw new NimbusError('InvalidPool.ProtocolMismatch', `pool '${pool.name}' belongs to another load balancer than '${lb.name}'`);
  }
  if (pool.protocol !== protocol) {
    throw new NimbusError('InvalidPool.ProtocolMismatch', `listener protocol ${protocol} and pool '${pool.name}' protocol ${pool.protocol} are not compatible`);
  }
  return pool.id;
}

export function createListener(ctx: Ctx, input: ListenerInput): Listener {
  return write(ctx, () => {
    const name = checkName(ctx, 'listener', input.name);
    const lb = resolve<LoadBalancer>(ctx, 'loadBalancer', input.loadBalancer, 'loadBalancer');
    const protocol = protocolOf(input.protocol, 'protocol');
    checkPort(input.port);
    const clash = listListeners(ctx, lb.id).find((l) => l.port === input.port);
    if (clash) throw new NimbusError('DuplicateListener', `port ${input.port} of load balancer '${lb.name}' is already used by listener '${clash.name}'`);
    const listener: Listener = {
      id: newId('listener'),
      name,
      projectId: ctx.projectId,
      loadBalancerId: lb.id,
      protocol,
      port: input.port,
      defaultPoolId: poolFor(ctx, lb, input.defaultPool, protocol),
      createdAt: now(),
    };
    saveNew(ctx, 'listener', listener, lb.id);
    return listener;
  });
}

export const getListener = (ctx: Ctx, ref: string) => resolve<Listener>(ctx, 'listener', ref);

export function updateListener(ctx: Ctx, ref: string, input: ListenerUpdate): Listener {
  return write(ctx, () => {
    const l = getListener(ctx, ref);
    if (input.name !== undefined) l.name = checkName(ctx, 'listener', input.name, l.id);
    if (input.defaultPool !== undefined) l.defaultPoolId = poolFor(ctx, ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!, input.defaultPool, l.protocol);
    saveUpdate(ctx, 'listener', l);
    return l;
  });
}

export function deleteListener(ctx: Ctx, ref: string): Listener {
  return write(ctx, () => {
    const l = getListener(ctx, ref);
    saveDelete(ctx, 'listener', l);
    return l;
  });
}

const ALGORITHMS: readonly Algorithm[] = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'];
const PERSISTENCE: readonly PersistenceType[] = ['SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE'];

function checkPersistence(algorithm: Algorithm, protocol: LbProtocol, type: string | null | undefined, cookieName?: string): Pool['sessionPersistence'] {
  if (type === undefined || type === null || type === '' || type.toUpperCase() === 'NONE') return null;
  const t = type.toUpperCase() as PersistenceType;
  if (!PERSISTENCE.includes(t)) throw invalid(`persistence: '${type}' must be one of ${PERSISTENCE.join(', ')}`);
  if (algorithm === 'SOURCE_IP') throw invalid(`persistence: '${t}' cannot be combined with the SOURCE_IP algorithm, which already pins a client`);
  if (t !== 'SOURCE_IP' && protocol !== 'HTTP') throw invalid(`persistence: '${t}' needs an HTTP pool, not ${protocol}`);
  if (t === 'APP_COOKIE') {
    if (!cookieName || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(cookieName)) throw invalid(`cookieName: '${cookieName ?? ''}' is required for APP_COOKIE and must be a cookie name`);
    return { type: t, cookieName };
  }
  return { type: t };
}

export function createPool(ctx: Ctx, input: PoolInput): Pool {
  return write(ctx, () => {
    const name = checkName(ctx, 'pool', input.name);
    const lb = resolve<LoadBalancer>(ctx, 'loadBalancer', input.loadBalancer, 'loadBalancer');
    const protocol = protocolOf(input.protocol, 'protocol');
    const algorithm = (typeof input.algorithm === 'string' ? input.algorithm.toUpperCase() : input.algorithm) as Algorithm;
    if (!ALGORITHMS.includes(algorithm)) throw invalid(`algorithm: '${input.algorithm}' must be one of ${ALGORITHMS.join(', ')}`);
    const pool: Pool = {
      id: newId('pool'),
      name,
      projectId: ctx.projectId,
      loadBalancerId: lb.id,
      protocol,
      algorithm,
      sessionPersistence: checkPersistence(algorithm, protocol, input.persistence, input.cookieName),
      createdAt: now(),
    };
    saveNew(ctx, 'pool', pool, lb.id);
    return pool;
  });
}

export const getPool = (ctx: Ctx, ref: string) => resolve<Pool>(ctx, 'pool', ref);

export function listPools(ctx: Ctx, loadBalancerId?: string): Pool[] {
  return ctx.store.list<Pool>('pool', loadBalancerId ? { parentId: loadBalancerId } : { projectId: ctx.projectId });
}

export function updatePool(ctx: Ctx, ref: string, input: PoolUpdate): Pool {
  return write(ctx, () => {
    const pool = getPool(ctx, ref);
    if (input.name !== undefined) pool.name = checkName(ctx, 'pool', input.name, pool.id);
    if (input.algorithm !== undefined) {
      const a = input.algorithm.toUpperCase() as Algorithm;
      if (!ALGORITHMS.includes(a)) throw invalid(`algorithm: '${input.algorithm}' must be one of ${ALGORITHMS.join(', ')}`);
      pool.algorithm = a;
    }
    if (input.persistence !== undefined || input.algorithm !== undefined) {
      const current = input.persistence !== undefined ? input.persistence : (pool.sessionPersistence?.type ?? null);
      pool.sessionPersistence = checkPersistence(pool.algorithm, pool.protocol, current, input.cookieName ?? pool.sessionPersistence?.cookieName);
    }
    saveUpdate(ctx, 'pool', pool);
    return pool;
  });
}

export function deletePool(ctx: Ctx, ref: string): Pool {
  return write(ctx, () => {
    const pool = getPool(ctx, ref);
    const users = [
      ...listListeners(ctx, pool.loadBalancerId).filter((l) => l.defaultPoolId === pool.id).map((l) => l.id),
      ...ctx.store.list<{ id: string }>('member', { parentId: pool.id }).map((m) => m.id),
      ...ctx.store.list<{ id: string }>('healthMonitor', { parentId: pool.id }).map((m) => m.id),
    ];
    if (users.length > 0) throw new NimbusError('DependencyViolation', `pool '${pool.name}' is still used by ${users.slice(0, 5).join(', ')}`);
    saveDelete(ctx, 'pool', pool);
    return pool;
  });
}
