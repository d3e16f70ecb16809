/**
 * Trace and ping. Trace is always the analyzer's explanation (and, with `probe`, a real
 * probe beside it on the linux data plane); ping goes through the data plane.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { contextOf, type AppDeps } from './context.js';
import { ErrorBody, Inputs } from './schemas.js';
import { getServer } from '../resources/server/service.js';
import { readSnapshot } from '../resources/snapshot.js';
import { compile } from '../net/topology.js';
import { trace, type TraceProtocol } from '../net/trace.js';
import { formatTrace } from '../net/format.js';
import { parseIp, intToIp } from '../core/cidr.js';
import { NimbusError } from '../core/errors.js';
import type { Server } from '../resources/model.js';

/** A stopped server sends nothing: ping and exec from it are refused. */
function running(server: Server): Server {
  if (server.status !== 'running') throw new NimbusError('IncorrectInstanceState', `server '${server.name}' is ${server.status}; start it first (nimbus server start ${server.name})`);
  return server;
}

const errors = { 400: Type.Ref(ErrorBody), 404: Type.Ref(ErrorBody), 409: Type.Ref(ErrorBody) };

export function analyzerRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/trace',
    { schema: { tags: ['analyzer'], summary: 'Explain the path between a server and an address', body: Inputs.trace, response: { 200: Type.Ref(Type.Object({}, { $id: 'TraceResult' })), ...errors } } },
    async (req) => {
      const b = req.body as { server: string; destination: string; protocol?: TraceProtocol; port?: number; probe?: boolean };
      const ctx = contextOf(deps, req);
      const server = getServer(ctx, b.server);
      const r = trace(compile(readSnapshot(deps.store)), { sourceServerId: server.id, destination: b.destination, protocol: b.protocol ?? 'icmp', port: b.port });
      const out: Record<string, unknown> = { ...r, text: formatTrace(r) };
      if (b.probe && server.status !== 'running') {
        out.probe = { reachable: false, agrees: !r.reachable, output: `no probe sent: ${server.name} is stopped\n` };
      } else if (b.probe) {
        const probe = await deps.dataplane.probe(server, r.destination, r.protocol, r.port ?? undefined);
        out.probe = { reachable: probe.reachable, agrees: probe.reachable === r.reachable, output: probe.output };
      }
      return out;
    },
  );
  app.post(
    '/ping',
    { schema: { tags: ['analyzer'], summary: 'Ping an address from a server', body: Inputs.ping, response: { 200: Type.Ref(Type.Object({}, { $id: 'PingResult' })), ...errors } } },
    async (req) => {
      const b = req.body as { server: string; destination: string; count?: number };
      const server = running(getServer(contextOf(deps, req), b.server));
      const destination = intToIp(parseIp(b.destination, 'destination'));
      const out = await deps.dataplane.ping(server, destination, b.count ?? 3);
      return { ...out, dataplane: deps.dataplane.kind };
    },
  );
}

/** The data plane: its plan, a sync on demand, and commands inside a server. */
export function dataplaneRoutes(app: FastifyInstance, deps: AppDeps): void {
  const Step = Type.Object({ ns: Type.String(), object: Type.String(), action: Type.String() });
  const Report = Type.Object({ steps: Type.Array(Step), errors: Type.Array(Type.Object({ resourceId: Type.String(), message: Type.String() })), ms: Type.Number() });
  app.get('/dataplane/plan', { schema: { tags: ['dataplane'], summary: 'What the data plane would change now', response: { 200: Type.Object({ steps: Type.Array(Step) }) } } }, async () => ({
    steps: await deps.dataplane.plan(),
  }));
  app.post('/dataplane/sync', { schema: { tags: ['dataplane'], summary: 'Converge now and report what changed', response: { 200: Report } } }, async () => deps.dataplane.sync());
  app.post(
    '/servers/:ref/exec',
    {
      schema: {
        tags: ['server'],
        summary: "Run a command inside a server's namespace (linux data plane)",
        params: Type.Object({ ref: Type.String() }),
        body: Type.Object({ argv: Type.Array(Type.String(), { minItems: 1 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ code: Type.Integer(), stdout: Type.String(), stderr: Type.String() }), ...errors },
      },
    },
    async (req) => {
      const server = running(getServer(contextOf(deps, req), (req.params as { ref: string }).ref));
      return deps.dataplane.exec(server, (req.body as { argv: string[] }).argv);
    },
  );
}
