/**
 * A project's state as a topology file (`nimbus export`): by name, with only what differs
 * from the defaults, so that applying it gives back the same state and plans no change.
 *
 * Its `name:` is the one asked for, else the topology that owns everything exported, else
 * the project's. Public IPs are written `publicIp: true` (some public IP): the same file
 * applied to another project takes new ones, where pinned addresses would clash with these.
 */
import { untouchedDefault } from '../../core/acl.js';
import { dnsHostnames, dnsSupport } from '../../core/dns.js';
import { rangeText } from '../../core/ports.js';
import type {
  ElasticIp,
  InternetGateway,
  NatGateway,
  FlowLog,
  HealthMonitor,
  Listener,
  LoadBalancer,
  Member,
  Peering,
  Pool,
  RouteTable,
  StoredAcl,
  SecurityGroup,
  Server,
  Subnet,
  TopologyFile,
  Vpc,
} from '../../core/model/index.js';
import { LISTENER_LIMITS } from '../../core/model/index.js';
import type { Ctx } from '../context.js';
import { policiesOf } from '../load-balancer/l7-policy.js';
import { routeTargetName, storedRule, wants } from './plan.js';

type Entry<K extends keyof TopologyFile> = NonNullable<TopologyFile[K]>[number];

export function exportTopology(ctx: Ctx, name?: string): TopologyFile {
  const p = { projectId: ctx.projectId };
  const nameOf = (id: string | null | undefined) => (id ? (ctx.store.get<{ name: string }>(id)?.name ?? id) : undefined);
  const subnets = ctx.store.list<Subnet>('subnet', p);
  const vpcs: Entry<'vpcs'>[] = ctx.store.list<Vpc>('vpc', p).map((v) => ({
    name: v.name,
    cidr: v.cidr,
    ...(dnsSupport(v) ? {} : { enableDnsSupport: false }),
    ...(dnsSupport(v) && !dnsHostnames(v) ? { enableDnsHostnames: false } : {}),
    subnets: subnets.filter((s) => s.vpcId === v.id).map((s) => ({ name: s.name, cidr: s.cidr })),
  }));
  const groups = ctx.store.list<SecurityGroup>('securityGroup', p);
  const defaultGroup = groups.find((g) => g.isDefault);
  const securityGroups: Entry<'securityGroups'>[] = groups
    .filter((g) => !g.isDefault)
    .map((g) => ({ name: g.name, ...(g.description ? { description: g.description } : {}), rules: g.rules.map((r) => storedRule(ctx, r)) }));
  if (defaultGroup) securityGroups.unshift({ name: 'default', rules: defaultGroup.rules.map((r) => storedRule(ctx, r)) });
  const servers: Entry<'servers'>[] = ctx.store.list<Server>('server', p).map((s) => ({
    name: s.name,
    subnet: nameOf(s.subnetId)!,
    ip: s.privateIp,
    ...(s.securityGroupIds.length === 1 && s.securityGroupIds[0] === defaultGroup?.id ? {} : { securityGroups: s.securityGroupIds.map((g) => nameOf(g)!) }),
    ...(s.app ? { app: s.app } : {}),
    ...(s.image ? { image: s.image } : {}),
  }));
  const peerings: Entry<'peerings'>[] = ctx.store
    .list<Peering>('peering', p)
    .filter((x) => x.status === 'active' && x.accepterProjectId === ctx.projectId)
    .map((x) => ({ name: x.name, vpc: nameOf(x.requesterVpcId)!, peerVpc: nameOf(x.accepterVpcId)! }));
  const routes: Entry<'routes'>[] = [];
  const tables = ctx.store.list<RouteTable>('routeTable', p);
  for (const t of tables) {
    for (const r of t.routes) {
      if (r.target.type === 'local') continue;
      routes.push({ ...(t.main ? { vpc: nameOf(t.vpcId)! } : { routeTable: t.name }), destination: r.destination, target: routeTargetName(ctx, r.target) });
    }
  }
  const routeTables: Entry<'routeTables'>[] = tables
    .filter((t) => !t.main)
    .map((t) => {
      const using = subnets.filter((s) => s.routeTableId === t.id).map((s) => s.name);
      return { name: t.name, vpc: nameOf(t.vpcId)!, ...(using.length ? { subnets: using } : {}) };
    });
  const networkAcls: Entry<'networkAcls'>[] = ctx.store
    .list<StoredAcl>('networkAcl', p)
    // A default ACL is written only when its rules are no longer those it was made with.
    .filter((a) => !untouchedDefault(a))
    .map((a) => {
      const using = subnets.filter((s) => s.networkAclId === a.id).map((s) => s.name);
      const rules = a.rules.map((r) => ({
        number: r.number,
        direction: r.direction,
        action: r.action,
        protocol: r.protocol,
        ...(r.portRange ? { ports: rangeText(r.portRange) } : {}),
        ...(r.icmp ? { icmp: `${r.icmp.type}${r.icmp.code === undefined ? '' : `/${r.icmp.code}`}` } : {}),
        cidr: r.cidr,
      }));
      if (a.isDefault) return { name: a.name, vpc: nameOf(a.vpcId)!, default: true, ...(rules.length ? { rules } : {}) };
      return { name: a.name, vpc: nameOf(a.vpcId)!, ...(using.length ? { subnets: using } : {}), ...(rules.length ? { rules } : {}) };
    });
  const internetGateways: Entry<'internetGateways'>[] = ctx.store
    .list<InternetGateway>('internetGateway', p)
    .map((g) => ({ name: g.name, ...(g.vpcId ? { vpc: nameOf(g.vpcId)! } : {}) }));
  // Addresses are not pinned (as a load balancer's public IP): the file applied elsewhere takes free ones.
  const elasticIps: Entry<'elasticIps'>[] = ctx.store
    .list<ElasticIp>('elasticIp', p)
    .map((e) => ({ name: e.name, ...(e.serverId ? { server: nameOf(e.serverId)! } : {}) }));
  const flowLogs: Entry<'flowLogs'>[] = ctx.store.list<FlowLog>('flowLog', p).map((f) => ({
    name: f.name,
    [f.resourceType]: nameOf(f.resourceId)!,
    ...(f.trafficType !== 'ALL' ? { trafficType: f.trafficType } : {}),
    ...(f.maxAggregationInterval !== 600 ? { maxAggregationInterval: f.maxAggregationInterval } : {}),
  }));
  const natGateways: Entry<'natGateways'>[] = ctx.store.list<NatGateway>('natGateway', p).map((n) => ({
    name: n.name,
    subnet: nameOf(n.subnetId)!,
    elasticIp: nameOf(n.allocationId)!,
    ip: n.privateIp,
  }));
  const loadBalancers: Entry<'loadBalancers'>[] = ctx.store.list<LoadBalancer>('loadBalancer', p).map((lb) => ({
    name: lb.name,
    subnet: nameOf(lb.subnetId)!,
    vip: lb.vip,
    ...(lb.publicIp ? { publicIp: true } : {}),
    ...(lb.workers && lb.workers > 1 ? { workers: lb.workers } : {}),
    pools: ctx.store.list<Pool>('pool', { parentId: lb.id }).map((pool) => {
      const hm = ctx.store.list<HealthMonitor>('healthMonitor', { parentId: pool.id })[0];
      return {
        name: pool.name,
        protocol: pool.protocol,
        algorithm: pool.algorithm,
        ...(pool.sessionPersistence ? { persistence: pool.sessionPersistence.type } : {}),
        ...(pool.sessionPersistence?.cookieName ? { cookieName: pool.sessionPersistence.cookieName } : {}),
        ...(pool.timeoutMemberConnect != null ? { timeoutMemberConnect: pool.timeoutMemberConnect } : {}),
        ...(pool.timeoutMemberData != null ? { timeoutMemberData: pool.timeoutMemberData } : {}),
        members: ctx.store.list<Member>('member', { parentId: pool.id }).map((m) => ({
          name: m.name,
          ...(m.serverId ? { server: nameOf(m.serverId)! } : { address: m.address }),
          port: m.port,
          ...(m.weight !== 1 ? { weight: m.weight } : {}),
        })),
        ...(hm
          ? {
              healthMonitor: {
                type: hm.type,
                delay: hm.delay,
                timeout: hm.timeout,
                maxRetries: hm.maxRetries,
                maxRetriesDown: hm.maxRetriesDown,
                ...(hm.type === 'HTTP' ? { urlPath: hm.urlPath, expectedCodes: hm.expectedCodes } : {}),
              },
            }
          : {}),
      };
    }),
    listeners: ctx.store.list<Listener>('listener', { parentId: lb.id }).map((l) => {
      const limits: Record<string, number> = {};
      for (const k of Object.keys(LISTENER_LIMITS) as (keyof typeof LISTENER_LIMITS)[]) {
        const v = l[k];
        if (v !== undefined && v !== LISTENER_LIMITS[k].default) limits[k] = v;
      }
      const policies = policiesOf(ctx.store, l.id).map((p) => ({
        name: p.name,
        action: p.action,
        ...(p.redirectPoolId ? { redirectPool: nameOf(p.redirectPoolId)! } : {}),
        ...(p.redirectUrl ? { redirectUrl: p.redirectUrl } : {}),
        ...(p.redirectPrefix ? { redirectPrefix: p.redirectPrefix } : {}),
        ...(p.redirectHttpCode ? { redirectHttpCode: p.redirectHttpCode } : {}),
        ...(p.fixedResponse ? { fixedResponse: p.fixedResponse } : {}),
        rules: p.rules.map((r) => ({
          type: r.type,
          compareType: r.compareType,
          ...(r.key ? { key: r.key } : {}),
          value: r.value,
          ...(r.invert ? { invert: true } : {}),
        })),
      }));
      return {
        name: l.name,
        protocol: l.protocol,
        port: l.port,
        ...(l.defaultPoolId ? { defaultPool: nameOf(l.defaultPoolId)! } : {}),
        ...(l.certificateId ? { certificate: nameOf(l.certificateId)! } : {}),
        ...(l.sniCertificateIds?.length ? { sniCertificates: l.sniCertificateIds.map((id) => nameOf(id)!) } : {}),
        ...limits,
        ...(policies.length ? { policies } : {}),
      };
    }),
  }));
  const out: TopologyFile = {
    ...(vpcs.length ? { vpcs } : {}),
    ...(securityGroups.length ? { securityGroups } : {}),
    ...(servers.length ? { servers } : {}),
    ...(routeTables.length ? { routeTables } : {}),
    ...(networkAcls.length ? { networkAcls } : {}),
    ...(internetGateways.length ? { internetGateways } : {}),
    ...(elasticIps.length ? { elasticIps } : {}),
    ...(natGateways.length ? { natGateways } : {}),
    ...(flowLogs.length ? { flowLogs } : {}),
    ...(peerings.length ? { peerings } : {}),
    ...(routes.length ? { routes } : {}),
    ...(loadBalancers.length ? { loadBalancers } : {}),
  };
  const fileName = name ?? ownerOf(ctx, out) ?? ctx.store.get<{ name: string }>(ctx.projectId)?.name;
  return fileName ? { name: fileName, ...out } : out;
}

/** The topology that owns everything in the file, if one does. */
function ownerOf(ctx: Ctx, file: TopologyFile): string | undefined {
  const keys = wants(file)
    .filter((w) => w.kind !== 'rules')
    .map((w) => w.key);
  if (keys.length === 0) return undefined;
  return ctx.store.list<{ name: string; owned: string[] }>('topology', { projectId: ctx.projectId }).find((f) => {
    const owned = new Set(f.owned);
    return keys.every((k) => owned.has(k));
  })?.name;
}
