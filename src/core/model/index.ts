/**
 * The one domain model: every resource, every input and every answer, written once as a
 * schema with its type derived from it. The API validates and documents with these schemas;
 * the client, the services, the analyzer and the engines use their types.
 */
export * from './kit.js';
export * from './network.js';
export * from './load-balancer.js';
export * from './analyzer.js';
export * from './inputs.js';
export * from './status.js';
export * from './app.js';
export * from './access.js';
export * from './quotas.js';
export * from './topology.js';
export * from './internet.js';
export * from './flow-log.js';
export * from './l7.js';
export * from './certificate.js';

import { Type } from '@sinclair/typebox';
import {
  Project,
  Vpc,
  Subnet,
  SecurityGroupRule,
  SecurityGroup,
  Server,
  RouteTable,
  AclRule,
  NetworkAcl,
  Peering,
  InternetGateway,
  ElasticIp,
  NatGateway,
} from './network.js';
import { LoadBalancer, Listener, Pool, Member, HealthMonitor } from './load-balancer.js';
import { TraceResponse, PingResult } from './analyzer.js';
import { Token } from './access.js';
import { FlowLog } from './flow-log.js';
import { L7Policy } from './l7.js';
import { Certificate } from './certificate.js';

export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() }, { $id: 'Error' });

/** The schemas with an $id, registered once with the API so responses can refer to them. */
export const SHARED_SCHEMAS = [
  ErrorBody,
  Project,
  Vpc,
  Subnet,
  SecurityGroupRule,
  SecurityGroup,
  Server,
  RouteTable,
  AclRule,
  NetworkAcl,
  Peering,
  InternetGateway,
  ElasticIp,
  NatGateway,
  FlowLog,
  TraceResponse,
  PingResult,
  LoadBalancer,
  Listener,
  Pool,
  Member,
  HealthMonitor,
  L7Policy,
  Certificate,
  Token,
];
