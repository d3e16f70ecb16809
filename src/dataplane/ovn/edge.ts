/**
 * The edge on the ovn plane. The internet is the linux plane's own: its namespace with its hosts,
 * its uplink to the machine and the machine's elastic IP table, made by the linux plane's
 * reconciler limited to those namespaces (OvnEdgeReconciler). What differs is each internet
 * gateway's link: on the linux plane a veth from the VPC's router namespace; here a veth from
 * the internet's namespace (g<igw>, the same address and routes) to the gateway chassis, where
 * its end (x<igw>) is the only port of an Open vSwitch bridge (brx<igw>) that the chassis maps
 * to the gateway's localnet network (nb.ts: the gateway's router port, bound to that chassis,
 * translates the VPC's elastic IPs). A packet the router sends out untranslated (its source
 * has no elastic IP) is dropped as it comes in from the link: AWS's internet gateway translates
 * only addresses that have one, and an OVN router has no filter on its way out.
 *
 * An OVN router drops 127.0.0.0/8 as a martian, and the public pool lives there: on the link an
 * elastic IP 127.0.1.N is 100.64.1.N (ovnPublic), the internet's namespace translating between
 * the two (and from the machine's alias of it straight to the link's).
 */
import { createHash } from 'node:crypto';
import type { InternetGateway } from '../../core/model/index.js';
import { readSnapshot } from '../../resources/snapshot.js';
import { desiredState, type DesiredState, type NsSpec } from '../linux/desired.js';
import { aliasOf, mappings } from '../linux/edge.js';
import { gatewayPort, internetNs } from '../linux/names.js';
import { LinuxReconciler } from '../linux/reconciler.js';
import type { Machines } from '../linux/machine.js';
import type { Runner } from '../linux/run.js';
import type { Store } from '../../store/db.js';
import { chassisNs, offloadsOff, SERVER_MTU, type Fabric } from './fabric.js';
import { attachedGateways, gatewayNames, ovnPublic } from './nb.js';
import type { Snapshot } from '../../net/topology.js';

/** The linux plane's reconciler for the internet's namespaces only, its gateway links towards the gateway chassis. */
export class OvnEdgeReconciler extends LinuxReconciler {
  override readonly name = 'ovn-edge';

  constructor(
    store: Store,
    private readonly fabric: Fabric,
    runner: Runner,
    machines: Machines,
    /** The chassis that holds the gateways' bridges (null: none yet). */
    private readonly gatewayChassis: () => string | null,
  ) {
    super(store, fabric.prefix, runner, machines);
  }

  protected override manages(ns: string): boolean {
    return ns === internetNs(this.prefix) || ns.startsWith(`${this.prefix}-ih-`);
  }

  override desired(): DesiredState {
    return this.desiredFor(readSnapshot(this.store));
  }

  /** The internet's part of the linux plane's desired state for `snapshot`, its links towards the gateway chassis. */
  desiredFor(snapshot: Snapshot): DesiredState {
    const all = desiredState(snapshot, this.prefix, this.slot(), true);
    const chassis = this.gatewayChassis();
    const vpcOf = new Map(snapshot.servers.map((e) => [e.id, e.vpcId]));
    const mapped = mappings(snapshot.elasticIps ?? [], (id) => vpcOf.get(id));
    const gateways = attachedGateways(snapshot);
    const namespaces = new Map<string, NsSpec>();
    const slot = this.slot();
    for (const [name, spec] of all.namespaces) {
      if (!this.manages(name)) continue;
      if (name !== internetNs(this.prefix)) namespaces.set(name, spec);
      else
        namespaces.set(
          name,
          gatewayLinks(spec, gateways, chassis ? chassisNs(this.prefix, chassis) : null, mapped, (ip) => aliasOf(slot, ip)),
        );
    }
    return { namespaces, machine: all.machine };
  }
}

/**
 * The internet's namespace with its gateway links made towards the gateway chassis (pure): each
 * g<igw> that the linux plane's router would make is made here, its other end x<igw> in
 * `chassisNs`; and what comes in over one of them from a source that is not one of its VPC's
 * elastic IPs is dropped. Without a gateway chassis the links are left out.
 */
export function gatewayLinks(
  spec: NsSpec,
  gateways: InternetGateway[],
  chassis: string | null,
  mapped: { publicIp: string; vpcId: string; loadBalancer?: boolean }[],
  aliasOf: (publicIp: string) => string,
): NsSpec {
  const ports = new Map(gateways.map((g) => [gatewayPort(g.id), g]));
  const configure = spec.configure.filter((c) => !ports.has(c.name));
  const create = [...spec.create];
  const drops: string[] = [];
  const linked = mapped.filter((m) => gateways.some((g) => g.vpcId === m.vpcId));
  if (chassis)
    for (const [port, g] of ports) {
      create.push({ name: port, kind: 'veth', peer: { name: gatewayNames(g.id).chassisEnd, ns: chassis }, up: true });
      const sources = linked.filter((m) => m.vpcId === g.vpcId).map((m) => ovnPublic(m.publicIp));
      drops.push(
        `    iifname "${port}" ${sources.length > 0 ? `ip saddr != { ${sources.join(', ')} } ` : ''}counter drop comment "no elastic IP: the internet gateway does not translate it"`,
      );
    }
  const keep = (l: { dev: string }) => chassis !== null || !ports.has(l.dev);
  const chains: string[] = [];
  if (chassis && drops.length > 0) chains.push('  chain from_gateways {', '    type filter hook forward priority -1; policy accept;', ...drops, '  }');
  if (chassis && linked.length > 0) {
    // Before the linux plane's own translation from the machine's aliases (the first NAT of a hook wins).
    const to = [
      ...linked.map((m) => `${m.publicIp} : ${ovnPublic(m.publicIp)}`),
      ...linked.filter((m) => !m.loadBalancer).map((m) => `${aliasOf(m.publicIp)} : ${ovnPublic(m.publicIp)}`),
    ];
    chains.push(
      '  chain to_links {',
      '    type nat hook prerouting priority dstnat - 10;',
      `    dnat ip to ip daddr map { ${to.join(', ')} }`,
      '  }',
      '  chain from_links {',
      '    type nat hook postrouting priority srcnat - 10;',
      `    snat ip to ip saddr map { ${linked.map((m) => `${ovnPublic(m.publicIp)} : ${m.publicIp}`).join(', ')} }`,
      '  }',
    );
  }
  const nft = chains.length > 0 ? `${spec.nft}\n${chains.join('\n')}` : spec.nft;
  const onLink = new Map(linked.map((m) => [`${m.publicIp}/32`, `${ovnPublic(m.publicIp)}/32`]));
  return {
    ...spec,
    create,
    configure,
    addrs: spec.addrs.filter(keep),
    routes: spec.routes
      .filter((r) => !r.dev || keep({ dev: r.dev }))
      .map((r) => (r.dev && ports.has(r.dev) && onLink.has(r.dst) ? { ...r, dst: onLink.get(r.dst)! } : r)),
    rules: spec.rules.filter((r) => keep({ dev: r.iif })),
    nft,
    nftHash: createHash('sha256').update(nft).digest('hex').slice(0, 16),
  };
}

/** Deletes each gateway link whose other end is not on `chassis` (shell); prints the links deleted. */
export function staleLinksScript(prefix: string, chassis: string, gateways: InternetGateway[]): string {
  const ns = chassisNs(prefix, chassis);
  return gateways
    .map((g) => gatewayNames(g.id).chassisEnd)
    .map((x) => `ip -n ${ns} link show ${x} >/dev/null 2>&1 || { ip -n ${internetNs(prefix)} link del g${x.slice(1)} 2>/dev/null && echo g${x.slice(1)}; }`)
    .concat('true')
    .join('\n');
}

/**
 * The gateway chassis's side of the links (shell, as root): a netdev bridge per gateway with
 * the link's end as its port (added again when its device was gone: a veth made again is not
 * taken up by the old port), the chassis's bridge mappings naming them all, the links' MTU that
 * of the servers (what crosses a tunnel must fit), offloads off; bridges of gateways gone are
 * deleted, and the other chassis (`others`, a gateway chassis before) hold none. Idempotent.
 */
export function chassisLinksScript(fabric: Fabric, chassis: string, gateways: InternetGateway[], prefix: string, others: string[] = []): string {
  const ns = chassisNs(prefix, chassis);
  const inet = internetNs(prefix);
  const vsctl = (ch: string) => `ovs-vsctl --db=${fabric.ovsRemote(ch)} --timeout=10`;
  const names = gateways.map((g) => gatewayNames(g.id));
  const keep = ` ${names.map((n) => n.bridge).join(' ')} `;
  const lines = [
    ...others.flatMap((ch) => [
      `for b in $(${vsctl(ch)} list-br); do case "$b" in brx*) ${vsctl(ch)} del-br "$b" ;; esac; done`,
      `${vsctl(ch)} remove open . external-ids ovn-bridge-mappings`,
    ]),
    `for b in $(${vsctl(chassis)} list-br); do case "$b" in brx*) case "${keep}" in *" $b "*) ;; *) ${vsctl(chassis)} del-br "$b" ;; esac ;; esac; done`,
  ];
  for (const n of names) {
    const g = `g${n.chassisEnd.slice(1)}`;
    lines.push(
      `[ "$(${vsctl(chassis)} --if-exists get interface ${n.chassisEnd} ofport)" != "-1" ] || ${vsctl(chassis)} del-port ${n.chassisEnd}`,
      `${vsctl(chassis)} -- --may-exist add-br ${n.bridge} -- set bridge ${n.bridge} datapath_type=netdev -- --may-exist add-port ${n.bridge} ${n.chassisEnd}`,
      `ip -n ${ns} link set ${n.chassisEnd} mtu ${SERVER_MTU} up`,
      `ip -n ${inet} link set ${g} mtu ${SERVER_MTU}`,
      `ip netns exec ${ns} ${offloadsOff(n.chassisEnd)}`,
      `ip netns exec ${inet} ${offloadsOff(g)}`,
    );
  }
  lines.push(
    names.length > 0
      ? `${vsctl(chassis)} set open . external-ids:ovn-bridge-mappings=${names.map((n) => `${n.network}:${n.bridge}`).join(',')}`
      : `${vsctl(chassis)} remove open . external-ids ovn-bridge-mappings`,
  );
  return lines.join('\n') + '\n';
}
