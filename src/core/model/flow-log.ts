/**
 * Flow logs (AWS VPC Flow Logs): what did happen, beside the analyzer's what would. A flow log
 * watches a VPC, a subnet or a server and writes, per flow and capture window, one line in
 * AWS's default format (version 2) with one field more: what rejected a REJECT.
 */
import { Type, type Static } from '@sinclair/typebox';
import { S, StringEnum } from './kit.js';

export const FLOW_LOG_TARGETS = ['vpc', 'subnet', 'server'] as const;
export const TRAFFIC_TYPES = ['ALL', 'ACCEPT', 'REJECT'] as const;
/** AWS's two aggregation intervals, in seconds. */
export const AGGREGATION_INTERVALS = [60, 600] as const;

export const FlowLog = Type.Object(
  {
    id: S(),
    name: S(),
    projectId: S(),
    vpcId: S(),
    resourceType: StringEnum(FLOW_LOG_TARGETS),
    resourceId: S({ description: 'The VPC, subnet or server it watches' }),
    trafficType: StringEnum(TRAFFIC_TYPES),
    maxAggregationInterval: Type.Integer({ description: 'Seconds a capture window lasts at most (60 or 600); reading the log closes the open window' }),
    destination: S({ description: "Where records go: nimbus:flowlogs/<id>.log in the daemon's data directory, read through the API" }),
    createdAt: S(),
  },
  { $id: 'FlowLog' },
);
export type FlowLog = Static<typeof FlowLog>;

/** One record, parsed from its line. */
export const FlowRecord = Type.Object({
  version: Type.Integer(),
  accountId: S(),
  interfaceId: S(),
  srcaddr: S(),
  dstaddr: S(),
  srcport: Type.Integer(),
  dstport: Type.Integer(),
  protocol: Type.Integer({ description: 'IANA number: 1 icmp, 6 tcp, 17 udp' }),
  packets: Type.Integer(),
  bytes: Type.Integer(),
  start: Type.Integer({ description: 'Unix seconds: the capture window began' }),
  end: Type.Integer({ description: 'Unix seconds: the capture window ended' }),
  action: StringEnum(['ACCEPT', 'REJECT']),
  logStatus: S(),
  rejectedBy: Type.Optional(S({ description: "Nimbus's field: the security groups (sg:ID,...) or the ACL rule (acl:ID:inbound:100) that rejected" })),
  server: Type.Optional(S({ description: 'The name of the server the interface belongs to' })),
  line: S({ description: 'The record as written' }),
});
export type FlowRecord = Static<typeof FlowRecord>;

export const FlowRecords = Type.Object({
  records: Type.Array(FlowRecord),
  next: Type.Integer({ description: 'Pass as `after` to get only later records' }),
});
export type FlowRecords = Static<typeof FlowRecords>;
