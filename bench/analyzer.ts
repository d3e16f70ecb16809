/**
 * The analyzer at size: a synthetic snapshot (VPCs in 10/8, ten subnets each, peerings to
 * the next five VPCs, main tables of 100 routes: peerings and blackholes, two servers per
 * subnet, one default group), one trace at a time (median, p99), and the reachability
 * matrix of 1,000 servers.
 */
import { compile, type Snapshot } from '../src/net/topology.js';
import { reachable, trace } from '../src/net/trace.js';
import type { Peering, SecurityGroup, Server, Subnet, Vpc } from '../src/core/model/index.js';
import { median, percentile } from './lib/proc.js';

export interface AnalyzerResult {
  vpcs: number;
  subnets: number;
  routes: number;
  servers: number;
  compileMs: number;
  traceMedianUs: number;
  traceP99Us: number;
  matrixServers: number;
  matrixMs: number;
  reachablePairs: number;
}

function synthetic(nVpc: number): Snapshot {
  const cidrOf = (v: number) => `10.${v >> 2}.${(v & 3) * 64}.0/18`;
  const sg: SecurityGroup = {
    id: 'sg-default',
    name: 'default',
    projectId: 'p',
    description: '',
    isDefault: true,
    createdAt: '',
    rules: [
      { id: 'r1', direction: 'ingress', protocol: 'all', portRange: null, remote: { groupId: 'sg-default' } },
      { id: 'r2', direction: 'egress', protocol: 'all', portRange: null, remote: { cidr: '0.0.0.0/0' } },
    ],
  };
  const vpcs: Vpc[] = [];
  const subnets: Subnet[] = [];
  const servers: Server[] = [];
  const peerings: Peering[] = [];
  const routeTables: Snapshot['routeTables'] = [];
  for (let v = 0; v < nVpc; v++) {
    vpcs.push({ id: `vpc-${v}`, name: `v${v}`, projectId: 'p', cidr: cidrOf(v), status: 'available', mainRouteTableId: `rtb-${v}`, createdAt: '' });
    for (let s = 0; s < 10; s++) {
      const base = `10.${v >> 2}.${(v & 3) * 64 + s}`;
      subnets.push({
        id: `subnet-${v}-${s}`,
        name: `s${v}-${s}`,
        projectId: 'p',
        vpcId: `vpc-${v}`,
        cidr: `${base}.0/24`,
        gatewayIp: `${base}.1`,
        routeTableId: `rtb-${v}`,
        explicitRouteTable: false,
        availableIpCount: 200,
        status: 'available',
        createdAt: '',
      });
      for (let k = 0; k < 2; k++) {
        servers.push({
          id: `ecs-${v}-${s}-${k}`,
          name: `e${v}-${s}-${k}`,
          projectId: 'p',
          vpcId: `vpc-${v}`,
          subnetId: `subnet-${v}-${s}`,
          privateIp: `${base}.${10 + k}`,
          securityGroupIds: ['sg-default'],
          app: null,
          loopbackIp: '',
          status: 'running',
          createdAt: '',
        });
      }
    }
    for (let d = 1; d <= 5; d++) {
      const w = (v + d) % nVpc;
      peerings.push({
        id: `pcx-${v}-${w}`,
        name: `p${v}-${w}`,
        projectId: 'p',
        requesterVpcId: `vpc-${v}`,
        accepterVpcId: `vpc-${w}`,
        accepterProjectId: 'p',
        status: 'active',
        createdAt: '',
      });
    }
  }
  for (let v = 0; v < nVpc; v++) {
    const routes: Snapshot['routeTables'][number]['routes'] = [{ destination: cidrOf(v), target: { type: 'local' } }];
    for (let d = 1; d <= 5; d++) {
      routes.push({ destination: cidrOf((v + d) % nVpc), target: { type: 'peering', peeringId: `pcx-${v}-${(v + d) % nVpc}` } });
      routes.push({ destination: cidrOf((v - d + nVpc) % nVpc), target: { type: 'peering', peeringId: `pcx-${(v - d + nVpc) % nVpc}-${v}` } });
    }
    for (let d = 6; routes.length < 100; d++) routes.push({ destination: cidrOf((v + d * 7) % nVpc), target: { type: 'blackhole' } });
    routeTables.push({
      id: `rtb-${v}`,
      name: `v${v}-main`,
      vpcId: `vpc-${v}`,
      main: true,
      routes: routes.filter((r, i, a) => a.findIndex((x) => x.destination === r.destination) === i),
    });
  }
  return { vpcs, subnets, servers, securityGroups: [sg], routeTables, peerings };
}

export function benchAnalyzer(opts: { vpcs: number; traces: number; matrix: number; log: (s: string) => void }): AnalyzerResult {
  const snap = synthetic(opts.vpcs);
  let t = performance.now();
  const topo = compile(snap);
  const compileMs = performance.now() - t;
  const servers = snap.servers;
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) % servers.length;
  const times: number[] = [];
  for (let i = 0; i < opts.traces; i++) {
    const a = servers[rnd()];
    const b = servers[rnd()];
    t = performance.now();
    trace(topo, { sourceServerId: a.id, destination: b.privateIp, protocol: 'tcp', port: 443 });
    times.push((performance.now() - t) * 1000);
  }
  const sample = servers.filter((_, i) => i % Math.floor(servers.length / opts.matrix) === 0).slice(0, opts.matrix);
  t = performance.now();
  let reachablePairs = 0;
  for (const a of sample)
    for (const b of sample) if (a !== b && reachable(topo, { sourceServerId: a.id, destination: b.privateIp, protocol: 'icmp' })) reachablePairs++;
  const matrixMs = performance.now() - t;
  const result: AnalyzerResult = {
    vpcs: snap.vpcs.length,
    subnets: snap.subnets.length,
    routes: snap.routeTables.reduce((a, r) => a + r.routes.length, 0),
    servers: servers.length,
    compileMs,
    traceMedianUs: median(times),
    traceP99Us: percentile(times, 99),
    matrixServers: sample.length,
    matrixMs,
    reachablePairs,
  };
  opts.log(
    `  ${result.vpcs} VPCs, ${result.subnets} subnets, ${result.routes} routes, ${result.servers} servers: compile ${compileMs.toFixed(0)} ms; trace median ${result.traceMedianUs.toFixed(1)} µs, p99 ${result.traceP99Us.toFixed(1)} µs; matrix of ${sample.length} servers ${matrixMs.toFixed(0)} ms (${reachablePairs} reachable pairs)`,
  );
  return result;
}
