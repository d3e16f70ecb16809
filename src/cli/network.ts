/**
 * `nimbus vpc|subnet|server|sg|route-table|route|peering ...`: thin commands over
 * the client, a name or an id wherever a resource is named.
 */
import { rangeText } from '../core/ports.js';
import { icmpText } from '../core/icmp.js';
import type { RuleInput } from '../core/model/index.js';
import { Command, InvalidArgumentError } from 'commander';
import { dnsHostnames, dnsSupport, EC2_SUFFIX, RESOLVER_IP, subnetResolver, vpcDomain } from '../core/dns.js';
import type { Peering, RouteTable, SecurityGroup, SecurityGroupRule, Server, Subnet, Vpc } from '../core/model/index.js';
import { ApiError, type NimbusClient } from '../client/client.js';
import type { Column } from './output.js';
import { act, collect, confirm, lower, structured } from './shared.js';
import { table } from './output.js';
import { Names } from './names.js';

const VPC: Column<Vpc>[] = [
  { header: 'NAME', value: (v) => v.name },
  { header: 'ID', value: (v) => v.id },
  { header: 'CIDR', value: (v) => v.cidr },
  { header: 'STATUS', value: (v) => v.status },
  { header: 'DNS', value: (v) => (!dnsSupport(v) ? 'off' : dnsHostnames(v) ? 'names' : 'ip names only') },
];
const SUBNET: Column<Subnet>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'ID', value: (s) => s.id },
  { header: 'VPC', value: (s, n) => n.of('vpc', s.vpcId), refs: ['vpc'] },
  { header: 'CIDR', value: (s) => s.cidr },
  { header: 'GATEWAY', value: (s) => s.gatewayIp },
  { header: 'FREE IPS', value: (s) => s.availableIpCount },
  { header: 'ROUTE TABLE', value: (s, n) => n.of('routeTable', s.routeTableId), refs: ['routeTable'] },
];
const SERVER: Column<Server>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'ID', value: (s) => s.id },
  { header: 'PRIVATE IP', value: (s) => s.privateIp },
  { header: 'SUBNET', value: (s, n) => n.of('subnet', s.subnetId), refs: ['subnet'] },
  { header: 'GROUPS', value: (s, n) => s.securityGroupIds.map((g) => n.of('securityGroup', g)).join(','), refs: ['securityGroup'] },
  { header: 'APP', value: (s) => s.app },
  { header: 'STATUS', value: (s) => s.status },
  { header: 'CHASSIS', value: (s) => s.chassis, optional: true },
];
const GROUP: Column<SecurityGroup>[] = [
  { header: 'NAME', value: (g) => g.name },
  { header: 'ID', value: (g) => g.id },
  { header: 'RULES', value: (g) => g.rules.length },
  { header: 'DESCRIPTION', value: (g) => g.description },
];
const RULE: Column<SecurityGroupRule>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'DIRECTION', value: (r) => r.direction },
  { header: 'PROTOCOL', value: (r) => r.protocol },
  {
    header: 'PORTS',
    value: (r) => (r.portRange ? rangeText(r.portRange) : r.protocol === 'icmp' ? icmpText(r.icmp) : 'all'),
  },
  { header: 'REMOTE', value: (r, n) => ('cidr' in r.remote ? r.remote.cidr : `group ${n.of('securityGroup', r.remote.groupId)}`), refs: ['securityGroup'] },
  { header: 'DESCRIPTION', value: (r) => r.description ?? '' },
];
const TABLE: Column<RouteTable>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'ID', value: (t) => t.id },
  { header: 'VPC', value: (t, n) => n.of('vpc', t.vpcId), refs: ['vpc'] },
  { header: 'MAIN', value: (t) => (t.main ? 'yes' : 'no') },
  { header: 'ROUTES', value: (t) => t.routes.length },
  { header: 'SUBNETS', value: (t, n) => t.subnetIds.map((s) => n.of('subnet', s)).join(',') || '-', refs: ['subnet'] },
];
type RouteRow = RouteTable['routes'][number];
const ROUTE: Column<RouteRow>[] = [
  { header: 'DESTINATION', value: (r) => r.destination },
  {
    header: 'TARGET',
    value: (r, n) =>
      r.target.type === 'peering'
        ? n.of('peering', r.target.peeringId)
        : r.target.type === 'internetGateway'
          ? n.of('internetGateway', r.target.gatewayId)
          : r.target.type === 'natGateway'
            ? n.of('natGateway', r.target.natGatewayId)
            : r.target.type,
    refs: ['peering', 'internetGateway', 'natGateway'],
  },
  { header: 'STATE', value: (r) => r.state },
];
const PEERING: Column<Peering>[] = [
  { header: 'NAME', value: (p) => p.name },
  { header: 'ID', value: (p) => p.id },
  { header: 'REQUESTER VPC', value: (p, n) => n.of('vpc', p.requesterVpcId), refs: ['vpc'] },
  { header: 'ACCEPTER VPC', value: (p, n) => n.of('vpc', p.accepterVpcId), refs: ['vpc'] },
  { header: 'STATUS', value: (p) => p.status },
  {
    header: 'DNS',
    value: (p) => (p.status !== 'active' ? '-' : p.requesterDns && p.accepterDns ? 'both ways' : p.requesterDns || p.accepterDns ? 'one side allows' : 'off'),
  },
];

export interface Crud<T> {
  list(query?: Record<string, string | undefined>): Promise<T[]>;
  get(ref: string): Promise<T>;
  update?(ref: string, body: { name?: string }): Promise<T>;
  delete(ref: string): Promise<T>;
}

/** A CIDR given with host bits set is stored as its network (as AWS does): said on stderr, so the user knows. */
function canonicalNote<T extends { cidr: string }>(given: string, made: T): T {
  if (given.trim() !== made.cidr) process.stderr.write(`note: ${given} has host bits set; stored as ${made.cidr}\n`);
  return made;
}

/** list, show, delete (and rename when the kind has it) for one kind. */
export function standardVerbs<T>(
  group: Command,
  what: string,
  columns: Column<T>[],
  api: (c: NimbusClient) => Crud<T>,
  opts: { filters?: string[]; rename?: boolean } = {},
): void {
  const list = group.command('list').alias('ls').description(`list ${what}s`);
  for (const f of opts.filters ?? []) list.option(`--${f} <ref>`, `only those of this ${f} (name or id)`);
  list.action(
    act(columns, (c, o: Record<string, string>) => {
      const query = Object.fromEntries((opts.filters ?? []).filter((f) => o[f] !== undefined).map((f) => [f, o[f]]));
      return api(c).list(Object.keys(query).length ? query : undefined);
    }),
  );
  group
    .command('show')
    .description(`show one ${what}`)
    .argument('<ref>', 'name or id')
    .action(act(columns, (c, ref: string) => api(c).get(ref)));
  if (opts.rename ?? true) {
    group
      .command('update')
      .description(`rename a ${what}`)
      .argument('<ref>', 'name or id')
      .requiredOption('--name <name>', 'new name')
      .action(act(columns, (c, ref: string, o: { name: string }) => api(c).update!(ref, { name: o.name })));
  }
  group
    .command('delete')
    .alias('rm')
    .description(`delete a ${what}`)
    .argument('<ref>', 'name or id')
    .action(act(columns, (c, ref: string) => api(c).delete(ref)));
}

export function networkCommands(program: Command): void {
  const vpc = program.command('vpc').description('virtual private clouds');
  vpc
    .command('create')
    .description('create a VPC with its main route table')
    .requiredOption('--name <name>', 'VPC name')
    .requiredOption('--cidr <cidr>', 'private IPv4 range, /8 to /28, e.g. 192.168.6.0/24')
    .action(act(VPC, async (c, o: { name: string; cidr: string }) => canonicalNote(o.cidr, await c.vpcs.create({ name: o.name, cidr: o.cidr }))));
  standardVerbs(vpc, 'VPC', VPC, (c) => c.vpcs, { rename: false });
  const onOff = (v: string) => {
    if (v !== 'on' && v !== 'off') throw new InvalidArgumentError(`'${v}': say on or off`);
    return v === 'on';
  };
  vpc
    .command('update')
    .description("rename a VPC, or turn its DNS resolver or its servers' names on or off")
    .argument('<ref>', 'name or id')
    .option('--name <name>', 'new name')
    .option('--dns <on|off>', "the VPC's resolver (169.254.169.253 and each subnet's .253)", onOff)
    .option('--dns-hostnames <on|off>', 'names NAME.VPC.PROJECT.nimbus.internal for its servers and load balancers', onOff)
    .action(
      act(VPC, (c, ref: string, o: { name?: string; dns?: boolean; dnsHostnames?: boolean }) =>
        c.vpcs.update(ref, {
          ...(o.name ? { name: o.name } : {}),
          ...(o.dns !== undefined ? { enableDnsSupport: o.dns } : {}),
          ...(o.dnsHostnames !== undefined ? { enableDnsHostnames: o.dnsHostnames } : {}),
        }),
      ),
    );
  // `vpc show` also says where its resolver answers and what its servers are called.
  vpc.commands
    .find((x) => x.name() === 'show')!
    .action(
      act(null, async (c, ref: string, _o: unknown, cmd: Command) => {
        const v = await c.vpcs.get(ref);
        if (await structured(cmd, v)) return;
        const subnets = (await c.subnets.list({ vpc: v.id })).filter((s) => s.vpcId === v.id);
        const project = (await c.projects.list().catch(() => [])).find((p) => p.id === v.projectId);
        const lines = [
          `VPC          ${v.name} (${v.id})`,
          `CIDR         ${v.cidr}`,
          `status       ${v.status}`,
          `DNS          ${dnsSupport(v) ? `resolver at ${RESOLVER_IP}${subnets.map((s) => `, ${subnetResolver(s.cidr)} (${s.name})`).join('')}` : 'off: no resolver answers in this VPC'}`,
        ];
        if (dnsSupport(v))
          lines.push(
            `names        ${dnsHostnames(v) ? `SERVER.${vpcDomain(v.name, project?.name ?? 'default')} (short SERVER too), ` : ''}ip-A-B-C-D.${EC2_SUFFIX}`,
          );
        process.stdout.write(lines.join('\n') + '\n');
      }),
    );
  vpc.commands
    .find((x) => x.name() === 'delete')!
    .option('--cascade', 'also delete everything in it: load balancers, servers, subnets, route tables, peerings (asks first)')
    .option('-y, --yes', 'with --cascade: do not ask')
    .action(
      act(VPC, async (c, ref: string, o: { cascade?: boolean; yes?: boolean }) => {
        if (o.cascade) {
          const goes = await c.vpcs.dependants(ref);
          if (goes.length > 0 && !o.yes)
            await confirm(
              `VPC '${ref}' holds ${goes.length} resources that go with it:\n${goes.map((d) => `  ${d.kind} ${d.name} (${d.id})`).join('\n')}\ndelete them all?`,
            );
        }
        return c.vpcs.delete(ref, { cascade: o.cascade });
      }),
    );

  const subnet = program.command('subnet').description('subnets of a VPC');
  subnet
    .command('create')
    .description('create a subnet')
    .requiredOption('--name <name>', 'subnet name')
    .requiredOption('--vpc <ref>', 'VPC (name or id)')
    .requiredOption('--cidr <cidr>', 'inside the VPC, /28 or larger')
    .option('--route-table <ref>', "route table; the VPC's main table when absent")
    .action(
      act(SUBNET, async (c, o: { name: string; vpc: string; cidr: string; routeTable?: string }) =>
        canonicalNote(o.cidr, await c.subnets.create({ name: o.name, vpc: o.vpc, cidr: o.cidr, routeTable: o.routeTable })),
      ),
    );
  standardVerbs(subnet, 'subnet', SUBNET, (c) => c.subnets, { filters: ['vpc'] });

  const server = program.command('server').description('servers (ECS)');
  server
    .command('create')
    .description('create a server')
    .requiredOption('--name <name>', 'server name')
    .requiredOption('--subnet <ref>', 'subnet (name or id)')
    .option('--ip <ip>', 'private IP; the lowest free one when absent')
    .option('--security-group <ref>', "security group (repeatable); the project's default group when absent", collect)
    .option('--app <app>', 'workload: web[:PORT] or a command')
    .option('--image <image>', 'the image it runs, e.g. debian-12 (recorded: every server runs the host system)')
    .option('--chassis <name>', 'the chassis it runs on (ovn data plane); the least loaded one when absent')
    .action(
      act(SERVER, (c, o: { name: string; subnet: string; ip?: string; securityGroup?: string[]; app?: string; image?: string; chassis?: string }) =>
        c.servers.create({ name: o.name, subnet: o.subnet, ip: o.ip, securityGroups: o.securityGroup, app: o.app, image: o.image, chassis: o.chassis }),
      ),
    );
  standardVerbs(server, 'server', SERVER, (c) => c.servers, { filters: ['vpc', 'subnet'], rename: false });
  server
    .command('update')
    .description('rename a server, replace its security groups, or move a stopped server to another chassis (ovn)')
    .argument('<ref>', 'name or id')
    .option('--name <name>', 'new name')
    .option('--security-group <ref>', 'security group (repeatable); replaces the current list', collect)
    .option('--chassis <name>', 'the chassis it moves to (stopped servers, ovn data plane); it keeps its IP')
    .action(
      act(SERVER, (c, ref: string, o: { name?: string; securityGroup?: string[]; chassis?: string }) =>
        c.servers.update(ref, { name: o.name, securityGroups: o.securityGroup, chassis: o.chassis }),
      ),
    );
  server
    .command('stop')
    .description('stop a server')
    .argument('<ref>', 'name or id')
    .action(act(SERVER, (c, ref: string) => c.servers.stop(ref)));
  server
    .command('start')
    .description('start a stopped server')
    .argument('<ref>', 'name or id')
    .action(act(SERVER, (c, ref: string) => c.servers.start(ref)));

  const sg = program.command('sg').alias('security-group').description('security groups (stateful, project-wide)');
  sg.command('create')
    .description('create a security group (all outbound allowed, nothing inbound)')
    .requiredOption('--name <name>', 'group name')
    .option('--description <text>', 'description')
    .action(act(GROUP, (c, o: { name: string; description?: string }) => c.securityGroups.create({ name: o.name, description: o.description })));
  standardVerbs(sg, 'security group', GROUP, (c) => c.securityGroups);
  // `sg show` prints the group and its rules.
  sg.commands
    .find((x) => x.name() === 'show')!
    .action(
      act(null, async (c, ref: string, _o: unknown, cmd: Command) => {
        const g = await c.securityGroups.get(ref);
        if (await structured(cmd, g)) return;
        const names = new Names(c);
        await names.load(['securityGroup']);
        const head = [`security group  ${g.name} (${g.id})`, `description     ${g.description || '-'}`, '', 'rules:'];
        const rules = g.rules.length
          ? table(g.rules, RULE, names)
              .trimEnd()
              .split('\n')
              .map((l) => `  ${l}`)
          : ['  none: nothing comes in, nothing goes out'];
        process.stdout.write([...head, ...rules].join('\n') + '\n');
      }),
    );
  const rule = sg.command('rule').description('rules of a security group');
  rule
    .command('add')
    .description('add a rule')
    .requiredOption('--group <ref>', 'security group (name or id)')
    .requiredOption('--direction <dir>', 'ingress or egress (any case)', lower)
    .requiredOption('--protocol <proto>', 'icmp, tcp, udp or all (any case)', lower)
    .option('--port <ports>', 'port or range, e.g. 8080, 8000-8100, or 0-65535 for all (tcp and udp)')
    .option('--icmp <type[/code]>', 'ICMP type, optionally with a code, e.g. 8 (echo request) or 3/4 (icmp; every type when absent)')
    .requiredOption('--remote <remote>', 'a CIDR or a security group (name or id)')
    .option('--description <text>', 'description')
    .action(
      act(RULE, async (c, o: { group: string; direction: string; protocol: string; port?: string; icmp?: string; remote: string; description?: string }) => {
        const g = await c.securityGroups.addRule(o.group, {
          direction: o.direction as RuleInput['direction'],
          protocol: o.protocol as RuleInput['protocol'],
          ports: o.port,
          icmp: o.icmp,
          remote: o.remote,
          description: o.description,
        });
        return g.rules[g.rules.length - 1];
      }),
    );
  rule
    .command('list')
    .alias('ls')
    .description('list the rules of a group')
    .requiredOption('--group <ref>', 'security group (name or id)')
    .action(act(RULE, async (c, o: { group: string }) => (await c.securityGroups.get(o.group)).rules));
  rule
    .command('delete')
    .aliases(['remove', 'rm'])
    .description('delete a rule')
    .requiredOption('--group <ref>', 'security group (name or id)')
    .argument('<rule-id>', 'rule id (sgr-...)')
    .action(act(RULE, async (c, id: string, o: { group: string }) => (await c.securityGroups.removeRule(o.group, id)).rules));

  const rt = program.command('route-table').alias('rtb').description('route tables');
  rt.command('create')
    .description('create a route table (holding the local route)')
    .requiredOption('--name <name>', 'table name')
    .requiredOption('--vpc <ref>', 'VPC (name or id)')
    .action(act(TABLE, (c, o: { name: string; vpc: string }) => c.routeTables.create({ name: o.name, vpc: o.vpc })));
  standardVerbs(rt, 'route table', TABLE, (c) => c.routeTables, { filters: ['vpc'] });
  rt.command('associate')
    .description('associate a subnet with this table')
    .argument('<ref>', 'route table (name or id)')
    .requiredOption('--subnet <ref>', 'subnet (name or id)')
    .action(act(TABLE, (c, ref: string, o: { subnet: string }) => c.routeTables.associate(ref, o.subnet)));
  rt.command('disassociate')
    .description("return a subnet to its VPC's main table")
    .requiredOption('--subnet <ref>', 'subnet (name or id)')
    .action(act(SUBNET, (c, o: { subnet: string }) => c.subnets.disassociate(o.subnet)));

  const tableOf = async (c: NimbusClient, o: { vpc?: string; routeTable?: string }): Promise<string> => {
    if (o.routeTable) return o.routeTable;
    if (o.vpc) return (await c.vpcs.get(o.vpc)).mainRouteTableId;
    throw new ApiError('InvalidParameterValue', 'give --vpc (for its main table) or --route-table', 0);
  };
  const route = program.command('route').description('routes of a route table (the VPC main table with --vpc)');
  route
    .command('add')
    .description('add a route')
    .option('--vpc <ref>', 'VPC whose main table gets the route')
    .option('--route-table <ref>', 'route table (name or id)')
    .requiredOption('--destination <cidr>', 'destination CIDR')
    .requiredOption('--target <target>', 'a peering, internet gateway or NAT gateway (name or id), or blackhole')
    .action(
      act(ROUTE, async (c, o: { vpc?: string; routeTable?: string; destination: string; target: string }) =>
        c.routeTables.addRoute(await tableOf(c, o), { destination: o.destination, target: o.target }).then((t) => t.routes),
      ),
    );
  route
    .command('list')
    .alias('ls')
    .description('list the routes of a table')
    .option('--vpc <ref>', 'VPC (its main table)')
    .option('--route-table <ref>', 'route table (name or id)')
    .action(act(ROUTE, async (c, o: { vpc?: string; routeTable?: string }) => (await c.routeTables.get(await tableOf(c, o))).routes));
  route
    .command('delete')
    .alias('rm')
    .description('remove a route')
    .option('--vpc <ref>', 'VPC (its main table)')
    .option('--route-table <ref>', 'route table (name or id)')
    .requiredOption('--destination <cidr>', 'destination CIDR')
    .action(
      act(
        ROUTE,
        async (c, o: { vpc?: string; routeTable?: string; destination: string }) =>
          (await c.routeTables.removeRoute(await tableOf(c, o), o.destination)).routes,
      ),
    );

  const pcx = program.command('peering').description('VPC peering connections');
  pcx
    .command('create')
    .description('request a peering (active at once within a project)')
    .requiredOption('--name <name>', 'peering name')
    .requiredOption('--vpc <ref>', 'requester VPC (name or id)')
    .requiredOption('--peer-vpc <ref>', 'accepter VPC (name or id, in the peer project)')
    .option('--peer-project <ref>', "accepter's project; it must then accept")
    .action(
      act(PEERING, (c, o: { name: string; vpc: string; peerVpc: string; peerProject?: string }) =>
        c.peerings.create({ name: o.name, vpc: o.vpc, peerVpc: o.peerVpc, peerProject: o.peerProject }),
      ),
    );
  standardVerbs(pcx, 'peering', PEERING, (c) => c.peerings);
  // Deleted and rejected peerings stay listed by the API (as EC2 does for a while); the CLI shows them with --all.
  pcx.commands
    .find((x) => x.name() === 'list')!
    .option('--all', 'also deleted and rejected peerings')
    .action(
      act(PEERING, async (c, o: { all?: boolean }) => (await c.peerings.list()).filter((p) => o.all || (p.status !== 'deleted' && p.status !== 'rejected'))),
    );
  pcx
    .command('accept')
    .description('accept a pending peering (accepter project)')
    .argument('<ref>', 'name or id')
    .action(act(PEERING, (c, ref: string) => c.peerings.accept(ref)));
  pcx
    .command('reject')
    .description('reject a pending peering (accepter project)')
    .argument('<ref>', 'name or id')
    .action(act(PEERING, (c, ref: string) => c.peerings.reject(ref)));
  pcx
    .command('dns')
    .description("let the other side resolve your side's server names (AWS's AllowDnsResolutionFromRemoteVpc; both sides must allow)")
    .argument('<ref>', 'peering (name or id)')
    .option('--allow', 'let names through')
    .option('--deny', 'stop letting names through')
    .action(
      act(PEERING, (c, ref: string, o: { allow?: boolean; deny?: boolean }) => {
        if (!!o.allow === !!o.deny) throw new Error('say --allow or --deny (one of them)');
        return c.peerings.dns(ref, !!o.allow);
      }),
    );
}
