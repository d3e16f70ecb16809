/**
 * The one typed HTTP client of the Nimbus API: the CLI, the console and the tests use it.
 * A refusal arrives as an ApiError carrying the catalogue's code.
 */
import type { HealthMonitor, Listener, LoadBalancer, Member, OperatingStatus, Peering, Pool, Project, RouteTable, SecurityGroup, Server, Subnet, Vpc } from '../resources/model.js';
import type { TraceResult } from '../net/trace.js';
import type { AccessRecord } from '../lb/observe.js';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | undefined>;

export interface TraceResponse extends TraceResult {
  text: string;
  probe?: { reachable: boolean; agrees: boolean; output: string };
}

export interface PingResponse {
  reachable: boolean;
  transmitted: number;
  received: number;
  output: string;
  dataplane: string;
}

export interface StatusResponse {
  version: string;
  dataplane: { kind: string; reason: string; converged: boolean; errors: { resourceId: string; message: string }[] };
}

export interface PlanStep {
  ns: string;
  object: string;
  action: string;
}

export type MemberView = Member & { operatingStatus?: OperatingStatus; statusReason?: string | null };

/** One access-log line (src/lb/observe.ts), with the member's name. */
export interface LbAccessRecord extends AccessRecord {
  memberName: string | null;
}

export interface LbStatus extends LoadBalancer {
  operatingStatus: string;
  workerRunning: boolean;
  errors: string[];
  listeners: (Listener & { counters: { requests: Record<string, number>; active: number } | null })[];
  pools: (Pool & { operatingStatus: string; healthMonitor: HealthMonitor | null; members: MemberView[] })[];
}

export const DEFAULT_URL = 'http://127.0.0.1:7700';

export class NimbusClient {
  readonly url: string;
  readonly project: string | undefined;

  constructor(opts: { url?: string; project?: string } = {}) {
    this.url = (opts.url ?? process.env.NIMBUS_URL ?? DEFAULT_URL).replace(/\/$/, '');
    this.project = opts.project ?? process.env.NIMBUS_PROJECT;
  }

  /** The same client acting for another project. */
  as(project: string): NimbusClient {
    return new NimbusClient({ url: this.url, project });
  }

  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const qs = query ? new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString() : '';
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.project) headers['x-nimbus-project'] = this.project;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}${qs ? `?${qs}` : ''}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiError('DaemonUnreachable', `cannot reach the Nimbus daemon at ${this.url} (${(err as Error).cause ?? (err as Error).message}); start it with 'nimbus serve' or set NIMBUS_URL`, 0);
    }
    const text = await res.text();
    const data = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(data?.code ?? 'InternalError', data?.message ?? `HTTP ${res.status}`, res.status);
    return data as T;
  }

  status = () => this.request<StatusResponse>('GET', '/v1/status');

  projects = {
    list: () => this.request<Project[]>('GET', '/v1/projects'),
    create: (b: { name: string }) => this.request<Project>('POST', '/v1/projects', b),
    get: (ref: string) => this.request<Project>('GET', `/v1/projects/${enc(ref)}`),
    delete: (ref: string) => this.request<Project>('DELETE', `/v1/projects/${enc(ref)}`),
  };
  vpcs = crud<Vpc, { name: string; cidr: string }, { name?: string }>(this, 'vpcs');
  subnets = {
    ...crud<Subnet, { name: string; vpc: string; cidr: string; routeTable?: string }, { name?: string }>(this, 'subnets'),
    disassociate: (ref: string) => this.request<Subnet>('POST', `/v1/subnets/${enc(ref)}/disassociate`),
  };
  servers = {
    ...crud<Server, { name: string; subnet: string; ip?: string; securityGroups?: string[]; app?: string | null }, { name?: string; securityGroups?: string[] }>(this, 'servers'),
    stop: (ref: string) => this.request<Server>('POST', `/v1/servers/${enc(ref)}/stop`),
    start: (ref: string) => this.request<Server>('POST', `/v1/servers/${enc(ref)}/start`),
  };
  securityGroups = {
    ...crud<SecurityGroup, { name: string; description?: string }, { name?: string; description?: string }>(this, 'security-groups'),
    addRule: (ref: string, b: { direction: string; protocol: string; ports?: string; remote: string; description?: string }) =>
      this.request<SecurityGroup>('POST', `/v1/security-groups/${enc(ref)}/rules`, b),
    removeRule: (ref: string, ruleId: string) => this.request<SecurityGroup>('DELETE', `/v1/security-groups/${enc(ref)}/rules/${enc(ruleId)}`),
  };
  routeTables = {
    ...crud<RouteTable, { name: string; vpc: string }, { name?: string }>(this, 'route-tables'),
    associate: (ref: string, subnet: string) => this.request<RouteTable>('POST', `/v1/route-tables/${enc(ref)}/associations`, { subnet }),
    addRoute: (ref: string, b: { destination: string; target: string }) => this.request<RouteTable>('POST', `/v1/route-tables/${enc(ref)}/routes`, b),
    removeRoute: (ref: string, destination: string) => this.request<RouteTable>('DELETE', `/v1/route-tables/${enc(ref)}/routes`, undefined, { destination }),
  };
  peerings = {
    ...crud<Peering, { name: string; vpc: string; peerVpc: string; peerProject?: string }, { name?: string }>(this, 'peerings'),
    accept: (ref: string) => this.request<Peering>('POST', `/v1/peerings/${enc(ref)}/accept`),
    reject: (ref: string) => this.request<Peering>('POST', `/v1/peerings/${enc(ref)}/reject`),
  };

  loadBalancers = {
    ...crud<LoadBalancer, { name: string; subnet: string; vip?: string; publicIp?: boolean | string }, { name?: string }>(this, 'load-balancers'),
    status: (ref: string) => this.request<LbStatus>('GET', `/v1/load-balancers/${enc(ref)}/status`),
    logs: (ref: string, tail?: number) => this.request<{ requests: LbAccessRecord[] }>('GET', `/v1/load-balancers/${enc(ref)}/logs${tail ? `?tail=${tail}` : ''}`),
  };
  listeners = crud<Listener, { name: string; loadBalancer: string; protocol: string; port: number; defaultPool?: string }, { name?: string; defaultPool?: string | null }>(this, 'listeners');
  pools = crud<Pool, { name: string; loadBalancer: string; protocol: string; algorithm: string; persistence?: string; cookieName?: string }, { name?: string; algorithm?: string; persistence?: string | null; cookieName?: string }>(this, 'pools');
  members = crud<MemberView, { name?: string; pool: string; server?: string; address?: string; port: number; weight?: number }, { name?: string; weight?: number; adminStateUp?: boolean }>(this, 'members');
  healthMonitors = crud<
    HealthMonitor,
    { name?: string; pool: string; type: string; delay?: number; timeout?: number; maxRetries?: number; maxRetriesDown?: number; urlPath?: string; expectedCodes?: string },
    { name?: string; delay?: number; timeout?: number; maxRetries?: number; maxRetriesDown?: number; urlPath?: string; expectedCodes?: string }
  >(this, 'health-monitors');
  serverLogs = (ref: string) => this.request<{ requests: { time: string; client: string; method: string; path: string; forwardedFor: string | null; userAgent: string | null }[]; output: string }>('GET', `/v1/servers/${enc(ref)}/logs`);
  metrics = async (): Promise<string> => {
    const r = await fetch(`${this.url}/metrics`);
    return r.text();
  };

  exec = (server: string, argv: string[]) =>
    this.request<{ code: number; stdout: string; stderr: string }>('POST', `/v1/servers/${enc(server)}/exec`, { argv });
  dataplane = {
    plan: () => this.request<{ steps: PlanStep[] }>('GET', '/v1/dataplane/plan'),
    sync: () => this.request<{ steps: PlanStep[]; errors: { resourceId: string; message: string }[]; ms: number }>('POST', '/v1/dataplane/sync'),
  };

  trace = (b: { server: string; destination: string; protocol?: string; port?: number; probe?: boolean }) => this.request<TraceResponse>('POST', '/v1/trace', b);
  ping = (b: { server: string; destination: string; count?: number }) => this.request<PingResponse>('POST', '/v1/ping', b);
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function crud<T, C, U>(c: NimbusClient, path: string) {
  return {
    list: (query?: Query) => c.request<T[]>('GET', `/v1/${path}`, undefined, query),
    create: (b: C) => c.request<T>('POST', `/v1/${path}`, b),
    get: (ref: string) => c.request<T>('GET', `/v1/${path}/${enc(ref)}`),
    update: (ref: string, b: U) => c.request<T>('PATCH', `/v1/${path}/${enc(ref)}`, b),
    delete: (ref: string) => c.request<T>('DELETE', `/v1/${path}/${enc(ref)}`),
  };
}
