/**
 * Servers (ECS): one private IP in one subnet, in one or more security groups (the
 * project's `default` group unless told otherwise). An explicit IP must be inside the
 * subnet, not reserved and free; otherwise the lowest free address is taken.
 */
import { NimbusError, invalid } from '../../core/errors.js';
import { contains, intToIp, isReserved, lastAddress, parseCidr, parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import type { SecurityGroup, Server, ServerStatus, Subnet } from '../model.js';
import { checkName, now, resolve, write, type Ctx } from '../context.js';

export interface ServerInput {
  name: string;
  subnet: string;
  ip?: string;
  securityGroups?: string[];
  app?: string | null;
}

function allocateIp(ctx: Ctx, subnet: Subnet, wanted?: string): string {
  const c = parseCidr(subnet.cidr);
  if (wanted !== undefined) {
    const ip = parseIp(wanted, 'ip');
    if (!contains(c, ip)) throw new NimbusError('InvalidIPAddress.Range', `ip ${wanted} is outside subnet '${subnet.name}' (${subnet.cidr})`);
    if (isReserved(c, ip)) {
      throw new NimbusError('InvalidIPAddress.Reserved', `ip ${wanted} is reserved in subnet '${subnet.name}' (network, gateway or one of the last three addresses)`);
    }
    const text = intToIp(ip);
    if (ctx.store.serverIpTaken(subnet.id, text)) throw new NimbusError('InvalidIPAddress.InUse', `ip ${text} is already in use in subnet '${subnet.name}'`);
    return text;
  }
  if (subnet.availableIpCount <= 0) throw fullSubnet(subnet);
  const taken = new Set(ctx.store.list<Server>('server', { parentId: subnet.id }).map((s) => s.privateIp));
  for (let ip = c.net + 2; ip <= lastAddress(c) - 3; ip++) {
    const text = intToIp(ip);
    if (!taken.has(text)) return text;
  }
  throw fullSubnet(subnet);
}

function fullSubnet(subnet: Subnet): NimbusError {
  return new NimbusError('InsufficientFreeAddressesInSubnet', `subnet '${subnet.name}' (${subnet.cidr}) has no free address left`);
}

function resolveGroups(ctx: Ctx, refs: string[] | undefined): string[] {
  if (refs !== undefined && !Array.isArray(refs)) throw invalid('securityGroups: a list of security group names or ids is expected');
  const list = refs && refs.length > 0 ? refs : ['default'];
  return [...new Set(list.map((r) => resolve<SecurityGroup>(ctx, 'securityGroup', r, 'securityGroups').id))];
}

export function createServer(ctx: Ctx, input: ServerInput): Server {
  return write(ctx, () => {
    const name = checkName(ctx, 'server', input.name);
    const subnet = resolve<Subnet>(ctx, 'subnet', input.subnet, 'subnet');
    const privateIp = allocateIp(ctx, subnet, input.ip);
    const server: Server = {
      id: newId('server'),
      name,
      projectId: ctx.projectId,
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      privateIp,
      securityGroupIds: resolveGroups(ctx, input.securityGroups),
      app: input.app ?? null,
      status: 'running',
      createdAt: now(),
    };
    ctx.store.insert('server', server, subnet.id);
    subnet.availableIpCount -= 1;
    ctx.store.update(subnet);
    ctx.feed.record({ kind: 'server', id: server.id, op: 'created' });
    return server;
  });
}

export function getServer(ctx: Ctx, ref: string): Server {
  return resolve<Server>(ctx, 'server', ref);
}

export function listServers(ctx: Ctx, filter: { subnet?: string; vpc?: string } = {}): Server[] {
  if (filter.subnet) return ctx.store.list<Server>('server', { parentId: resolve<Subnet>(ctx, 'subnet', filter.subnet, 'subnet').id });
  const all = ctx.store.list<Server>('server', { projectId: ctx.projectId });
  if (!filter.vpc) return all;
  const vpcId = resolve<{ id: string; projectId: string }>(ctx, 'vpc', filter.vpc, 'vpc').id;
  return all.filter((s) => s.vpcId === vpcId);
}

export function updateServer(ctx: Ctx, ref: string, input: { name?: string; securityGroups?: string[] }): Server {
  return write(ctx, () => {
    const server = getServer(ctx, ref);
    if (input.name !== undefined) server.name = checkName(ctx, 'server', input.name, server.id);
    if (input.securityGroups !== undefined) server.securityGroupIds = resolveGroups(ctx, input.securityGroups);
    ctx.store.update(server);
    ctx.feed.record({ kind: 'server', id: server.id, op: 'updated' });
    return server;
  });
}

export function setServerStatus(ctx: Ctx, ref: string, status: ServerStatus): Server {
  return write(ctx, () => {
    const server = getServer(ctx, ref);
    server.status = status;
    ctx.store.update(server);
    ctx.feed.record({ kind: 'server', id: server.id, op: 'updated' });
    return server;
  });
}

export function deleteServer(ctx: Ctx, ref: string): Server {
  return write(ctx, () => {
    const server = getServer(ctx, ref);
    ctx.store.delete(server.id);
    const subnet = ctx.store.get<Subnet>(server.subnetId, 'subnet')!;
    subnet.availableIpCount += 1;
    ctx.store.update(subnet);
    ctx.feed.record({ kind: 'server', id: server.id, op: 'deleted' });
    return server;
  });
}
