/**
 * Trace, ping and exec from a server. Trace is always the analyzer's explanation over the
 * whole desired state (and, with `probe`, a real probe beside it where the data plane can send
 * one); ping and exec go through the data plane. A stopped server sends nothing.
 */
import type { ChildProcess } from 'node:child_process';
import { NimbusError, invalid } from '../../core/errors.js';
import { intToIp, parseIp } from '../../core/cidr.js';
import type {
  ElasticIp,
  DataplaneKind,
  ExecResult,
  LoadBalancer,
  PingInput,
  PingResult,
  SecurityGroup,
  Server,
  TraceInput,
  TraceProtocol,
  TraceResponse,
} from '../../core/model/index.js';
import { compile } from '../../net/topology.js';
import { trace } from '../../net/trace.js';
import { formatTrace } from '../../net/format.js';
import { requireAdmin, type Ctx } from '../context.js';
import { findHost, internetEndpoint, internetHosts } from '../edge/internet.js';
import { DEFAULT_HOST } from '../../core/model/internet.js';
import { getServer } from '../server/service.js';
import { lbEndpoint, readSnapshot } from '../snapshot.js';

/** What these use of the data plane (its driver implements it). */
export interface NetworkAccess {
  readonly kind: DataplaneKind;
  ping(server: Server, destination: string, count: number): Promise<Omit<PingResult, 'dataplane'>>;
  probe(server: Server, destination: string, protocol: TraceProtocol, port?: number): Promise<{ reachable: boolean; output: string }>;
  exec(server: Server, argv: string[]): Promise<ExecResult>;
  attach(server: Server, argv: string[], opts: { tty: boolean; rows?: number; cols?: number; term?: string }): Promise<ChildProcess>;
}

/**
 * An internet host named as `internet` (the built-in host) or `internet:NAME`, or null. A
 * server of that name is meant first.
 */
function internetSource(ctx: Ctx, ref: string): Server | null {
  if (ref !== 'internet' && !ref.startsWith('internet:')) return null;
  if (ref === 'internet' && own(ctx, 'server', ref)) return null;
  const name = ref === 'internet' ? DEFAULT_HOST.name : ref.slice('internet:'.length);
  const host = findHost(ctx.store, name);
  if (!host) throw new NimbusError('InvalidInternetHost.NotFound', `internet host '${name}' does not exist (nimbus internet host list)`);
  return internetEndpoint(host);
}

/** A command's target: a server of the project, or (for an admin) an internet host. */
function machineOf(ctx: Ctx, ref: string): Server {
  const host = internetSource(ctx, ref);
  if (!host) return getServer(ctx, ref);
  requireAdmin(ctx, 'a command on an internet host');
  return host;
}

/** A source of traffic: a server, or a load balancer (its VIP, as an endpoint of its subnet), or an internet host. */
function sourceOf(ctx: Ctx, ref: string): Server {
  const host = internetSource(ctx, ref);
  if (host) return host;
  try {
    return getServer(ctx, ref);
  } catch (err) {
    if (!(err instanceof NimbusError) || err.code !== 'InvalidServerID.NotFound') throw err;
    const lb = own<LoadBalancer>(ctx, 'loadBalancer', ref);
    if (!lb) throw err;
    return lbEndpoint(lb, ctx.store.list<SecurityGroup>('securityGroup', { projectId: ctx.projectId }));
  }
}

/** A resource of the caller's project by name or id, or null. */
function own<T extends { projectId: string }>(ctx: Ctx, kind: 'server' | 'loadBalancer', ref: string): T | null {
  const byName = ctx.store.byName<T>(kind, ctx.projectId, ref);
  if (byName) return byName;
  const byId = ctx.store.get<T>(ref, kind);
  return byId && byId.projectId === ctx.projectId ? byId : null;
}

/** A destination: an address as typed, or the private address of a server or load balancer named by name or id. */
function destinationOf(ctx: Ctx, ref: string): string {
  if (/^[\d.]+$/.test(ref)) return intToIp(parseIp(ref, 'destination'));
  const server = own<Server>(ctx, 'server', ref);
  if (server) return server.privateIp;
  const lb = own<LoadBalancer>(ctx, 'loadBalancer', ref);
  if (lb) return lb.vip;
  throw invalid(`destination: '${ref}' is neither an IPv4 address nor a server or load balancer of this project`);
}

/**
 * From the internet a project token traces to its own public IPs (or an internet host): the
 * analyzer would otherwise explain another project's servers and groups behind theirs.
 */
function checkPublicDestination(ctx: Ctx, destination: string): void {
  if (ctx.admin) return;
  const own = [
    ...ctx.store.list<ElasticIp>('elasticIp', { projectId: ctx.projectId }).map((e) => e.publicIp),
    ...ctx.store.list<LoadBalancer>('loadBalancer', { projectId: ctx.projectId }).map((l) => l.publicIp),
    ...internetHosts(ctx.store).map((h) => h.ip),
  ];
  if (!own.includes(destination))
    throw invalid(`destination: ${destination} is not a public IP of this project (from the internet, trace to your elastic IPs and load balancers)`);
}

function running(server: Server): Server {
  if (server.status !== 'running')
    throw new NimbusError('IncorrectInstanceState', `server '${server.name}' is ${server.status}; start it first (nimbus server start ${server.name})`);
  return server;
}

export async function traceFrom(ctx: Ctx, net: NetworkAccess, input: TraceInput): Promise<TraceResponse> {
  const server = sourceOf(ctx, input.server);
  const destination = destinationOf(ctx, input.destination);
  if (server.id.startsWith('inet-')) checkPublicDestination(ctx, destination);
  const r = trace(compile(readSnapshot(ctx.store)), {
    sourceServerId: server.id,
    destination,
    protocol: input.protocol ?? 'icmp',
    port: input.port,
    sourceIp: input.sourceIp,
  });
  if (input.probe && input.sourceIp !== undefined)
    throw invalid(`probe: a probe is sent from ${server.name}'s own address; it cannot carry sourceIp '${input.sourceIp}'`);
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
  const server = running(sourceOf(ctx, input.server));
  const destination = destinationOf(ctx, input.destination);
  const out = await net.ping(server, destination, input.count ?? 3);
  return { ...out, dataplane: net.kind };
}

/** A command inside a running server with its streams attached (nimbus exec, ssh). */
export function attachTo(
  ctx: Ctx,
  net: NetworkAccess,
  ref: string,
  argv: string[],
  opts: { tty: boolean; rows?: number; cols?: number; term?: string },
): Promise<ChildProcess> {
  if (argv.length === 0) throw invalid('argv: a command is required');
  return net.attach(running(machineOf(ctx, ref)), argv, opts);
}

export function execIn(ctx: Ctx, net: NetworkAccess, ref: string, argv: string[]): Promise<ExecResult> {
  return net.exec(running(machineOf(ctx, ref)), argv);
}
