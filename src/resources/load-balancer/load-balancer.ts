/**
 * Load balancers (Octavia's model, as Huawei's ELB follows it). A load balancer holds a
 * private VIP of its subnet and, optionally, a public IP from the host's loopback pool
 * 127.0.1.0/24. It cannot be deleted while it has listeners or pools.
 */
import { checkMutable } from './mutable.js';
import { newId } from '../../core/ids.js';
import type { LoadBalancer, LoadBalancerInput, LoadBalancerUpdate, Subnet } from '../../core/model/index.js';
import { checkName, checkQuota, dependencyViolation, now, resolve, saveUpdate, write, type Ctx } from '../context.js';
import { allocateAddress, deleteHolder, saveHolder } from '../subnet/addresses.js';
import { allocatePublicIp } from '../public-ips.js';
import { deleteListener, listListeners } from './listener.js';
import { deletePool, listPools } from './pool.js';
import { deleteMember } from './member.js';
import { deleteHealthMonitor } from './health-monitor.js';

export function createLoadBalancer(ctx: Ctx, input: LoadBalancerInput): LoadBalancer {
  return write(ctx, () => {
    const name = checkName(ctx, 'loadBalancer', input.name);
    const subnet = resolve<Subnet>(ctx, 'subnet', input.subnet, 'subnet');
    checkQuota(ctx, 'loadBalancers', listLoadBalancers(ctx).length, 'load balancers');
    const lb: LoadBalancer = {
      id: newId('loadBalancer'),
      name,
      projectId: ctx.projectId,
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      vip: allocateAddress(ctx, subnet, input.vip),
      publicIp: input.publicIp ? allocatePublicIp(ctx, typeof input.publicIp === 'string' ? input.publicIp : undefined) : null,
      provisioningStatus: 'ACTIVE',
      ...(input.workers !== undefined ? { workers: input.workers } : {}),
      createdAt: now(),
    };
    return saveHolder(ctx, 'loadBalancer', lb, subnet);
  });
}

export const getLoadBalancer = (ctx: Ctx, ref: string) => resolve<LoadBalancer>(ctx, 'loadBalancer', ref);
export const listLoadBalancers = (ctx: Ctx) => ctx.store.list<LoadBalancer>('loadBalancer', { projectId: ctx.projectId });

export function updateLoadBalancer(ctx: Ctx, ref: string, input: LoadBalancerUpdate): LoadBalancer {
  return write(ctx, () => {
    const lb = getLoadBalancer(ctx, ref);
    checkMutable(ctx, lb.id);
    if (input.name !== undefined) lb.name = checkName(ctx, 'loadBalancer', input.name, lb.id);
    if (input.workers !== undefined) lb.workers = input.workers;
    saveUpdate(ctx, 'loadBalancer', lb);
    return lb;
  });
}

/**
 * Deletes a load balancer. With `cascade` (Octavia's), its listeners, pools, members and health
 * monitors go with it, in the same transaction; without, any of them is a DependencyViolation.
 */
export function deleteLoadBalancer(ctx: Ctx, ref: string, opts: { cascade?: boolean } = {}): LoadBalancer {
  return write(ctx, () => {
    const lb = getLoadBalancer(ctx, ref);
    checkMutable(ctx, lb.id);
    if (opts.cascade) {
      for (const l of listListeners(ctx, lb.id)) deleteListener(ctx, l.id);
      for (const p of listPools(ctx, lb.id)) {
        for (const h of ctx.store.list<{ id: string }>('healthMonitor', { parentId: p.id })) deleteHealthMonitor(ctx, h.id);
        for (const m of ctx.store.list<{ id: string }>('member', { parentId: p.id })) deleteMember(ctx, m.id);
        deletePool(ctx, p.id);
      }
    }
    const users = [...listListeners(ctx, lb.id), ...listPools(ctx, lb.id)];
    if (users.length > 0) throw dependencyViolation(`load balancer '${lb.name}'`, users);
    return deleteHolder(ctx, 'loadBalancer', lb);
  });
}
