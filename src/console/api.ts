/**
 * The console's one way to the daemon: the REST API, same origin, with the session cookie
 * (no token in the page), the project chosen in the header bar, JSON both ways.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

let project = localStorage.getItem('nimbus.project') ?? '';

export function currentProject(): string {
  return project;
}

export function setProject(p: string): void {
  project = p;
  localStorage.setItem('nimbus.project', p);
}

/** One API call; a change to a busy load balancer (409 ImmutableObject) is tried again until it is ACTIVE, for up to two minutes. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  for (const deadline = Date.now() + 120_000; ;) {
    try {
      return await once<T>(method, path, body);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'ImmutableObject') || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function once<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (project) headers['x-nimbus-project'] = project;
  // A daemon that does not answer is said as such (fetch's own words are "Failed to fetch").
  const res = await fetch(path, { method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body) }).catch(() => {
    throw new ApiError('DaemonUnreachable', 'the daemon does not answer: is `nimbus serve` running?', 0);
  });
  const text = await res.text();
  let data: { code?: string; message?: string } | undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) throw new ApiError(data?.code ?? `HTTP${res.status}`, data?.message ?? res.statusText, res.status);
  return data as T;
}

export interface Named {
  id: string;
  name: string;
}

export interface Snapshot {
  vpcs: (Named & { cidr: string })[];
  subnets: (Named & { vpcId: string; cidr: string })[];
  servers: (Named & {
    subnetId: string;
    vpcId: string;
    privateIp: string;
    status: string;
    securityGroupIds: string[];
    app: string | null;
    loopbackIp: string;
    chassis?: string;
  })[];
  peerings: (Named & { requesterVpcId: string; accepterVpcId: string; status: string })[];
  routeTables: (Named & {
    vpcId: string;
    routes: { destination: string; target: { type: string; peeringId?: string; gatewayId?: string; natGatewayId?: string } }[];
  })[];
  securityGroups: (Named & { rules: unknown[] })[];
  loadBalancers: (Named & { subnetId: string; vpcId: string; vip: string; publicIp: string | null; provisioningStatus: string })[];
  members: (Named & { poolId: string; serverId: string | null; address: string; port: number; operatingStatus?: string })[];
  pools: (Named & { loadBalancerId: string })[];
  internetGateways: (Named & { vpcId: string | null; state: string })[];
  elasticIps: (Named & { publicIp: string; serverId: string | null; natGatewayId: string | null; loadBalancerId?: string; privateIp: string | null })[];
  natGateways: (Named & { vpcId: string; subnetId: string; privateIp: string; publicIp: string; status: string })[];
  internetHosts: (Named & { ip: string })[];
  networkAcls: (Named & { vpcId: string; isDefault: boolean; subnetIds: string[]; rules: unknown[] })[];
  flowLogs: (Named & { vpcId: string; resourceType: string; resourceId: string; trafficType: string })[];
  status: { dataplane: { kind: string; converged: boolean; changes?: { seen: number; done: number } }; notes: string[] };
}

/** Everything the views draw, read in one go. */
export async function snapshot(): Promise<Snapshot> {
  const [
    vpcs,
    subnets,
    servers,
    peerings,
    routeTables,
    securityGroups,
    loadBalancers,
    members,
    pools,
    internetGateways,
    elasticIps,
    natGateways,
    internetHosts,
    networkAcls,
    flowLogs,
    status,
  ] = await Promise.all([
    api<Snapshot['vpcs']>('GET', '/v1/vpcs'),
    api<Snapshot['subnets']>('GET', '/v1/subnets'),
    api<Snapshot['servers']>('GET', '/v1/servers'),
    api<Snapshot['peerings']>('GET', '/v1/peerings'),
    api<Snapshot['routeTables']>('GET', '/v1/route-tables'),
    api<Snapshot['securityGroups']>('GET', '/v1/security-groups'),
    api<Snapshot['loadBalancers']>('GET', '/v1/load-balancers'),
    api<Snapshot['members']>('GET', '/v1/members'),
    api<Snapshot['pools']>('GET', '/v1/pools'),
    api<Snapshot['internetGateways']>('GET', '/v1/internet-gateways'),
    api<Snapshot['elasticIps']>('GET', '/v1/elastic-ips'),
    api<Snapshot['natGateways']>('GET', '/v1/nat-gateways'),
    api<Snapshot['internetHosts']>('GET', '/v1/internet/hosts'),
    api<Snapshot['networkAcls']>('GET', '/v1/network-acls'),
    api<Snapshot['flowLogs']>('GET', '/v1/flow-logs'),
    api<Snapshot['status']>('GET', '/v1/status'),
  ]);
  return {
    vpcs,
    subnets,
    servers,
    peerings,
    routeTables,
    securityGroups,
    loadBalancers,
    members,
    pools,
    internetGateways,
    elasticIps,
    natGateways,
    internetHosts,
    networkAcls,
    flowLogs,
    status,
  };
}

/** id → name of everything in a snapshot, for tables that show names, not ids. */
export function namesOf(s: Snapshot | null): Map<string, string> {
  const m = new Map<string, string>();
  if (!s) return m;
  // Every list of the snapshot holds named resources.
  for (const list of Object.values(s).filter((v): v is Named[] => Array.isArray(v))) for (const r of list) m.set(r.id, r.name);
  return m;
}
