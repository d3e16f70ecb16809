/**
 * A topology file as a list of resources (`wants`): each with its identity, its path in the
 * file, what it needs of the file's other resources, and the input its create takes. Pure:
 * plan.ts matches them against the store, bounds.ts holds them to the project's quotas.
 */
import type { TopologyFile } from '../../core/model/index.js';
import { normalizeCidr } from '../../core/cidr.js';
import type { PathPart } from './parse.js';

/** The kinds a file holds, in the order they are made (and the reverse, removed). */
export const ORDER = [
  'vpc',
  'subnet',
  'routeTable',
  'networkAcl',
  'internetGateway',
  'securityGroup',
  'rules',
  'server',
  'flowLog',
  'elasticIp',
  'natGateway',
  'peering',
  'route',
  'loadBalancer',
  'pool',
  'healthMonitor',
  'member',
  'listener',
  'l7Policy',
] as const;
export type TopoKind = (typeof ORDER)[number];

/** One resource the file asks for. */
export interface Want {
  kind: TopoKind;
  /** Its identity: `server:web-1`, `route:vpc=vpc-a:10.0.0.0/16`, `member:web:ecs-a:8080`. */
  key: string;
  name: string;
  path: PathPart[];
  /** Keys of the resources of the file it stands on. */
  needs: string[];
  /** What its create takes (the API's input). */
  input: Record<string, unknown>;
}

/** The whole file as a list of resources, each with its path and what it needs. */
export function wants(file: TopologyFile): Want[] {
  const out: Want[] = [];
  const groupsInFile = new Set((file.securityGroups ?? []).map((g) => g.name));
  const peeringsInFile = new Set((file.peerings ?? []).map((p) => p.name));
  const gatewaysInFile = new Set((file.internetGateways ?? []).map((g) => g.name));
  const natsInFile = new Set((file.natGateways ?? []).map((n) => n.name));
  const eipsInFile = new Set((file.elasticIps ?? []).map((e) => e.name));
  const subnetsInFile = new Set((file.vpcs ?? []).flatMap((v) => (v.subnets ?? []).map((s) => s.name)));
  const vpcsInFile = new Set((file.vpcs ?? []).map((v) => v.name));
  const serversInFile = new Set((file.servers ?? []).map((s) => s.name));
  (file.vpcs ?? []).forEach((v, i) => {
    const dns = {
      ...(v.enableDnsSupport !== undefined ? { enableDnsSupport: v.enableDnsSupport } : {}),
      ...(v.enableDnsHostnames !== undefined ? { enableDnsHostnames: v.enableDnsHostnames } : {}),
    };
    out.push({ kind: 'vpc', key: `vpc:${v.name}`, name: v.name, path: ['vpcs', i], needs: [], input: { name: v.name, cidr: v.cidr, ...dns } });
    (v.subnets ?? []).forEach((s, j) =>
      out.push({
        kind: 'subnet',
        key: `subnet:${s.name}`,
        name: s.name,
        path: ['vpcs', i, 'subnets', j],
        needs: [`vpc:${v.name}`],
        input: { ...s, vpc: v.name },
      }),
    );
  });
  (file.routeTables ?? []).forEach((t, i) =>
    out.push({
      kind: 'routeTable',
      key: `routeTable:${t.name}`,
      name: t.name,
      path: ['routeTables', i],
      needs: [...(vpcsInFile.has(t.vpc) ? [`vpc:${t.vpc}`] : []), ...(t.subnets ?? []).filter((n) => subnetsInFile.has(n)).map((n) => `subnet:${n}`)],
      input: { ...t },
    }),
  );
  (file.networkAcls ?? []).forEach((a, i) =>
    out.push({
      kind: 'networkAcl',
      // The VPC's default ACL is named by its VPC: it comes with it, whatever it is called.
      key: a.default ? `networkAcl:default@${a.vpc}` : `networkAcl:${a.name}`,
      name: a.name,
      path: ['networkAcls', i],
      needs: [...(vpcsInFile.has(a.vpc) ? [`vpc:${a.vpc}`] : []), ...(a.subnets ?? []).filter((n) => subnetsInFile.has(n)).map((n) => `subnet:${n}`)],
      input: { ...a },
    }),
  );
  (file.internetGateways ?? []).forEach((g, i) =>
    out.push({
      kind: 'internetGateway',
      key: `internetGateway:${g.name}`,
      name: g.name,
      path: ['internetGateways', i],
      needs: g.vpc && vpcsInFile.has(g.vpc) ? [`vpc:${g.vpc}`] : [],
      input: { ...g },
    }),
  );
  (file.securityGroups ?? []).forEach((g, i) => {
    if (g.name !== 'default') {
      out.push({
        kind: 'securityGroup',
        key: `securityGroup:${g.name}`,
        name: g.name,
        path: ['securityGroups', i],
        needs: [],
        input: { name: g.name, description: g.description },
      });
    }
    const remotes = (g.rules ?? []).map((r) => r.remote).filter((r) => groupsInFile.has(r) && r !== 'default');
    const needs = [...new Set([...(g.name === 'default' ? [] : [`securityGroup:${g.name}`]), ...remotes.map((r) => `securityGroup:${r}`)])];
    out.push({ kind: 'rules', key: `rules:${g.name}`, name: g.name, path: ['securityGroups', i, 'rules'], needs, input: { rules: g.rules ?? [] } });
  });
  (file.servers ?? []).forEach((s, i) => {
    const groups = (s.securityGroups ?? []).filter((g) => groupsInFile.has(g) && g !== 'default').map((g) => `securityGroup:${g}`);
    out.push({ kind: 'server', key: `server:${s.name}`, name: s.name, path: ['servers', i], needs: [`subnet:${s.subnet}`, ...groups], input: { ...s } });
  });
  (file.elasticIps ?? []).forEach((e, i) =>
    out.push({
      kind: 'elasticIp',
      key: `elasticIp:${e.name}`,
      name: e.name,
      path: ['elasticIps', i],
      needs: e.server && serversInFile.has(e.server) ? [`server:${e.server}`] : [],
      input: { ...e },
    }),
  );
  (file.flowLogs ?? []).forEach((f, i) =>
    out.push({
      kind: 'flowLog',
      key: `flowLog:${f.name}`,
      name: f.name,
      path: ['flowLogs', i],
      needs: [
        ...(f.vpc && vpcsInFile.has(f.vpc) ? [`vpc:${f.vpc}`] : []),
        ...(f.subnet && subnetsInFile.has(f.subnet) ? [`subnet:${f.subnet}`] : []),
        ...(f.server && serversInFile.has(f.server) ? [`server:${f.server}`] : []),
      ],
      input: { ...f },
    }),
  );
  (file.natGateways ?? []).forEach((n, i) =>
    out.push({
      kind: 'natGateway',
      key: `natGateway:${n.name}`,
      name: n.name,
      path: ['natGateways', i],
      needs: [...(subnetsInFile.has(n.subnet) ? [`subnet:${n.subnet}`] : []), ...(eipsInFile.has(n.elasticIp) ? [`elasticIp:${n.elasticIp}`] : [])],
      input: { ...n },
    }),
  );
  (file.peerings ?? []).forEach((p, i) =>
    out.push({ kind: 'peering', key: `peering:${p.name}`, name: p.name, path: ['peerings', i], needs: [`vpc:${p.vpc}`, `vpc:${p.peerVpc}`], input: { ...p } }),
  );
  (file.routes ?? []).forEach((r, i) => {
    const table = r.routeTable ? `rt=${r.routeTable}` : `vpc=${r.vpc ?? ''}`;
    const dest = canonical(r.destination);
    const needs = [
      ...(r.vpc ? [`vpc:${r.vpc}`] : []),
      ...(r.routeTable && (file.routeTables ?? []).some((t) => t.name === r.routeTable) ? [`routeTable:${r.routeTable}`] : []),
      ...(peeringsInFile.has(r.target) ? [`peering:${r.target}`] : []),
      ...(gatewaysInFile.has(r.target) ? [`internetGateway:${r.target}`] : []),
      ...(natsInFile.has(r.target) ? [`natGateway:${r.target}`] : []),
    ];
    out.push({ kind: 'route', key: `route:${table}:${dest}`, name: `${r.routeTable ?? `${r.vpc}-main`} ${dest}`, path: ['routes', i], needs, input: { ...r } });
  });
  (file.loadBalancers ?? []).forEach((lb, i) => {
    const { listeners, pools, ...lbInput } = lb;
    out.push({
      kind: 'loadBalancer',
      key: `loadBalancer:${lb.name}`,
      name: lb.name,
      path: ['loadBalancers', i],
      needs: [`subnet:${lb.subnet}`],
      input: lbInput,
    });
    (pools ?? []).forEach((p, j) => {
      const { members, healthMonitor, ...poolInput } = p;
      const path: PathPart[] = ['loadBalancers', i, 'pools', j];
      out.push({ kind: 'pool', key: `pool:${p.name}`, name: p.name, path, needs: [`loadBalancer:${lb.name}`], input: { ...poolInput, loadBalancer: lb.name } });
      if (healthMonitor) {
        out.push({
          kind: 'healthMonitor',
          key: `healthMonitor:${p.name}`,
          name: p.name,
          path: [...path, 'healthMonitor'],
          needs: [`pool:${p.name}`],
          input: { ...healthMonitor, pool: p.name },
        });
      }
      (members ?? []).forEach((m, k) => {
        const who = m.server ?? m.address ?? '';
        out.push({
          kind: 'member',
          key: `member:${p.name}:${who}:${m.port}`,
          name: m.name ?? `${who}:${m.port}`,
          path: [...path, 'members', k],
          needs: [`pool:${p.name}`, ...(m.server ? [`server:${m.server}`] : [])],
          input: { ...m, pool: p.name },
        });
      });
    });
    (listeners ?? []).forEach((l, j) => {
      const { policies, ...listenerInput } = l;
      const path: PathPart[] = ['loadBalancers', i, 'listeners', j];
      out.push({
        kind: 'listener',
        key: `listener:${l.name}`,
        name: l.name,
        path,
        needs: [`loadBalancer:${lb.name}`, ...(l.defaultPool ? [`pool:${l.defaultPool}`] : [])],
        input: { ...listenerInput, loadBalancer: lb.name },
      });
      (policies ?? []).forEach((p, k) =>
        out.push({
          kind: 'l7Policy',
          key: `l7Policy:${p.name}`,
          name: p.name,
          path: [...path, 'policies', k],
          // Each after the one before it, so that positions are made in the file's order.
          needs: [`listener:${l.name}`, ...(p.redirectPool ? [`pool:${p.redirectPool}`] : []), ...(k > 0 ? [`l7Policy:${policies![k - 1].name}`] : [])],
          input: { ...p, listener: l.name, position: k + 1 },
        }),
      );
    });
  });
  return out;
}

export function canonical(cidr: string): string {
  try {
    return normalizeCidr(cidr, 'destination');
  } catch {
    return cidr;
  }
}
