/**
 * Flow logs (AWS VPC Flow Logs): a flow log watches a VPC, a subnet or a server, and the
 * daemon's collector (workloads/flow-logs.ts) writes its records. A resource has at most two
 * flow logs (AWS's limit), never two of the same traffic type; they go with the resource they
 * watch, as AWS's do. The records are a file in the data directory, read through the API.
 */
import { NimbusError, invalid } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { AGGREGATION_INTERVALS, TRAFFIC_TYPES, type FlowLog, type FlowLogInput, type Server, type Subnet, type Vpc } from '../../core/model/index.js';
import { checkName, checkQuota, now, requirePlane, resolve, saveDelete, saveNew, write, type Ctx } from '../context.js';

const get = (ctx: Ctx, ref: string) => resolve<FlowLog>(ctx, 'flowLog', ref);

export function getFlowLog(ctx: Ctx, ref: string): FlowLog {
  return get(ctx, ref);
}

export function listFlowLogs(ctx: Ctx, filter: { vpc?: string } = {}): FlowLog[] {
  if (filter.vpc) return ctx.store.list<FlowLog>('flowLog', { parentId: resolve<Vpc>(ctx, 'vpc', filter.vpc).id, projectId: ctx.projectId });
  return ctx.store.list<FlowLog>('flowLog', { projectId: ctx.projectId });
}

/** The one resource a flow log input names, resolved in the caller's project. */
function target(ctx: Ctx, input: FlowLogInput): { type: FlowLog['resourceType']; id: string; vpcId: string } {
  const given = (['vpc', 'subnet', 'server'] as const).filter((k) => input[k] !== undefined && input[k] !== '');
  if (given.length !== 1) throw invalid(`vpc, subnet, server: name exactly one resource to watch (given: ${given.join(', ') || 'none'})`);
  const type = given[0];
  if (type === 'vpc') {
    const v = resolve<Vpc>(ctx, 'vpc', input.vpc, 'vpc');
    return { type, id: v.id, vpcId: v.id };
  }
  if (type === 'subnet') {
    const s = resolve<Subnet>(ctx, 'subnet', input.subnet, 'subnet');
    return { type, id: s.id, vpcId: s.vpcId };
  }
  const s = resolve<Server>(ctx, 'server', input.server, 'server');
  return { type, id: s.id, vpcId: s.vpcId };
}

export function createFlowLog(ctx: Ctx, input: FlowLogInput): FlowLog {
  requirePlane(ctx, 'flow logs', `flow log '${input.name}'`);
  return write(ctx, () => {
    const name = checkName(ctx, 'flowLog', input.name);
    const t = target(ctx, input);
    const trafficType = String(input.trafficType ?? 'ALL').toUpperCase();
    if (!(TRAFFIC_TYPES as readonly string[]).includes(trafficType)) throw invalid(`trafficType: '${String(input.trafficType)}' must be ALL, ACCEPT or REJECT`);
    const interval = input.maxAggregationInterval ?? 600;
    if (!(AGGREGATION_INTERVALS as readonly number[]).includes(interval))
      throw invalid(`maxAggregationInterval: ${String(interval)} must be 60 or 600 (seconds)`);
    const same = ctx.store.list<FlowLog>('flowLog', { parentId: t.vpcId }).filter((f) => f.resourceId === t.id);
    checkQuota(ctx, 'flowLogsPerResource', same.length, `flow logs on ${t.id}`);
    const twin = same.find((f) => f.trafficType === trafficType);
    if (twin) throw new NimbusError('FlowLogAlreadyExists', `${t.id} already has flow log '${twin.name}' (${twin.id}) for ${trafficType} traffic`);
    const id = newId('flowLog');
    const log: FlowLog = {
      id,
      name,
      projectId: ctx.projectId,
      vpcId: t.vpcId,
      resourceType: t.type,
      resourceId: t.id,
      trafficType: trafficType as FlowLog['trafficType'],
      maxAggregationInterval: interval,
      destination: `nimbus:flowlogs/${id}.log`,
      createdAt: now(),
    };
    return saveNew(ctx, 'flowLog', log, t.vpcId);
  });
}

export function deleteFlowLog(ctx: Ctx, ref: string): FlowLog {
  return write(ctx, () => saveDelete(ctx, 'flowLog', get(ctx, ref)));
}

/** Deletes the flow logs watching `resourceId` (all of a VPC's when it is the VPC); inside its deletion's transaction. */
export function dropFlowLogsOf(ctx: Ctx, vpcId: string, resourceId: string): void {
  for (const f of ctx.store.list<FlowLog>('flowLog', { parentId: vpcId })) {
    if (resourceId === vpcId || f.resourceId === resourceId) saveDelete(ctx, 'flowLog', f);
  }
}
