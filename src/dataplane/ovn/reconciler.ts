/**
 * The ovn data plane's reconciler (reconcile/reconciler.ts): desired from the store, observed
 * from the northbound database and the chassis, a pure plan, then one NB transaction and the
 * endpoints' plugging.
 *
 * An endpoint (a server, a load balancer, a NAT gateway, a VPC's DNS resolver) is a namespace on its chassis, as on
 * the linux plane (a server's is a machine: machine.ts), whose eth0 is a veth; the other end
 * is in the chassis's namespace, on br-int, with external_ids:iface-id naming the endpoint's
 * switch port, so the chassis's ovn-controller binds it. MTU 1400 leaves room for Geneve.
 */
import type { ApplyResult, ObjectError, PassOptions, Reconciler } from '../../reconcile/reconciler.js';
import type { Store } from '../../store/db.js';
import type { HealthMonitor, InternetGateway, Listener, LoadBalancer, Member, PlanStep, Server, Subnet } from '../../core/model/index.js';
import { intToIp, parseCidr, size } from '../../core/cidr.js';
import { readSnapshot } from '../../resources/snapshot.js';
import { listNamespaces } from '../linux/observe.js';
import { isMachine, serverNs } from '../linux/names.js';
import { createMachineScript, hostMachines, removeMachineScript, type Machines } from '../linux/machine.js';
import { OFFLOADS_PROGRAM } from './offloads.js';
import { GARP_PROGRAM } from './garp.js';
import { existsSync } from 'node:fs';
import { claimIds } from '../ids.js';
import { removeServerEtc } from '../linux/attach.js';
import { pool, run, type Runner } from '../linux/run.js';
import { centralNs, chassisNs, SERVER_MTU, type Fabric } from './fabric.js';
import { attachedGateways, desiredNb, macOf, NB, OWNER, planNb, type NbPlan, type ObservedUnit, type TcpVip, type Unit, type UnitTable } from './nb.js';
import type { Snapshot } from '../../net/topology.js';
import { map, OvsdbClient, type Condition, type Operation } from './ovsdb.js';
import { createHash } from 'node:crypto';
import type { DesiredState } from '../linux/desired.js';
import type { LinuxObserved, LinuxPlan } from '../linux/reconciler.js';
import { natRuleset } from '../linux/edge.js';
import { nftScript } from '../linux/nft.js';
import { chassisLinksScript, OvnEdgeReconciler, staleLinksScript } from './edge.js';
import { plugLines, removeNsLine, tapOf, unplugLines } from './plug.js';
import { serverResolvConf } from '../../resources/dns.js';
import { RESOLVER_IP, resolverEndpoints } from './resolver.js';

export interface EndpointSpec {
  id: string;
  name: string;
  ns: string;
  chassis: string | null;
  tap: string;
  mac: string;
  cidr: string;
  gateway: string;
  machine: boolean;
  /** More addresses on its eth0 (a DNS resolver's 169.254.169.253). */
  extra?: string[];
  /** Shell run (as root) once it is plugged: a NAT gateway's forwarding and translation. */
  setup?: string;
}

/** The last lines a command printed, for an error. */
const last = (r: { stderr: string; stdout: string; code: number }) => (r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ') || `exit ${r.code}`;

/** A NAT gateway's namespace: forwarding on, its source check off, and the linux plane's ruleset (edge.ts natRuleset). */
function natSetup(natIp: string, vpcCidr: string): string {
  const body = natRuleset(natIp, vpcCidr);
  return [
    'sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0',
    `nft -f - <<'NIMBUS_EOF'\n${nftScript(body, createHash('sha256').update(body).digest('hex').slice(0, 16))}NIMBUS_EOF`,
  ].join('\n');
}

export interface OvnDesired {
  units: Unit[];
  endpoints: EndpointSpec[];
  /** The internet's namespaces (edge.ts), and the gateway chassis's side of their links. */
  edge: DesiredState;
  links: { chassis: string; gateways: InternetGateway[]; script: string } | null;
}

export interface OvnObserved {
  nb: ObservedUnit[];
  namespaces: Set<string>;
  /** Per chassis: its br-int's ports (tap → iface-id). */
  ports: Map<string, Map<string, string>>;
  /** The central (null) and local chassis with a process that should run and does not. */
  dead: { chassis: string | null; processes: string[] }[];
  edge: LinuxObserved;
  full: boolean;
}

export interface OvnPlan {
  nb: NbPlan;
  plug: EndpointSpec[];
  unplug: { chassis: string; tap: string }[];
  removeNs: { ns: string; machine: boolean }[];
  /** The central (null) and chassis to start again. */
  restart: (string | null)[];
  steps: PlanStep[];
  edge: LinuxPlan;
  /** The gateway chassis's side of the internet gateways' links, when it must be applied. */
  links: { chassis: string; gateways: InternetGateway[]; script: string } | null;
}

export { tapOf } from './plug.js';

/** The endpoints' namespaces this plane makes (those of the linux plane's names that are endpoints). */
const endpointNs = (prefix: string, ns: string) => ['ecs', 'lb', 'nat', 'dns'].some((k) => ns.startsWith(`${prefix}-${k}-`));

/** Up to this many endpoints, one script each side by side (the lowest latency for one server); beyond, plugMany. */
const FEW = 4;
/** How long a pass waits for the chassis to take its change (a chassis that is down is not waited for). */
export const CHASSIS_WAIT_MS = 10_000;

const TABLES: UnitTable[] = ['Logical_Router', 'Load_Balancer', 'Logical_Switch', 'Logical_Switch_Port', 'Port_Group'];

export class OvnReconciler implements Reconciler<OvnDesired, OvnObserved, OvnPlan, PlanStep> {
  readonly name = 'ovn';
  private nb: OvsdbClient | null = null;

  constructor(
    private readonly store: Store,
    private readonly fabric: Fabric,
    /** The chassis an endpoint is on (null while there is none). */
    private readonly chassisOf: (endpoint: Server) => string | null,
    private readonly runner: Runner = run,
    private readonly machines: Machines = hostMachines(runner),
    /** Resolves once every live chassis reports nb_cfg ≥ the value (at most CHASSIS_WAIT_MS): the chassis still behind. */
    private readonly waitChassis?: (nbCfg: number) => Promise<string[]>,
    /** Whether a member's server may take connections (running, its chassis not down). */
    private readonly memberUp: (serverId: string) => boolean = () => true,
    /** The chassis of joined hosts: their servers are plugged by the host's agent, not here. */
    private readonly remote: () => ReadonlySet<string> = () => new Set(),
  ) {
    this.edge = new OvnEdgeReconciler(store, fabric, runner, machines, () => this.gatewayChassis());
  }

  private readonly edge: OvnEdgeReconciler;
  /** The gateway chassis's links script last applied with success. */
  private linksApplied: string | null = null;

  /** Where internet gateways are bound: the first of this machine's chassis. */
  gatewayChassis(): string | null {
    return [...this.fabric.localChassis()].sort()[0] ?? null;
  }

  private get prefix(): string {
    return this.fabric.prefix;
  }

  desired(): OvnDesired {
    const snapshot = readSnapshot(this.store);
    const subnets = new Map(snapshot.subnets.map((s) => [s.id, s]));
    const endpoints: EndpointSpec[] = [];
    const resolvers = resolverEndpoints(snapshot.vpcs, snapshot.subnets);
    const aws = new Set(resolvers.filter((r) => r.aws).map((r) => r.id));
    const remote = this.remote();
    /** A joined host's servers' resolv.conf, by subnet (the same for a subnet's servers). */
    const resolv = new Map<string, string | undefined>();
    for (const e of [...snapshot.servers, ...resolvers]) {
      const s: Subnet | undefined = subnets.get(e.subnetId);
      if (!s) continue;
      // On a joined host's chassis: its agent plugs it there (the switch port says where, nb.ts).
      if (e.chassis && remote.has(e.chassis)) continue;
      endpoints.push({
        id: e.id,
        name: e.name,
        ns: serverNs(this.prefix, e.id),
        chassis: this.chassisOf(e),
        tap: tapOf(e.id),
        mac: macOf(e.id),
        cidr: `${e.privateIp}/${s.cidr.split('/')[1]}`,
        gateway: s.gatewayIp,
        machine: isMachine(this.prefix, serverNs(this.prefix, e.id)),
        ...(aws.has(e.id) ? { extra: [`${RESOLVER_IP}/32`] } : {}),
        ...(e.id.startsWith('nat-') ? { setup: natSetup(e.privateIp, snapshot.vpcs.find((v) => v.id === e.vpcId)?.cidr ?? s.cidr) } : {}),
      });
    }
    const chassis = this.gatewayChassis();
    const gateways = attachedGateways(snapshot);
    return {
      units: desiredNb(
        snapshot,
        this.prefix,
        (e) => this.chassisOf(e),
        this.tcpVips(snapshot),
        resolvers,
        { chassis },
        remote,
        (e) => {
          if (!resolv.has(e.subnetId)) resolv.set(e.subnetId, serverResolvConf(this.store, e));
          return resolv.get(e.subnetId);
        },
      ),
      endpoints,
      edge: this.edge.desiredFor(snapshot),
      links: chassis
        ? {
            chassis,
            gateways,
            script: chassisLinksScript(
              this.fabric,
              chassis,
              gateways,
              this.prefix,
              this.fabric.localChassis().filter((c) => c !== chassis),
            ),
          }
        : null,
    };
  }

  /**
   * TCP listeners, served by OVN's load balancer: each one's VIP and port, its default pool's
   * members that may take connections (admin up, a weight, their server running on a chassis
   * that is not down), and its clients' subnets (its VPC's and its peers').
   */
  tcpVips(snapshot: Snapshot): TcpVip[] {
    const out: TcpVip[] = [];
    const peersOf = (vpcId: string) =>
      snapshot.peerings
        .filter((p) => p.status === 'active' && (p.requesterVpcId === vpcId || p.accepterVpcId === vpcId))
        .map((p) => (p.requesterVpcId === vpcId ? p.accepterVpcId : p.requesterVpcId));
    for (const lb of this.store.list<LoadBalancer>('loadBalancer')) {
      const vpcs = new Set([lb.vpcId, ...peersOf(lb.vpcId)]);
      // Not the load balancer's own subnet: a client there sends to the VIP's own MAC (the load
      // balancer's port), which OVN's DNAT does not change, so the connection would go to the
      // load balancer's namespace with another address; there the listener's engine takes it.
      const clientSubnets = snapshot.subnets.filter((s) => vpcs.has(s.vpcId) && s.id !== lb.subnetId).map((s) => s.id);
      for (const l of this.store.list<Listener>('listener', { parentId: lb.id })) {
        if (l.protocol !== 'TCP' || !l.defaultPoolId) continue;
        const admitted = this.store
          .list<Member>('member', { parentId: l.defaultPoolId })
          .filter((m) => m.adminStateUp && m.weight > 0 && (!m.serverId || this.memberUp(m.serverId)));
        const backends = admitted.map((m) => `${m.address}:${m.port}`).sort();
        out.push({ key: l.id, vip: `${lb.vip}:${l.port}`, backends, clientSubnets, health: this.ovnCheck(snapshot, l.defaultPoolId, admitted) });
      }
    }
    return out;
  }

  /**
   * A pool's health monitor as OVN's check: OVN probes TCP only, so an HTTP monitor is a TCP
   * connect there (the load balancer's own engine still checks HTTP for its listeners). Each
   * backend that is a server is checked by its chassis from its subnet's reserved
   * second-to-last address (Huawei's .254, which no server takes); an address that is no
   * server's has no mapping and is not checked.
   */
  private ovnCheck(snapshot: Snapshot, poolId: string, members: Member[]): TcpVip['health'] {
    const [hm] = this.store.list<HealthMonitor>('healthMonitor', { parentId: poolId });
    if (!hm) return undefined;
    const mappings: Record<string, string> = {};
    for (const m of members) {
      const server = m.serverId ? snapshot.servers.find((x) => x.id === m.serverId) : undefined;
      const subnet = server && snapshot.subnets.find((x) => x.id === server.subnetId);
      if (!server || !subnet) continue;
      const c = parseCidr(subnet.cidr);
      mappings[m.address] = `${server.id}:${intToIp((c.net + size(c) - 2) >>> 0)}`;
    }
    return { interval: hm.delay, timeout: hm.timeout, successCount: hm.maxRetries, failureCount: hm.maxRetriesDown, mappings };
  }

  objects(desired: OvnDesired): Iterable<string> {
    return [
      'ovn-nb',
      'ovn-central',
      ...this.fabric.localChassis().map((c) => `chassis-${c}`),
      ...desired.endpoints.map((e) => e.id),
      ...this.edge.objects(desired.edge),
    ];
  }

  /** The northbound connection, made again after it broke. */
  async client(): Promise<OvsdbClient> {
    if (this.nb) return this.nb;
    const c = await OvsdbClient.connect(this.fabric.nbRemote);
    this.nb = c;
    c.call('echo', []).catch(() => {
      if (this.nb === c) this.nb = null;
    });
    return c;
  }

  close(): void {
    this.nb?.close();
    this.nb = null;
  }

  async observe(desired: OvnDesired, _opts: PassOptions): Promise<OvnObserved> {
    void _opts;
    let c = await this.client();
    const where: Condition[] = [['external_ids', 'includes', map({ [OWNER]: this.prefix })]];
    const read = async () =>
      (
        await c.transact(
          NB,
          TABLES.map((table) => ({
            op: 'select' as const,
            table,
            where,
            columns: [
              '_uuid',
              'external_ids',
              ...(table === 'Logical_Switch' || table === 'Port_Group' ? ['ports'] : []),
              ...(table === 'Logical_Switch' ? ['load_balancer'] : []),
            ],
          })),
        )
      ).map((r) => r.rows ?? []);
    let rows: Awaited<ReturnType<typeof read>>;
    try {
      rows = await read();
    } catch {
      // A connection that broke (the central restarted): once more on a new one.
      this.close();
      c = await this.client();
      rows = await read();
    }
    const nb: ObservedUnit[] = [];
    rows.forEach((list, i) => {
      for (const raw of list) {
        const ext = Object.fromEntries((raw.external_ids as ['map', [string, string][]])[1]);
        const ports = raw.ports === undefined ? undefined : decodeSet(raw.ports);
        const lbs = raw.load_balancer === undefined ? undefined : decodeSet(raw.load_balancer);
        nb.push({ table: TABLES[i], key: ext['nimbus-key'], uuid: (raw._uuid as [string, string])[1], digest: ext['nimbus-digest'] ?? '', ports, lbs });
      }
    });
    const namespaces = new Set((await listNamespaces()).filter((n) => endpointNs(this.prefix, n)));
    const ports = new Map<string, Map<string, string>>();
    const chassis = new Set([...this.fabric.localChassis(), ...desired.endpoints.map((e) => e.chassis).filter((c): c is string => !!c)]);
    await pool(
      [...chassis].filter((ch) => this.fabric.localChassis().includes(ch)),
      4,
      async (ch) => {
        const r = await this.fabric.vsctl(ch, ['--format=csv', '--data=bare', '--no-headings', '--columns=name,external_ids', 'find', 'interface', 'type=""']);
        if (r.code !== 0) return;
        const m = new Map<string, string>();
        for (const line of r.stdout.split('\n')) {
          const [name, ext] = line.split(',');
          const id = /iface-id=([^\s,"]+)/.exec(line)?.[1];
          if (name && id && ext !== undefined) m.set(name, id);
        }
        ports.set(ch, m);
      },
    );
    const dead = [null, ...this.fabric.localChassis()]
      .map((chassis) => ({ chassis, processes: this.fabric.deadProcesses(chassis) }))
      .filter((d) => d.processes.length > 0);
    return { nb, namespaces, ports, dead, edge: await this.edge.observe(desired.edge, _opts), full: _opts.full };
  }

  plan(desired: OvnDesired, observed: OvnObserved): OvnPlan {
    const nb = planNb(desired.units, observed.nb);
    const restart = observed.dead.map((d) => d.chassis);
    const steps: PlanStep[] = observed.dead.flatMap((d) =>
      d.processes.map((p) => ({
        ns: d.chassis === null ? centralNs(this.prefix) : chassisNs(this.prefix, d.chassis),
        object: `${p} (not running)`,
        action: 'created' as const,
      })),
    );
    steps.push(
      ...nb.steps.map((s) => ({
        ns: 'ovn-nb',
        object: `${s.table} ${s.key}`,
        action: s.action === 'create' ? ('created' as const) : s.action === 'delete' ? ('deleted' as const) : ('updated' as const),
      })),
    );
    const wanted = new Map(desired.endpoints.map((e) => [e.id, e]));
    const plug: EndpointSpec[] = [];
    for (const e of desired.endpoints) {
      if (!e.chassis) continue;
      const onChassis = observed.ports.get(e.chassis)?.get(e.tap) === e.id;
      if (onChassis && observed.namespaces.has(e.ns)) continue;
      plug.push(e);
      steps.push({ ns: chassisNs(this.prefix, e.chassis), object: `endpoint ${e.name} (${e.tap})`, action: 'created' });
    }
    const unplug: OvnPlan['unplug'] = [];
    for (const [ch, ports] of observed.ports)
      for (const [tap, id] of ports) {
        const e = wanted.get(id);
        if (e && e.chassis === ch && e.tap === tap) continue;
        unplug.push({ chassis: ch, tap });
        steps.push({ ns: chassisNs(this.prefix, ch), object: `port ${tap}`, action: 'deleted' });
      }
    const desiredNs = new Set(desired.endpoints.filter((e) => e.chassis).map((e) => e.ns));
    const removeNs = [...observed.namespaces]
      .filter((n) => !desiredNs.has(n))
      .map((ns) => {
        steps.push({ ns, object: 'namespace', action: 'deleted' });
        return { ns, machine: isMachine(this.prefix, ns) };
      });
    const edge = this.edge.plan(desired.edge, observed.edge);
    steps.push(...this.edge.steps(edge));
    const links = desired.links && (observed.full || desired.links.script !== this.linksApplied) ? desired.links : null;
    if (links && links.script !== this.linksApplied)
      steps.push({ ns: chassisNs(this.prefix, links.chassis), object: "internet gateways' links", action: this.linksApplied ? 'updated' : 'created' });
    return { nb, plug, unplug, removeNs, restart, steps, edge, links };
  }

  steps(plan: OvnPlan): PlanStep[] {
    return plan.steps;
  }

  async apply(plan: OvnPlan): Promise<ApplyResult> {
    const errors: ObjectError[] = [];
    const succeeded: string[] = [];
    // What died is started first: the central takes the transaction, a chassis binds its ports.
    for (const ch of plan.restart) {
      try {
        if (ch === null) await this.fabric.ensureCentral();
        else await this.fabric.ensureChassis(ch);
      } catch (err) {
        errors.push({ resourceId: ch === null ? 'ovn-central' : `chassis-${ch}`, message: (err as Error).message });
      }
    }
    if (plan.nb.ops.length > 0) {
      try {
        // nb_cfg counts the changes: a chassis that has taken this one reports it back (Chassis_Private.nb_cfg).
        const bump: Operation = { op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '+=', 1]] };
        await (await this.client()).transact(NB, [...plan.nb.ops, bump], 30_000);
        succeeded.push('ovn-nb');
      } catch (err) {
        errors.push({ resourceId: 'ovn-nb', message: (err as Error).message });
      }
    } else succeeded.push('ovn-nb');
    for (const u of plan.unplug)
      await this.runner('sh', ['-c', unplugLines(u.tap, { ns: chassisNs(this.prefix, u.chassis), ovsDb: this.fabric.ovsRemote(u.chassis) }).join('\n')]);
    for (const r of plan.removeNs) {
      await this.runner('sh', ['-c', removeNsLine(r.ns)]);
      if (r.machine) await this.runner('sh', ['-es'], { input: removeMachineScript(r.ns) + '\n' });
      removeServerEtc(r.ns);
    }
    if (plan.plug.length > FEW) {
      const failed = await this.plugMany(plan.plug);
      for (const e of plan.plug) {
        const why = failed.get(e.id);
        if (why) errors.push({ resourceId: e.id, message: `plugging ${e.name} into chassis ${e.chassis}: ${why}` });
        else succeeded.push(e.id);
      }
    } else
      await pool(plan.plug, 4, async (e) => {
        const r = await this.runner('sh', ['-es'], { input: this.plugScript(e), timeoutMs: 30_000 });
        if (r.code === 0) succeeded.push(e.id);
        else
          errors.push({
            resourceId: e.id,
            message: `plugging ${e.name} into chassis ${e.chassis}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`,
          });
      });
    // The internet's namespaces (their links' ends made towards the gateway chassis), then that chassis's side.
    // A link whose end is not on the gateway chassis (the gateway chassis changed) is deleted and made again
    // by the next pass, at once: the internet's spec names the new chassis, but a veth does not move.
    let requeue = false;
    if (plan.links) {
      const moved = await this.runner('sh', ['-c', staleLinksScript(this.prefix, plan.links.chassis, plan.links.gateways)]);
      if (moved.stdout.trim()) {
        this.edge.forget('internet');
        requeue = true;
      }
    }
    const edge = await this.edge.apply(plan.edge);
    errors.push(...edge.errors);
    succeeded.push(...edge.succeeded);
    if (plan.links && !requeue) {
      const r = await this.runner('sh', ['-es'], { input: plan.links.script, timeoutMs: 30_000 });
      if (r.code === 0) this.linksApplied = plan.links.script;
      else errors.push({ resourceId: 'internet', message: `the internet gateways' links on chassis ${plan.links.chassis}: ${last(r)}` });
    }
    // In effect once every chassis has it: the change (and the ports plugged since) counted once more in nb_cfg,
    // then each live chassis's report of it awaited, as `ovn-nbctl --wait=hv` does, but never for a dead chassis.
    if (plan.steps.length > 0 && this.waitChassis) {
      try {
        const [, read] = await (
          await this.client()
        ).transact(NB, [
          { op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '+=', 1]] },
          { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg'] },
        ]);
        const late = await this.waitChassis(Number(read.rows?.[0]?.nb_cfg ?? 0));
        for (const ch of late)
          errors.push({ resourceId: `chassis-${ch}`, message: `chassis ${ch} has not taken the change within ${CHASSIS_WAIT_MS / 1000} s` });
        for (const ch of this.fabric.localChassis()) if (!late.includes(ch)) succeeded.push(`chassis-${ch}`);
      } catch (err) {
        errors.push({ resourceId: 'ovn-nb', message: (err as Error).message });
      }
    }
    // The endpoints just plugged announce themselves (their address may have had another MAC a moment ago).
    const plugged = plan.plug.filter((e) => succeeded.includes(e.id));
    if (plugged.length > 0) {
      const r = await this.runner('python3', ['-c', GARP_PROGRAM, JSON.stringify(plugged.map((e) => [e.ns, e.mac, e.cidr.split('/')[0]]))]);
      if (r.code !== 0) errors.push({ resourceId: 'ovn-nb', message: `gratuitous ARPs: ${r.stderr.trim().split('\n').slice(-1)[0]}` });
    }
    return { errors, succeeded, requeue: requeue || edge.requeue };
  }

  /**
   * Many endpoints plugged in a few processes, where plugScript costs some fifteen each: what was
   * left of them removed in one batch; their machines made in one process (machine.ts); their
   * veths made by one `ip -batch` per chassis; each one's addresses and route by one `ip -batch`
   * in its namespace; offloads off on every end in one process (offloads.ts); and one ovs-vsctl
   * per chassis. The reason each one that failed did.
   */
  async plugMany(endpoints: EndpointSpec[]): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    const fail = (id: string, why: string) => failed.has(id) || failed.set(id, why);
    // Whatever was left of them goes first: a half-made endpoint is made again whole.
    const left = endpoints.filter((e) => existsSync(`/run/netns/${e.ns}`));
    if (left.length > 0) {
      await this.runner('sh', ['-c', left.map((e) => `ip netns pids ${e.ns} | xargs -r kill -KILL`).join('\n')]);
      await this.runner('ip', ['-force', '-batch', '-'], { input: left.map((e) => `netns del ${e.ns}`).join('\n') + '\n' });
      const machines = left.filter((e) => e.machine);
      if (machines.length > 0) await this.runner('sh', ['-es'], { input: machines.map((e) => removeMachineScript(e.ns)).join('\n') + '\n' });
    }
    const machines = endpoints.filter((e) => e.machine);
    if (machines.length > 0)
      for (const [ns, err] of await this.machines.createMany!(machines.map((e) => e.ns))) fail(machines.find((e) => e.ns === ns)!.id, err.message);
    const plain = endpoints.filter((e) => !e.machine);
    if (plain.length > 0) await this.runner('ip', ['-force', '-batch', '-'], { input: plain.map((e) => `netns add ${e.ns}`).join('\n') + '\n' });
    const made = endpoints.filter((e) => !failed.has(e.id));
    const byChassis = new Map<string, EndpointSpec[]>();
    for (const e of made) byChassis.set(e.chassis!, [...(byChassis.get(e.chassis!) ?? []), e]);
    for (const [ch, list] of byChassis) {
      const lines = list.flatMap((e) => [
        `link del ${e.tap}`,
        `link add name ${e.tap} mtu ${SERVER_MTU} type veth peer name eth0 address ${e.mac} mtu ${SERVER_MTU} netns ${e.ns}`,
        `link set ${e.tap} up`,
      ]);
      await this.runner('ip', ['-n', chassisNs(this.prefix, ch), '-force', '-batch', '-'], {
        input: lines.join('\n') + '\n',
        timeoutMs: 30_000 + list.length * 50,
      });
    }
    await pool(made, 8, async (e) => {
      const r = await this.runner('ip', ['-n', e.ns, '-batch', '-'], {
        input: [
          'link set lo up',
          'link set eth0 up',
          `addr add ${e.cidr} dev eth0`,
          ...(e.extra ?? []).map((a) => `addr add ${a} dev eth0`),
          `route add default via ${e.gateway}`,
          '',
        ].join('\n'),
      });
      if (r.code !== 0) fail(e.id, last(r));
      else if (e.setup) {
        const setup = await this.runner('ip', ['netns', 'exec', e.ns, 'sh', '-es'], { input: e.setup + '\n' });
        if (setup.code !== 0) fail(e.id, last(setup));
      }
    });
    const ready = made.filter((e) => !failed.has(e.id));
    const ends = ready.flatMap((e) => [
      [chassisNs(this.prefix, e.chassis!), e.tap],
      [e.ns, 'eth0'],
    ]);
    if (ends.length > 0) {
      const r = await this.runner('python3', ['-c', OFFLOADS_PROGRAM, JSON.stringify(ends)], { timeoutMs: 20_000 + ends.length * 20 });
      for (const line of r.stdout.split('\n').filter(Boolean)) {
        const o = JSON.parse(line) as { ns: string; dev: string; error?: string };
        const e = o.error && ready.find((x) => x.ns === o.ns || (x.tap === o.dev && chassisNs(this.prefix, x.chassis!) === o.ns));
        if (e && o.error) fail(e.id, o.error);
      }
    }
    for (const [ch, list] of byChassis) {
      const mine = list.filter((e) => !failed.has(e.id));
      if (mine.length === 0) continue;
      const args = mine.flatMap((e) => [
        '--',
        '--if-exists',
        'del-port',
        'br-int',
        e.tap,
        '--',
        'add-port',
        'br-int',
        e.tap,
        '--',
        'set',
        'interface',
        e.tap,
        `external_ids:iface-id=${e.id}`,
      ]);
      const r = await this.fabric.vsctl(ch, args, 10 + Math.ceil(mine.length / 10));
      if (r.code !== 0) for (const e of mine) fail(e.id, `ovs-vsctl: ${last(r)}`);
    }
    return failed;
  }

  /** Shell text (as root) that makes the endpoint's namespace and plugs its eth0 into its chassis's br-int. */
  plugScript(e: EndpointSpec): string {
    const at = { ns: chassisNs(this.prefix, e.chassis!), ovsDb: this.fabric.ovsRemote(e.chassis!) };
    const make = e.machine ? createMachineScript(e.ns, claimIds(e.ns)) : `ip netns add ${e.ns}`;
    // Whatever was left of it goes first: a half-made endpoint is made again whole.
    return [removeNsLine(e.ns), ...(e.machine ? [removeMachineScript(e.ns)] : []), ...plugLines(e, at, make), ''].join('\n');
  }
}

/** A set column as it comes from a select: ["set",[["uuid",…]…]] or one bare ["uuid",…]. */
function decodeSet(v: unknown): string[] {
  if (Array.isArray(v) && v[0] === 'set') return (v[1] as [string, string][]).map((a) => a[1]);
  if (Array.isArray(v) && v[0] === 'uuid') return [v[1] as string];
  return [];
}
