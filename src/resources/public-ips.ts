/**
 * The public IP pool: addresses of the host's loopback, 127.0.1.1-127.0.1.254, shared by load
 * balancers' public IPs and elastic IPs (which NAT gateways hold too). The host reaches them
 * as it reaches any loopback address; the internet namespace reaches them too (edge).
 */
import { NimbusError } from '../core/errors.js';
import { intToIp, parseIp } from '../core/cidr.js';
import type { ElasticIp, LoadBalancer } from '../core/model/index.js';
import { boundAddresses } from './host-addresses.js';
import type { Ctx } from './context.js';

export const PUBLIC_POOL = { first: parseIp('127.0.1.1'), last: parseIp('127.0.1.254') };
/** Where this process starts looking for a free public IP (see allocatePublicIp). */
const START = process.pid % (PUBLIC_POOL.last - PUBLIC_POOL.first + 1);

/** Every public IP held, by whom (every project's: the pool is the machine's). */
export function heldPublicIps(ctx: Ctx): Map<string, string> {
  const held = new Map<string, string>();
  for (const l of ctx.store.list<LoadBalancer>('loadBalancer')) if (l.publicIp) held.set(l.publicIp, `load balancer ${l.id}`);
  for (const e of ctx.store.list<ElasticIp>('elasticIp')) held.set(e.publicIp, `elastic IP ${e.id}`);
  return held;
}

/** A public IP: the one wanted, if it is in the pool and free, or the next free one. */
export function allocatePublicIp(ctx: Ctx, wanted?: string): string {
  const held = heldPublicIps(ctx);
  if (wanted !== undefined) {
    const ip = parseIp(wanted, 'publicIp');
    if (ip < PUBLIC_POOL.first || ip > PUBLIC_POOL.last) {
      throw new NimbusError('InvalidPublicIp.Range', `publicIp ${wanted} is outside the public pool 127.0.1.1-127.0.1.254`);
    }
    const by = held.get(intToIp(ip));
    if (by) throw new NimbusError('InvalidPublicIp.InUse', `publicIp ${wanted} is held by another ${by.split(' ').slice(0, -1).join(' ')}`);
    return intToIp(ip);
  }
  // A free address: nothing holds it and nothing on the host is bound to it (another installation's). Each
  // daemon process starts its search at an address of its own, so that two daemons creating at the same moment
  // (before either binds) rarely pick the same one; a rule on the host (an elastic IP's NAT) is no bound socket.
  const bound = boundAddresses();
  const size = PUBLIC_POOL.last - PUBLIC_POOL.first + 1;
  for (let i = 0; i < size; i++) {
    const ip = PUBLIC_POOL.first + ((START + i) % size);
    if (!held.has(intToIp(ip)) && !bound.has(ip)) return intToIp(ip);
  }
  throw new NimbusError('InsufficientPublicIps', 'the public pool 127.0.1.0/24 has no free address');
}
