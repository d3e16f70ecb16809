/**
 * Flow logs' endpoints (resources/flow-log): create, list, show and delete, and the records,
 * read from the log's file in the data directory (workloads/flow-logs.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from './context.js';
import { FlowRecords, Inputs, type Server } from '../core/model/index.js';
import { helpers, routeMaker } from './route.js';
import * as flowLogs from '../resources/flow-log/service.js';
import { resolve } from '../resources/context.js';
import { invalid } from '../core/errors.js';

export function flowLogRoutes(app: FastifyInstance, deps: AppDeps): void {
  const route = routeMaker(app, deps);
  const { ref, body, q, list, one } = helpers;
  const vpcQuery = Type.Object(
    { vpc: Type.Optional(Type.String({ description: 'only the flow logs of this VPC (name or id)' })) },
    { additionalProperties: false },
  );

  route('GET', '/flow-logs', { tag: 'flowLog', summary: 'List flow logs', query: vpcQuery, response: list('FlowLog') }, (ctx, req) =>
    flowLogs.listFlowLogs(ctx, q(req)),
  );
  route(
    'POST',
    '/flow-logs',
    { tag: 'flowLog', summary: 'Create a flow log on a VPC, a subnet or a server', body: Inputs.flowLog, response: one('FlowLog'), status: 201 },
    (ctx, req) => flowLogs.createFlowLog(ctx, body(req)),
  );
  route('GET', '/flow-logs/:ref', { tag: 'flowLog', summary: 'Show a flow log', response: one('FlowLog') }, (ctx, req) => flowLogs.getFlowLog(ctx, ref(req)));
  route('DELETE', '/flow-logs/:ref', { tag: 'flowLog', summary: 'Delete a flow log and its records', response: one('FlowLog') }, (ctx, req) =>
    flowLogs.deleteFlowLog(ctx, ref(req)),
  );
  route(
    'GET',
    '/flow-logs/:ref/records',
    {
      tag: 'flowLog',
      summary: "A flow log's records, oldest first (reading closes the open capture window)",
      query: Type.Object(
        {
          after: Type.Optional(Type.String({ pattern: '^[0-9]{1,12}$', description: 'only records after this cursor (`next` of an earlier answer)' })),
          limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', description: 'only the last N' })),
          action: Type.Optional(Type.String({ description: 'ACCEPT or REJECT' })),
          server: Type.Optional(Type.String({ description: 'only the records of this server (name or id)' })),
        },
        { additionalProperties: false },
      ),
      response: FlowRecords,
    },
    async (ctx, req) => {
      const log = flowLogs.getFlowLog(ctx, ref(req));
      const query = q<{ after?: string; limit?: string; action?: string; server?: string }>(req);
      const action = query.action?.toUpperCase();
      if (action !== undefined && action !== 'ACCEPT' && action !== 'REJECT') throw invalid(`action: '${query.action}' must be ACCEPT or REJECT`);
      const server = query.server ? resolve<Server>(ctx, 'server', query.server, 'server') : undefined;
      return deps.flowLogs.records(log, {
        ...(query.after ? { after: Number(query.after) } : {}),
        ...(query.limit ? { limit: Number(query.limit) } : {}),
        ...(action ? { action } : {}),
        ...(server ? { endpointId: server.id } : {}),
      });
    },
  );
}
