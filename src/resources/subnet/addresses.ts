/**
 * Addresses of a subnet: the reserved ones, the ones servers and load balancers hold, and
 * the allocation of a free one.
 */
import { NimbusError } from '../../core/errors.js';
import { contains, intToIp, isReserved, lastAddress, parseCidr, parseIp } from '../../core/cidr.js';
import type { Subnet } from '../../core/model/index.js';
import type { Ctx } from '../context.js';

/**
 * An address for a server or a load balancer: the one asked for, if it is inside the subnet,
 * not reserved and free; otherwise the lowest free one.
 */
export function allocateAddress(ctx: Ctx, subnet: Subnet, wanted?: string): string {
  const c = parseCidr(subnet.cidr);
  if (wanted !== undefined) {
    const ip = parseIp(wanted, 'ip');
    if (!contains(c, ip)) throw new NimbusError('InvalidIPAddress.Range', `ip ${wanted} is outside subnet '${subnet.name}' (${subnet.cidr})`);
    if (isReserved(c, ip)) {
      throw new NimbusError(
        'InvalidIPAddress.Reserved',
        `ip ${wanted} is reserved in subnet '${subnet.name}' (network, gateway or one of the last three addresses)`,
      );
    }
    const text = intToIp(ip);
    if (ctx.store.addressTaken(subnet.id, text)) throw new NimbusError('InvalidIPAddress.InUse', `ip ${text} is already in use in subnet '${subnet.name}'`);
    return text;
  }
  if (subnet.availableIpCount <= 0) throw fullSubnet(subnet);
  const taken = ctx.store.addressesIn(subnet.id);
  for (let ip = c.net + 2; ip <= lastAddress(c) - 3; ip++) {
    const text = intToIp(ip);
    if (!taken.has(text)) return text;
  }
  throw fullSubnet(subnet);
}

function fullSubnet(subnet: Subnet): NimbusError {
  return new NimbusError('InsufficientFreeAddressesInSubnet', `subnet '${subnet.name}' (${subnet.cidr}) has no free address left`);
}

/** Stores a new server or load balancer under its subnet, which now has one address fewer free; call inside write(). */
export function saveHolder<T extends { id: string; name: string; projectId: string }>(
  ctx: Ctx,
  kind: 'server' | 'loadBalancer' | 'natGateway',
  doc: T,
  subnet: Subnet,
): T {
  ctx.store.insert(kind, doc, subnet.id);
  subnet.availableIpCount -= 1;
  ctx.store.update(subnet);
  ctx.feed.record({ kind, id: doc.id, op: 'created' });
  return doc;
}

/** Deletes a server or load balancer, giving its address back to its subnet; call inside write(). */
export function deleteHolder<T extends { id: string; subnetId: string }>(ctx: Ctx, kind: 'server' | 'loadBalancer' | 'natGateway', doc: T): T {
  ctx.store.delete(doc.id);
  const subnet = ctx.store.get<Subnet>(doc.subnetId, 'subnet')!;
  subnet.availableIpCount += 1;
  ctx.store.update(subnet);
  ctx.feed.record({ kind, id: doc.id, op: 'deleted' });
  return doc;
}
