/**
 * The one typed HTTP client of the Nimbus API: the CLI, the console and the tests use it.
 * A refusal arrives as an ApiError carrying the catalogue's code.
 */
import { Agent, request as httpRequest } from 'node:http';
import { readCredential } from './credentials.js';
import type {
  AclRuleInput,
  NetworkAcl,
  NetworkAclInput,
  FlowLog,
  FlowLogInput,
  FlowRecords,
  AwsCredentials,
  ExecResult,
  HealthMonitor,
  HealthMonitorInput,
  HealthMonitorUpdate,
  Certificate,
  CertificateInput,
  L7Policy,
  L7PolicyInput,
  L7PolicyUpdate,
  L7Rule,
  L7RuleInput,
  IssuedToken,
  LbAccessRecord,
  LbStatusTree,
  Listener,
  ListenerInput,
  ListenerUpdate,
  LoadBalancer,
  LoadBalancerInput,
  LoadBalancerUpdate,
  MemberInput,
  MemberUpdate,
  MemberView,
  Peering,
  PeeringInput,
  InternetGateway,
  ElasticIp,
  NatGateway,
  InternetHost,
  PingInput,
  PingResult,
  PlanStep,
  Chassis,
  Pool,
  PoolInput,
  PoolUpdate,
  Project,
  ProjectInput,
  ProjectUpdate,
  Rename,
  ResourceRef,
  RouteInput,
  RouteTable,
  RouteTableInput,
  RuleInput,
  SecurityGroup,
  SecurityGroupInput,
  SecurityGroupUpdate,
  Server,
  ServerInput,
  ServerLogs,
  ServerUpdate,
  Status,
  Subnet,
  SubnetInput,
  SyncReport,
  TraceInput,
  Token,
  TopologyFile,
  TopologyPlan,
  TopologyStep,
  TokenInput,
  TraceResponse,
  Vpc,
  VpcInput,
  VpcUpdate,
} from '../core/model/index.js';

export type { LbAccessRecord, MemberView, PlanStep, TraceResponse, Chassis };

/** A line of apply's or destroy's progress. */
export type TopologyProgress =
  | { type: 'step'; step: TopologyStep; done: number; total: number }
  | {
      type: 'done';
      steps: number;
      loadBalancers: { name: string; vip: string; publicIp: string | null }[];
      elasticIps?: { name: string; publicIp: string; privateIp: string | null }[];
    }
  | { type: 'error'; code: string; message: string };
/** The status tree of a load balancer (GET /v1/load-balancers/{ref}/status). */
export type LbStatus = LbStatusTree;

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    /** A topology file's problems, each with its path and line. */
    readonly problems?: { path: string; line: number | null; code: string; message: string }[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | undefined>;

export const DEFAULT_URL = 'http://127.0.0.1:7700';

/** How long a change waits for a busy load balancer to be ACTIVE. */
const IMMUTABLE_WAIT_MS = 120_000;

export class NimbusClient {
  readonly url: string;
  readonly project: string | undefined;
  /** The token sent (Authorization: Bearer); found in the user's credentials when not given. */
  readonly token: string | undefined;

  constructor(opts: { url?: string; project?: string; token?: string } = {}) {
    this.url = (opts.url ?? process.env.NIMBUS_URL ?? DEFAULT_URL).replace(/\/$/, '');
    this.project = opts.project ?? process.env.NIMBUS_PROJECT;
    this.token = opts.token ?? (process.env.NIMBUS_TOKEN || undefined) ?? readCredential(this.url);
  }

  /** The same client acting for another project. */
  as(project: string): NimbusClient {
    return new NimbusClient({ url: this.url, project, token: this.token });
  }

  /** The same client with another token (a project's). */
  withToken(token: string, project?: string): NimbusClient {
    return new NimbusClient({ url: this.url, project, token });
  }

  /** A request whose answer is JSON lines sent as they happen (apply, destroy): `onLine` gets each. */
  async requestLines(method: string, path: string, body: unknown, onLine: (line: unknown) => void): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.project) headers['x-nimbus-project'] = this.project;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let pending = '';
    const onChunk = (c: Buffer) => {
      pending += c.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) onLine(JSON.parse(l));
    };
    const res = await send(`${this.url}${path}`, method, headers, JSON.stringify(body), onChunk).catch((err: Error) => {
      throw new ApiError(
        'DaemonUnreachable',
        `cannot reach the Nimbus daemon at ${this.url} (${err.message}); start it with 'nimbus serve' or set NIMBUS_URL`,
        0,
      );
    });
    if (res.status >= 400) {
      const data = res.text ? JSON.parse(res.text) : undefined;
      throw new ApiError(data?.code ?? 'InternalError', data?.message ?? `HTTP ${res.status}`, res.status, data?.problems);
    }
    if (pending.trim()) onLine(JSON.parse(pending));
  }

  /**
   * One API call. A change to a load balancer that is busy applying the previous one (409
   * ImmutableObject, Octavia's rule) is tried again until it is ACTIVE, for up to two minutes:
   * a script's sequence of changes works as written.
   */
  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    for (const deadline = Date.now() + IMMUTABLE_WAIT_MS; ;) {
      try {
        return await this.once<T>(method, path, body, query);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'ImmutableObject') || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async once<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const qs = query ? new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString() : '';
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.project) headers['x-nimbus-project'] = this.project;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await send(`${this.url}${path}${qs ? `?${qs}` : ''}`, method, headers, body === undefined ? undefined : JSON.stringify(body)).catch(
      (err: Error) => {
        throw new ApiError(
          'DaemonUnreachable',
          `cannot reach the Nimbus daemon at ${this.url} (${err.message}); start it with 'nimbus serve' or set NIMBUS_URL`,
          0,
        );
      },
    );
    const data = res.text ? JSON.parse(res.text) : undefined;
    if (res.status >= 400) throw new ApiError(data?.code ?? 'InternalError', data?.message ?? `HTTP ${res.status}`, res.status, data?.problems);
    return data as T;
  }

  status = () => this.request<Status>('GET', '/v1/status');

  projects = {
    list: () => this.request<Project[]>('GET', '/v1/projects'),
    create: (b: ProjectInput) => this.request<Project>('POST', '/v1/projects', b),
    get: (ref: string) => this.request<Project>('GET', `/v1/projects/${enc(ref)}`),
    update: (ref: string, b: ProjectUpdate) => this.request<Project>('PATCH', `/v1/projects/${enc(ref)}`, b),
    delete: (ref: string) => this.request<Project>('DELETE', `/v1/projects/${enc(ref)}`),
  };
  vpcs = {
    ...crud<Vpc, VpcInput, VpcUpdate>(this, 'vpcs'),
    /** What a cascade delete removes, in order. */
    dependants: (ref: string) => this.request<ResourceRef[]>('GET', `/v1/vpcs/${enc(ref)}/dependants`),
  };
  subnets = {
    ...crud<Subnet, SubnetInput, Rename>(this, 'subnets'),
    disassociate: (ref: string) => this.request<Subnet>('POST', `/v1/subnets/${enc(ref)}/disassociate`),
  };
  servers = {
    ...crud<Server, ServerInput, ServerUpdate>(this, 'servers'),
    stop: (ref: string) => this.request<Server>('POST', `/v1/servers/${enc(ref)}/stop`),
    start: (ref: string) => this.request<Server>('POST', `/v1/servers/${enc(ref)}/start`),
  };
  securityGroups = {
    ...crud<SecurityGroup, SecurityGroupInput, SecurityGroupUpdate>(this, 'security-groups'),
    addRule: (ref: string, b: RuleInput) => this.request<SecurityGroup>('POST', `/v1/security-groups/${enc(ref)}/rules`, b),
    removeRule: (ref: string, ruleId: string) => this.request<SecurityGroup>('DELETE', `/v1/security-groups/${enc(ref)}/rules/${enc(ruleId)}`),
  };
  routeTables = {
    ...crud<RouteTable, RouteTableInput, Rename>(this, 'route-tables'),
    associate: (ref: string, subnet: string) => this.request<RouteTable>('POST', `/v1/route-tables/${enc(ref)}/associations`, { subnet }),
    addRoute: (ref: string, b: RouteInput) => this.request<RouteTable>('POST', `/v1/route-tables/${enc(ref)}/routes`, b),
    removeRoute: (ref: string, destination: string) => this.request<RouteTable>('DELETE', `/v1/route-tables/${enc(ref)}/routes`, undefined, { destination }),
  };
  networkAcls = {
    ...crud<NetworkAcl, NetworkAclInput, Rename>(this, 'network-acls'),
    associate: (ref: string, subnet: string) => this.request<NetworkAcl>('POST', `/v1/network-acls/${enc(ref)}/associations`, { subnet }),
    addRule: (ref: string, b: AclRuleInput) => this.request<NetworkAcl>('POST', `/v1/network-acls/${enc(ref)}/rules`, b),
    replaceRule: (ref: string, b: AclRuleInput) => this.request<NetworkAcl>('PATCH', `/v1/network-acls/${enc(ref)}/rules`, b),
    removeRule: (ref: string, direction: 'ingress' | 'egress', number: number) =>
      this.request<NetworkAcl>('DELETE', `/v1/network-acls/${enc(ref)}/rules`, undefined, { direction, number: String(number) }),
  };
  flowLogs = {
    ...crud<FlowLog, FlowLogInput, never>(this, 'flow-logs'),
    records: (ref: string, query: { after?: number; limit?: number; action?: string; server?: string } = {}) =>
      this.request<FlowRecords>(
        'GET',
        `/v1/flow-logs/${enc(ref)}/records`,
        undefined,
        Object.fromEntries(
          Object.entries(query)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [k, String(v)]),
        ),
      ),
  };
  internetGateways = {
    ...crud<InternetGateway, { name: string; vpc?: string }, Rename>(this, 'internet-gateways'),
    attach: (ref: string, vpc: string) => this.request<InternetGateway>('POST', `/v1/internet-gateways/${enc(ref)}/attach`, { vpc }),
    detach: (ref: string, vpc?: string) => this.request<InternetGateway>('POST', `/v1/internet-gateways/${enc(ref)}/detach`, vpc ? { vpc } : {}),
  };
  elasticIps = {
    ...crud<ElasticIp, { name: string; publicIp?: string }, Rename>(this, 'elastic-ips'),
    associate: (ref: string, server: string) => this.request<ElasticIp>('POST', `/v1/elastic-ips/${enc(ref)}/associate`, { server }),
    disassociate: (ref: string) => this.request<ElasticIp>('POST', `/v1/elastic-ips/${enc(ref)}/disassociate`),
  };
  natGateways = crud<NatGateway, { name: string; subnet: string; elasticIp: string; ip?: string }, Rename>(this, 'nat-gateways');
  internet = {
    hosts: () => this.request<InternetHost[]>('GET', '/v1/internet/hosts'),
    addHost: (b: { name: string; ip?: string }) => this.request<InternetHost>('POST', '/v1/internet/hosts', b),
    removeHost: (ref: string) => this.request<InternetHost>('DELETE', `/v1/internet/hosts/${enc(ref)}`),
  };
  peerings = {
    ...crud<Peering, PeeringInput, Rename>(this, 'peerings'),
    accept: (ref: string) => this.request<Peering>('POST', `/v1/peerings/${enc(ref)}/accept`),
    reject: (ref: string) => this.request<Peering>('POST', `/v1/peerings/${enc(ref)}/reject`),
    dns: (ref: string, allow: boolean) => this.request<Peering>('POST', `/v1/peerings/${enc(ref)}/dns`, { allow }),
  };

  loadBalancers = {
    ...crud<LoadBalancer, LoadBalancerInput, LoadBalancerUpdate>(this, 'load-balancers'),
    status: (ref: string) => this.request<LbStatus>('GET', `/v1/load-balancers/${enc(ref)}/status`),
    logs: (ref: string, tail?: number) =>
      this.request<{ requests: LbAccessRecord[] }>('GET', `/v1/load-balancers/${enc(ref)}/logs${tail ? `?tail=${tail}` : ''}`),
  };
  listeners = crud<Listener, ListenerInput, ListenerUpdate>(this, 'listeners');
  pools = crud<Pool, PoolInput, PoolUpdate>(this, 'pools');
  members = crud<MemberView, MemberInput, MemberUpdate>(this, 'members');
  healthMonitors = crud<HealthMonitor, HealthMonitorInput, HealthMonitorUpdate>(this, 'health-monitors');
  l7Policies = {
    ...crud<L7Policy, L7PolicyInput, L7PolicyUpdate>(this, 'l7policies'),
    addRule: (ref: string, b: L7RuleInput) => this.request<L7Rule>('POST', `/v1/l7policies/${enc(ref)}/rules`, b),
    deleteRule: (ref: string, rule: string) => this.request<L7Rule>('DELETE', `/v1/l7policies/${enc(ref)}/rules/${enc(rule)}`),
  };
  certificates = {
    list: () => this.request<Certificate[]>('GET', '/v1/certificates'),
    get: (ref: string) => this.request<Certificate>('GET', `/v1/certificates/${enc(ref)}`),
    create: (b: CertificateInput) => this.request<Certificate>('POST', '/v1/certificates', b),
    delete: (ref: string) => this.request<Certificate>('DELETE', `/v1/certificates/${enc(ref)}`),
  };
  serverLogs = (ref: string) => this.request<ServerLogs>('GET', `/v1/servers/${enc(ref)}/logs`);
  metrics = async (): Promise<string> => {
    const r = await send(`${this.url}/metrics`, 'GET', this.token ? { authorization: `Bearer ${this.token}` } : {});
    if (r.status >= 400) {
      const data = JSON.parse(r.text);
      throw new ApiError(data.code, data.message, r.status);
    }
    return r.text;
  };

  tokens = {
    list: () => this.request<Token[]>('GET', '/v1/tokens'),
    create: (b: TokenInput) => this.request<IssuedToken>('POST', '/v1/tokens', b),
    revoke: (ref: string) => this.request<Token>('DELETE', `/v1/tokens/${enc(ref)}`),
  };
  awsCredentials = (project?: string) => this.request<AwsCredentials>('POST', '/v1/credentials/aws', project ? { project } : {});

  exec = (server: string, argv: string[]) => this.request<ExecResult>('POST', `/v1/servers/${enc(server)}/exec`, { argv });
  chassis = {
    list: () => this.request<Chassis[]>('GET', '/v1/chassis'),
    get: (name: string) => this.request<Chassis>('GET', `/v1/chassis/${encodeURIComponent(name)}`),
    add: (name: string) => this.request<Chassis>('POST', '/v1/chassis', { name }),
    remove: (name: string) => this.request<Chassis>('DELETE', `/v1/chassis/${encodeURIComponent(name)}`),
  };

  dataplane = {
    plan: () => this.request<{ steps: PlanStep[] }>('GET', '/v1/dataplane/plan'),
    sync: () => this.request<SyncReport>('POST', '/v1/dataplane/sync'),
  };

  topology = {
    plan: (file: string, name?: string) => this.request<TopologyPlan>('POST', '/v1/topology/plan', { file, ...(name ? { name } : {}) }),
    apply: (file: string, name: string | undefined, onLine: (l: TopologyProgress) => void) =>
      this.requestLines('POST', '/v1/topology/apply', { file, ...(name ? { name } : {}) }, onLine as (l: unknown) => void),
    destroy: (name: string, onLine: (l: TopologyProgress) => void) =>
      this.requestLines('POST', '/v1/topology/destroy', { name }, onLine as (l: unknown) => void),
    export: (name?: string) => this.request<TopologyFile>('GET', '/v1/topology/export', undefined, { name }),
    files: () => this.request<string[]>('GET', '/v1/topology/files'),
  };
  trace = (b: TraceInput) => this.request<TraceResponse>('POST', '/v1/trace', b);
  ping = (b: PingInput) => this.request<PingResult>('POST', '/v1/ping', b);
}

/**
 * One HTTP exchange with node:http (a CLI call starts in about half the time it takes with
 * fetch, whose implementation loads on first use). Connections are kept alive between calls of
 * one process, and do not keep it running.
 */
const agent = new Agent({ keepAlive: true });

function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
  /** Each chunk of a successful answer as it comes (a stream of progress lines). */
  onChunk?: (c: Buffer) => void,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (onChunk && (res.statusCode ?? 0) < 400) onChunk(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
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
    /** `cascade`: with what the resource holds (load balancers and VPCs). */
    delete: (ref: string, opts: { cascade?: boolean } = {}) =>
      c.request<T>('DELETE', `/v1/${path}/${enc(ref)}`, undefined, opts.cascade ? { cascade: 'true' } : undefined),
  };
}
