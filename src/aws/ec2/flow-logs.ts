/**
 * Flow logs as EC2 serves them: CreateFlowLogs on VPCs, subnets and network interfaces (an
 * instance's eni-X stands for the server ecs-X), DescribeFlowLogs and DeleteFlowLogs. Whatever
 * destination is asked for (CloudWatch Logs, S3, Firehose), the records go to Nimbus's own: a
 * file in the daemon's data directory, read with `nimbus flowlog tail` or the REST API. Only
 * AWS's default format is written.
 */
import { NimbusError } from '../../core/errors.js';
import type { FlowLog, FlowLogInput } from '../../core/model/index.js';
import { write, type Ctx } from '../../resources/context.js';
import * as flowLogs from '../../resources/flow-log/service.js';
import { AwsError } from '../codec.js';
import { attr, filtered, missing, nameFor, nameTag, need, setAttr, tagsOut, type Handler, type Out } from './kit.js';
import { keepSpecTags } from './kit.js';

export const DEFAULT_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

const RESOURCE_TYPES: Record<string, 'vpc' | 'subnet' | 'server'> = { VPC: 'vpc', Subnet: 'subnet', NetworkInterface: 'server' };

/** An AWS resource id as the Nimbus resource it names (eni-X is the server ecs-X). */
function nimbusRef(type: 'vpc' | 'subnet' | 'server', id: string): string {
  return type === 'server' && id.startsWith('eni-') ? `ecs-${id.slice(4)}` : id;
}

function awsResourceId(f: FlowLog): string {
  return f.resourceType === 'server' ? `eni-${f.resourceId.slice(f.resourceId.indexOf('-') + 1)}` : f.resourceId;
}

function flowLogOut(ctx: Ctx, f: FlowLog): Out {
  return {
    FlowLogId: f.id,
    CreationTime: f.createdAt,
    DeliverLogsStatus: 'SUCCESS',
    FlowLogStatus: 'ACTIVE',
    ResourceId: awsResourceId(f),
    TrafficType: f.trafficType,
    LogDestinationType: attr(ctx, f.id, 'destination-type') ?? 'cloud-watch-logs',
    ...(attr(ctx, f.id, 'destination') ? { LogDestination: attr(ctx, f.id, 'destination')! } : {}),
    ...(attr(ctx, f.id, 'log-group') ? { LogGroupName: attr(ctx, f.id, 'log-group')! } : {}),
    LogFormat: DEFAULT_FORMAT,
    MaxAggregationInterval: f.maxAggregationInterval,
    Tags: tagsOut(ctx, f.id, f.name),
  };
}

export const FLOW_LOGS: Record<string, Handler> = {
  CreateFlowLogs: (ctx, input) => {
    const type = RESOURCE_TYPES[String(need(input, 'ResourceType'))];
    if (!type) throw new AwsError('InvalidParameterValue', `ResourceType '${String(input.ResourceType)}': Nimbus takes VPC, Subnet and NetworkInterface`);
    const format = input.LogFormat as string | undefined;
    if (format !== undefined && format.trim().replace(/\s+/g, ' ') !== DEFAULT_FORMAT)
      throw new AwsError('InvalidParameter', `LogFormat: Nimbus writes AWS's default format (version 2) only, not '${format}'`);
    const ids = (input.ResourceIds ?? []) as string[];
    if (ids.length === 0) throw new NimbusError('InvalidParameterValue', 'ResourceIds: at least one resource is required');
    const made = write(ctx, () =>
      ids.map((id) => {
        const ref = nimbusRef(type, id);
        const name = nameFor(input, 'vpc-flow-log', 'flow-log', () => flowLogs.listFlowLogs(ctx).map((f) => f.name));
        const body: FlowLogInput = {
          name,
          [type]: ref,
          trafficType: String(input.TrafficType ?? 'ALL'),
          ...(input.MaxAggregationInterval !== undefined ? { maxAggregationInterval: Number(input.MaxAggregationInterval) } : {}),
        };
        const f = flowLogs.createFlowLog(ctx, body);
        keepSpecTags(ctx, input, 'vpc-flow-log', f.id);
        setAttr(ctx, f.id, 'destination-type', String(input.LogDestinationType ?? 'cloud-watch-logs'));
        if (input.LogDestination) setAttr(ctx, f.id, 'destination', String(input.LogDestination));
        if (input.LogGroupName) setAttr(ctx, f.id, 'log-group', String(input.LogGroupName));
        return f.id;
      }),
    );
    return { FlowLogIds: made, Unsuccessful: [], ...(input.ClientToken ? { ClientToken: String(input.ClientToken) } : {}) };
  },
  DescribeFlowLogs: (ctx, input) => {
    const all = flowLogs.listFlowLogs(ctx);
    missing(input.FlowLogIds, all, 'InvalidFlowLogId.NotFound', 'flow log');
    const found = filtered(
      ctx,
      all,
      input,
      'FlowLogIds',
      (f) => ({
        id: f.id,
        'flow-log-id': f.id,
        'resource-id': awsResourceId(f),
        'traffic-type': f.trafficType,
        'deliver-log-status': 'SUCCESS',
        'log-destination-type': attr(ctx, f.id, 'destination-type') ?? 'cloud-watch-logs',
        'tag:Name': nameTag(ctx, f.id, f.name),
      }),
      'Filter',
    );
    return { FlowLogs: found.map((f) => flowLogOut(ctx, f)) };
  },
  DeleteFlowLogs: (ctx, input) => {
    const unsuccessful: Out[] = [];
    for (const id of (input.FlowLogIds ?? []) as string[]) {
      try {
        flowLogs.deleteFlowLog(ctx, id);
      } catch (err) {
        if (!(err instanceof NimbusError)) throw err;
        unsuccessful.push({ ResourceId: id, Error: { Code: err.code, Message: err.message } });
      }
    }
    return { Unsuccessful: unsuccessful };
  },
};
