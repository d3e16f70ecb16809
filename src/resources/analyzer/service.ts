/**
 * Trace, ping and exec from a server. Trace is always the analyzer's explanation over the
 * whole desired state (and, with `probe`, a real probe beside it where the data plane can send
 * one); ping and exec go through the data plane. A stopped server sends nothing.
 */
import { NimbusError } from '../../core/errors.js';
import { intToIp, parseIp } from '../../core/cidr.js';
import type { DataplaneKind, ExecResult, PingInput, PingResult, Server, TraceInput, TraceProtocol, TraceResponse } from '../../core/model/index.js';
import { compile } from '../../net/topology.js';
import { trace } from '../../net/trace.js';
import { formatTrace } from '../../net/format.js';
import type { Ctx } from '../context.js';
import { getServer } from '../server/service.js';
import { readSnapshot } from '../snapshot.js';

/** What these use of the data plane (its driver implements it). */
export interface NetworkAccess {
  readonly kind: DataplaneKind;
  ping(server: Server, destination: string, count: number): Promise<Omit<PingResult, 'dataplane'>>;
  probe(server: Server, destination: string, protocol: TraceProtocol, port?: number): Promise<{ reachable: boolean; output: string }>;
  exec(server: Server, argv: string[]): Promise<ExecResult>;
}

function running(server: Server): Server {
  if (server.status !== 'running')
    throw new NimbusError('IncorrectInstanceState', `server '${server.name}' is ${server.status}; start it first (nimbus server start ${server.name})`);
  return server;
}

export async function traceFrom(ctx: Ctx, net: NetworkAccess, input: TraceInput): Promise<TraceResponse> {
  const server = getServer(ctx, input.server);
  const r = trace(compile(readSnapshot(ctx.store)), {
    sourceServerId: server.id,
    destination: input.destination,
    protocol: input.protocol ?? 'icmp',
    port: input.port,
  });
  const out: TraceResponse = { ...r, text: formatTrace(r) };
  if (input.probe && server.status !== 'running') {
    out.probe = { reachable: false, agrees: !r.reachable, output: `no probe sent: ${server.name} is stopped\n` };
  } else if (input.probe) {
    const probe = await net.probe(server, r.destination, r.protocol, r.port ?? undefined);
    out.probe = { reachable: probe.reachable, agrees: probe.reachable === r.reachable, output: probe.output };
  }
  return out;
}

export async function pingFrom(ctx: Ctx, net: NetworkAccess, input: PingInput): Promise<PingResult> {
  const server = running(getServer(ctx, input.server));
  const destination = intToIp(parseIp(input.destination, 'destination'));
  const out = await net.ping(server, destination, input.count ?? 3);
  return { ...out, dataplane: net.kind };
}

export function execIn(ctx: Ctx, net: NetworkAccess, ref: string, argv: string[]): Promise<ExecResult> {
  return net.exec(running(getServer(ctx, ref)), argv);
}
