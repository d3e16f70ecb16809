/**
 * Servers (ECS): one private IP in one subnet, in one or more security groups (the
 * project's `default` group unless told otherwise). An explicit IP must be inside the
 * subnet, not reserved and free; otherwise the lowest free address is taken.
 */
import { dropFlowLogsOf } from '../flow-log/service.js';
import { invalid, NimbusError } from '../../core/errors.js';
import { intToIp } from '../../core/cidr.js';
import { allocateAddress, deleteHolder, saveHolder } from '../subnet/addresses.js';
import { releaseServerAddress } from '../edge/service.js';
import { newId } from '../../core/ids.js';
import type { SecurityGroup, Server, ServerInput, ServerLogs, ServerStatus, ServerUpdate, Subnet } from '../../core/model/index.js';
import { parseApp } from '../../core/model/index.js';
import { checkName, checkQuota, dependencyViolation, now, requireAdmin, resolve, saveUpdate, write, type Ctx } from '../context.js';

/** Workloads on the virtual data plane listen on a loopback address each, in the installation's /16 of 127.64.0.0/10. */
const LOOPBACK_BASE = 0x7f400000;
const RANGE_SIZE = 0x10000;

function resolveGroups(ctx: Ctx, refs: string[] | undefined): string[] {
  if (refs !== undefined && !Array.isArray(refs)) throw invalid('securityGroups: a list of security group names or ids is expected');
  const list = refs && refs.length > 0 ? refs : ['default'];
  return [...new Set(list.map((r) => resolve<SecurityGroup>(ctx, 'securityGroup', r, 'securityGroups').id))];
}

/**
 * Where a server goes: the chassis asked for (which must exist), or the least loaded one of this
 * machine's; nothing off the ovn plane. A joined host's chassis takes only a server without an
 * app: the daemon runs workloads, `exec` and `ping` on this machine's chassis alone.
 */
function placed(ctx: Ctx, asked: string | undefined, app: string | null | undefined): { chassis?: string } {
  if (asked !== undefined && app && ctx.chassis?.joined(asked))
    throw new NimbusError(
      'UnsupportedOperation',
      `chassis: '${asked}' is a joined host's, where the daemon runs no app ('${app}'): its workload, exec and ping run on this machine's chassis only (nimbus chassis list)`,
    );
  if (!ctx.chassis) {
    if (asked !== undefined) throw invalid(`chassis: '${asked}': servers are placed on chassis on the ovn data plane only (nimbus serve --dataplane ovn)`);
    return {};
  }
  if (asked !== undefined) {
    if (!ctx.chassis.names().includes(asked))
      throw invalid(`chassis: '${asked}' is not a chassis of this cloud (nimbus chassis list: ${ctx.chassis.names().join(', ') || 'none'})`);
    return { chassis: asked };
  }
  const spread = ctx.chassis.spread();
  return spread ? { chassis: spread } : {};
}

export function createServer(ctx: Ctx, input: ServerInput): Server {
  return write(ctx, () => {
    const name = checkName(ctx, 'server', input.name);
    const subnet = resolve<Subnet>(ctx, 'subnet', input.subnet, 'subnet');
    checkQuota(ctx, 'servers', ctx.store.list('server', { projectId: ctx.projectId }).length, 'servers');
    const privateIp = allocateAddress(ctx, subnet, input.ip);
    if (input.app !== undefined && input.app !== null && parseApp(input.app).kind === 'command')
      requireAdmin(ctx, `running the command '${input.app}' as a server's workload (a project token may run web or web:PORT)`);
    const server: Server = {
      id: newId('server'),
      name,
      projectId: ctx.projectId,
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      privateIp,
      securityGroupIds: resolveGroups(ctx, input.securityGroups),
      app: input.app ?? null,
      ...(input.image ? { image: input.image } : {}),
      loopbackIp: intToIp((ctx.workloadBase ?? LOOPBACK_BASE) + 1 + (ctx.store.nextSeq() % (RANGE_SIZE - 2))),
      ...placed(ctx, input.chassis, input.app),
      status: 'running',
      createdAt: now(),
    };
    return saveHolder(ctx, 'server', server, subnet);
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

export function updateServer(ctx: Ctx, ref: string, input: ServerUpdate): Server {
  return write(ctx, () => {
    const server = getServer(ctx, ref);
    if (input.name !== undefined) server.name = checkName(ctx, 'server', input.name, server.id);
    if (input.securityGroups !== undefined) server.securityGroupIds = resolveGroups(ctx, input.securityGroups);
    if (input.chassis !== undefined && input.chassis !== server.chassis) {
      // A move is stop, change of chassis, start (the IP stays): a running server is not moved under its workload.
      if (server.status === 'running')
        throw new NimbusError(
          'IncorrectInstanceState',
          `server '${server.name}' is running; stop it before moving it to chassis '${input.chassis}' (nimbus server stop ${server.name})`,
        );
      server.chassis = placed(ctx, input.chassis, server.app).chassis;
    }
    saveUpdate(ctx, 'server', server);
    return server;
  });
}

export function setServerStatus(ctx: Ctx, ref: string, status: ServerStatus): Server {
  return write(ctx, () => {
    const server = getServer(ctx, ref);
    server.status = status;
    saveUpdate(ctx, 'server', server);
    return server;
  });
}

export function deleteServer(ctx: Ctx, ref: string): Server {
  return write(ctx, () => {
    const server = getServer(ctx, ref);
    const members = ctx.store
      .list<{ id: string; name: string; serverId: string | null }>('member', { projectId: ctx.projectId })
      .filter((m) => m.serverId === server.id);
    if (members.length > 0) throw dependencyViolation(`server '${server.name}'`, members);
    // AWS disassociates an instance's elastic IP when it is terminated; the address stays allocated.
    releaseServerAddress(ctx, server.id);
    dropFlowLogsOf(ctx, server.vpcId, server.id);
    return deleteHolder(ctx, 'server', server);
  });
}

/** What the daemon's workloads tell of a server (they implement it). */
export interface WorkloadLogs {
  logs(serverId: string): ServerLogs;
  /** Why its workload cannot stay up, or null. */
  failure(serverId: string): string | null;
  /** The servers whose workloads cannot stay up now. */
  failing(): string[];
}

/** A server as shown: `error` with the reason while its workload cannot stay up. */
export function presentServer(server: Server, workloads: WorkloadLogs): Server | (Omit<Server, 'status'> & { status: 'error'; statusReason: string }) {
  const why = server.status === 'running' ? workloads.failure(server.id) : null;
  return why ? { ...server, status: 'error', statusReason: why } : server;
}

/** A server workload's request log and the tail of its output. */
export function serverLogs(ctx: Ctx, workloads: WorkloadLogs, ref: string): ServerLogs {
  return workloads.logs(getServer(ctx, ref).id);
}

/** The project's servers as stored, each already JSON: the unfiltered list is sent as it is (10,000 servers). */
export function serverDocuments(ctx: Ctx): string[] {
  return ctx.store.listBodies('server', { projectId: ctx.projectId });
}
