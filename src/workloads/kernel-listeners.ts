/**
 * Kernel listeners at run time (linux data plane): a reconciler that keeps each load
 * balancer's `nimbus_l4` table (dataplane/linux/l4.ts) at what its kernel listeners, their
 * members' admission and the worker's health checks ask for; the host's table and the public
 * links for public IPs; and reads the tables' counters every 2 s for status and /metrics.
 *
 * Health decides only new connections (a member failing its checks, or at weight 0, holds no
 * slot; its flows go on). A member removed, admin down, stopped or whose workload is down,
 * and a listener removed, also lose their flows: `conntrack -D` in the namespace (the client
 * sees a reset), as Octavia ends a deleted member's connections.
 *
 * A public IP's port is reserved before its rule goes in: the daemon holds a listening socket
 * on it (reservations.ts), which no connection reaches while the rule is there. A port some
 * other process already listens on is never shadowed: its rule stays out, and the load
 * balancer is in ERROR with the reason, as the user-space engine is in the same case.
 */
import type { LoadBalancer, PlanStep } from '../core/model/index.js';
import type { ListenerConfig, PoolConfig } from '../lb/config.js';
import type { Reconciler, ApplyResult, PassOptions } from '../reconcile/reconciler.js';
import { ReconcileLoop } from '../reconcile/loop.js';
import * as L4 from '../dataplane/linux/l4.js';
import { serverNs } from '../dataplane/linux/names.js';
import { inNamespace, run, type Runner } from '../dataplane/linux/run.js';
import { PortReservations } from './reservations.js';

export interface KernelWant {
  lb: LoadBalancer;
  listeners: { listener: ListenerConfig; pool: PoolConfig | null }[];
}

interface LbDesired {
  ns: string;
  spec: Omit<L4.L4Namespace, 'linkAddress'>;
  publicIp: string | null;
  /** Per listener, its port and its members' address and admission (for ending flows). */
  admitted: Map<string, { port: number; members: Map<string, { ip: string; port: number; admitted: boolean }> }>;
}

type Desired = Map<string, LbDesired>;

interface LbObserved {
  objects: L4.L4Objects | null;
  linkAddress: string | null;
  forwarding: boolean;
  missing: boolean;
}

interface Observed {
  lbs: Map<string, LbObserved>;
  hostTable: boolean;
  hostAddrs: Set<string>;
}

interface LbPlan {
  lbId: string;
  ns: string;
  /** Run on the host first: the public link. */
  link: string | null;
  /** Run in the namespace. */
  script: string;
  key: string;
  desired: LbDesired | null;
  steps: PlanStep[];
}

interface Plan {
  lbs: LbPlan[];
  /** The host table without the entries that go (applied first, so no public IP points at rules being removed). */
  hostFirst: { script: string; entries: L4.HostEntry[] } | null;
  /** The host table as wanted (applied last, once the namespaces it points at are ready). */
  host: string | null;
  hostKey: string;
  hostEntries: L4.HostEntry[];
  links: Map<string, L4.PublicLink>;
}

const FORWARD = 'sysctl -qw net.ipv4.ip_forward=1';

export class KernelListeners implements Reconciler<Desired, Observed, Plan, PlanStep> {
  readonly name = 'kernel-listeners';
  private wants = new Map<string, KernelWant>();
  /** What the last successful apply put in each namespace (its key), and its members. */
  private readonly done = new Map<string, { key: string; desired: LbDesired }>();
  private readonly links = new Map<string, L4.PublicLink>();
  private hostKey = '';
  /** The host table's entries as last applied. */
  private hostEntries: L4.HostEntry[] = [];
  /** A host table change is planned and not yet applied. */
  private hostDirty = false;
  private readonly counters = new Map<string, Map<string, L4.CounterValue>>();
  private readonly loop: ReconcileLoop<Desired, Observed, Plan, PlanStep>;
  private poll: NodeJS.Timeout | null = null;
  /** The public IPs' ports this daemon holds for kernel listeners. */
  private readonly reserved = new PortReservations(() => this.loop.trigger());

  constructor(
    private readonly prefix: string,
    /** Members' health as the load balancer's worker found it. */
    private readonly health: (lbId: string) => Record<string, 'UP' | 'DOWN'>,
    /** Resolves once the data plane's namespaces are made. */
    private readonly settled: () => Promise<void>,
    private readonly runner: Runner = run,
  ) {
    this.loop = new ReconcileLoop(this, { debounceMs: 5, resyncMs: 10_000, resyncMaxMs: 60_000 });
  }

  start(): void {
    this.loop.start();
    this.poll = setInterval(() => void this.readCounters(), 2_000);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    await this.loop.stop();
    this.reserved.keepOnly(new Set());
    // The host's table stands while the daemon runs (hostScript says why); a daemon that stops with no public port in it takes it away.
    if (this.hostEntries.length === 0) await this.runner('nft', ['delete', 'table', 'ip', L4.hostTable(this.prefix)]);
  }

  /** The kernel listeners a load-balancer pass wants. */
  update(wants: Map<string, KernelWant>): void {
    this.wants = wants;
    // A port that leaves the kernel is let go at once: the user-space engine may take it next.
    this.reserved.keepOnly(new Set([...wants.values()].flatMap((w) => (w.lb.publicIp ? w.listeners.map((l) => `${w.lb.publicIp}:${l.listener.port}`) : []))));
    this.loop.trigger();
  }

  /** A member's health changed. */
  healthChanged(lbId: string): void {
    if (this.wants.has(lbId)) this.loop.trigger();
  }

  /**
   * Whether a load balancer's kernel listeners are not yet as last asked: in its namespace, and
   * in the host's table (a listener that left the kernel is pending until its rules are gone, so
   * the user-space engine that takes it over is not reported ACTIVE while the host still sends
   * its public port to the namespace).
   */
  pending(lbId: string): boolean {
    const want = this.wants.get(lbId);
    const done = this.done.get(lbId);
    if (!want) return done !== undefined || (this.hostDirty && this.hostEntries.some((e) => e.link.lbId === lbId));
    return !done || done.key !== keyOf(this.lbDesired(want)) || this.hostDirty || this.reserved.waiting(lbId);
  }

  /** Kernel listeners whose public port another process holds (the load balancer is in ERROR), with why. */
  refused(lbId: string): string[] {
    return this.reserved.refused(lbId);
  }

  errors() {
    return this.loop.errors();
  }

  /** Counter values of a load balancer's table, by counter name. */
  countersOf(lbId: string): Map<string, L4.CounterValue> | null {
    return this.counters.get(lbId) ?? null;
  }

  async settledNow(): Promise<void> {
    await this.loop.settled();
  }

  private async readCounters(): Promise<void> {
    for (const lbId of this.done.keys()) {
      const r = await this.runner('ip', ['netns', 'exec', serverNs(this.prefix, lbId), 'nft', '-j', 'list', 'counters', 'table', ...L4.L4_TABLE.split(' ')], {
        timeoutMs: 5_000,
      });
      if (r.code === 0) this.counters.set(lbId, L4.parseCounters(r.stdout));
    }
  }

  private lbDesired(want: KernelWant): LbDesired {
    const health = this.health(want.lb.id);
    const listeners: L4.L4Listener[] = [];
    const admitted: LbDesired['admitted'] = new Map();
    for (const { listener, pool } of want.listeners) {
      const members = (pool?.members ?? []).map((m) => ({
        id: m.id,
        ip: m.host,
        port: m.port,
        weight: m.weight,
        eligible: m.enabled && health[m.id] !== 'DOWN' && m.weight > 0,
      }));
      listeners.push({ id: listener.id, port: listener.port, algorithm: pool?.algorithm === 'SOURCE_IP' ? 'SOURCE_IP' : 'ROUND_ROBIN', members });
      admitted.set(listener.id, {
        port: listener.port,
        members: new Map((pool?.members ?? []).map((m) => [m.id, { ip: m.host, port: m.port, admitted: m.enabled }])),
      });
    }
    return {
      ns: serverNs(this.prefix, want.lb.id),
      spec: { lbId: want.lb.id, vip: want.lb.vip, listeners },
      publicIp: want.lb.publicIp ?? null,
      admitted,
    };
  }

  desired(): Desired {
    return new Map([...this.wants].map(([id, w]) => [id, this.lbDesired(w)]));
  }

  objects(desired: Desired): Iterable<string> {
    return desired.keys();
  }

  async observe(desired: Desired, opts: PassOptions): Promise<Observed> {
    if (desired.size > 0) await this.settled();
    const lbs = new Map<string, LbObserved>();
    const ids = new Set([...desired.keys(), ...this.done.keys()]);
    for (const lbId of ids) {
      const d = desired.get(lbId);
      const done = this.done.get(lbId);
      if (!opts.full && d && done && done.key === keyOf(d)) continue;
      lbs.set(lbId, await this.observeLb(serverNs(this.prefix, lbId)));
    }
    let hostTable = true;
    let hostAddrs = new Set<string>();
    if (opts.full || [...desired.values()].some((d) => d.publicIp && !this.links.has(d.spec.lbId))) {
      hostTable = (await this.runner('nft', ['list', 'table', 'ip', L4.hostTable(this.prefix)])).code === 0;
      const r = await this.runner('ip', ['-j', '-4', 'addr']);
      hostAddrs = new Set((JSON.parse(r.stdout || '[]') as { addr_info?: { local: string }[] }[]).flatMap((a) => (a.addr_info ?? []).map((i) => i.local)));
    }
    return { lbs, hostTable, hostAddrs };
  }

  private async observeLb(ns: string): Promise<LbObserved> {
    const script = [
      `nft -j list table ${L4.L4_TABLE} 2>/dev/null || echo '{}'`,
      'echo @@',
      `ip -j -4 addr show dev ${L4.PUBLIC_LINK} 2>/dev/null || echo '[]'`,
      'echo @@',
      'cat /proc/sys/net/ipv4/ip_forward',
    ].join('\n');
    const r = await inNamespace(ns, script, 10_000, this.runner);
    if (r.code !== 0) return { objects: null, linkAddress: null, forwarding: false, missing: true };
    const [nft, addr, fwd] = r.stdout.split('@@').map((s) => s.trim());
    const objects = nft === '{}' ? null : L4.parseObjects(nft);
    const info = (JSON.parse(addr || '[]') as { addr_info?: { local: string }[] }[])[0]?.addr_info?.[0];
    return { objects, linkAddress: info?.local ?? null, forwarding: fwd === '1', missing: false };
  }

  plan(desired: Desired, observed: Observed): Plan {
    const lbs: LbPlan[] = [];
    const links = new Map(this.links);
    const taken = new Set([...observed.hostAddrs, ...[...links.values()].flatMap((l) => [l.hostAddress, l.nsAddress])]);
    for (const [lbId, o] of observed.lbs) {
      const d = desired.get(lbId) ?? null;
      const ns = serverNs(this.prefix, lbId);
      const step = (object: string, action: PlanStep['action']): PlanStep => ({ ns, object, action });
      if (o.missing) {
        // Its namespace is not there: not yet (the next pass), or gone with its load balancer.
        if (!d) lbs.push({ lbId, ns, link: null, script: '', key: '', desired: null, steps: [] });
        continue;
      }
      if (!d) {
        lbs.push({
          lbId,
          ns,
          link: null,
          script: `nft delete table ${L4.L4_TABLE} 2>/dev/null || true\nip link del ${L4.PUBLIC_LINK} 2>/dev/null || true\n`,
          key: '',
          desired: null,
          steps: o.objects ? [step('kernel listeners', 'deleted')] : [],
        });
        links.delete(lbId);
        continue;
      }
      let link: string | null = null;
      let pub = links.get(lbId);
      if (d.publicIp && o.linkAddress) {
        const nsAddress = o.linkAddress;
        const host = nsAddress.replace(/\d+$/, (n) => String(Number(n) - 1));
        pub = { lbId, hostLink: L4.hostLinkName(this.prefix, lbId), hostAddress: host, nsAddress };
      } else if (d.publicIp) {
        const block = L4.linkBlock(this.prefix, lbId, taken);
        taken.add(block.hostAddress).add(block.nsAddress);
        pub = { lbId, hostLink: L4.hostLinkName(this.prefix, lbId), ...block };
        link = [
          `ip link del ${pub.hostLink} 2>/dev/null || true`,
          `ip -n ${ns} link del ${L4.PUBLIC_LINK} 2>/dev/null || true`,
          `ip link add ${pub.hostLink} type veth peer name ${L4.PUBLIC_LINK} netns ${ns}`,
          `ip addr add ${pub.hostAddress}/30 dev ${pub.hostLink}`,
          `sysctl -qw net.ipv4.conf.${pub.hostLink}.route_localnet=1`,
          `ip link set ${pub.hostLink} up`,
          `ip -n ${ns} addr add ${pub.nsAddress}/30 dev ${L4.PUBLIC_LINK}`,
          `ip -n ${ns} link set ${L4.PUBLIC_LINK} up`,
        ].join('\n');
      }
      if (pub && d.publicIp) links.set(lbId, pub);
      else links.delete(lbId);
      const spec: L4.L4Namespace = { ...d.spec, linkAddress: d.publicIp ? (pub?.nsAddress ?? null) : null };
      const done = this.done.get(lbId);
      if (done?.key === keyOf(d) && o.objects !== null && o.forwarding && !link) continue;
      const script = [
        o.forwarding ? '' : FORWARD,
        `nft -f - <<'NIMBUS_EOF'\n${L4.namespaceScript(spec, o.objects ?? { maps: [], counters: [] })}NIMBUS_EOF`,
        ...ended(done?.desired ?? null, d),
      ]
        .filter(Boolean)
        .join('\n');
      lbs.push({ lbId, ns, link, script, key: keyOf(d), desired: d, steps: [step('kernel listeners', o.objects ? 'updated' : 'created')] });
    }
    const entries: L4.HostEntry[] = [];
    for (const [lbId, d] of desired) {
      const pub = links.get(lbId);
      if (!d.publicIp || !pub) continue;
      for (const l of d.spec.listeners) entries.push({ publicIp: d.publicIp, port: l.port, link: pub });
    }
    const hostScript = L4.hostScript(this.prefix, entries);
    const same = (a: L4.HostEntry, b: L4.HostEntry) =>
      a.publicIp === b.publicIp && a.port === b.port && a.link.hostLink === b.link.hostLink && a.link.nsAddress === b.link.nsAddress;
    const kept = this.hostEntries.filter((h) => entries.some((e) => same(h, e)));
    const hostFirst = kept.length < this.hostEntries.length ? { script: L4.hostScript(this.prefix, kept), entries: kept } : null;
    // After hostFirst, the table is that script: the last step is needed only if it differs.
    const before = hostFirst?.script ?? this.hostKey;
    const host = hostScript !== before || (!hostFirst && !observed.hostTable) ? hostScript : null;
    this.hostDirty = host !== null || hostFirst !== null;
    return { lbs, hostFirst, host, hostKey: hostScript, hostEntries: entries, links };
  }

  steps(plan: Plan): PlanStep[] {
    return plan.lbs.flatMap((p) => p.steps);
  }

  async apply(plan: Plan): Promise<ApplyResult> {
    const errors: ApplyResult['errors'] = [];
    const succeeded: string[] = [];
    let hostOk = true;
    if (plan.hostFirst) {
      const r = await this.runner('nft', ['-f', '-'], { input: plan.hostFirst.script, timeoutMs: 10_000 });
      if (r.code !== 0) {
        hostOk = false;
        errors.push({ resourceId: 'host', message: `public IPs' kernel table: ${r.stderr.trim()}` });
      } else {
        this.hostEntries = plan.hostFirst.entries;
        this.hostKey = plan.hostFirst.script;
      }
    }
    for (const p of plan.lbs) {
      if (p.link) {
        const r = await this.runner('sh', ['-es'], { input: p.link, timeoutMs: 10_000 });
        if (r.code !== 0) {
          errors.push({ resourceId: p.lbId, message: `public link: ${r.stderr.trim()}` });
          plan.links.delete(p.lbId);
          continue;
        }
      }
      const r = p.script ? await inNamespace(p.ns, p.script, 10_000, this.runner) : { code: 0, stderr: '' };
      if (r.code !== 0) {
        errors.push({ resourceId: p.lbId, message: `kernel listeners: ${r.stderr.trim()}` });
        continue;
      }
      if (p.desired) this.done.set(p.lbId, { key: p.key, desired: p.desired });
      else {
        this.done.delete(p.lbId);
        this.counters.delete(p.lbId);
      }
      succeeded.push(p.lbId);
    }
    this.links.clear();
    for (const [id, l] of plan.links) this.links.set(id, l);
    // Every public port is held by this daemon before the host sends it on; one held by another process is left out.
    const held = await this.reserved.hold(plan.hostEntries.map((e) => ({ lbId: e.link.lbId, ip: e.publicIp, port: e.port })));
    if (held.length < plan.hostEntries.length) {
      const ok = new Set(held.map((h) => `${h.ip}:${h.port}`));
      plan.hostEntries = plan.hostEntries.filter((e) => ok.has(`${e.publicIp}:${e.port}`));
      plan.hostKey = L4.hostScript(this.prefix, plan.hostEntries);
      plan.host = plan.hostKey !== this.hostKey ? plan.hostKey : null;
    }
    if (plan.host !== null) {
      const r = await this.runner('nft', ['-f', '-'], { input: plan.host, timeoutMs: 10_000 });
      if (r.code !== 0) {
        hostOk = false;
        errors.push({ resourceId: 'host', message: `public IPs' kernel table: ${r.stderr.trim()}` });
      } else {
        this.hostKey = plan.hostKey;
        this.hostEntries = plan.hostEntries;
      }
    }
    if (hostOk) this.hostDirty = false;
    return { errors, succeeded, requeue: false };
  }

  /** The loop, for the daemon's passes (sync, settled). */
  get reconcileLoop(): ReconcileLoop<Desired, Observed, Plan, PlanStep> {
    return this.loop;
  }
}

function keyOf(d: LbDesired): string {
  return JSON.stringify([d.spec, d.publicIp]);
}

/** conntrack deletions for flows that must end: members gone or no longer admitted, listeners gone. */
function ended(before: LbDesired | null, now: LbDesired): string[] {
  if (!before) return [];
  const out: string[] = [];
  for (const [listenerId, was] of before.admitted) {
    const is = now.admitted.get(listenerId);
    if (!is || is.port !== was.port) {
      out.push(`conntrack -D -p tcp --orig-port-dst ${was.port} >/dev/null 2>&1 || true`);
      continue;
    }
    for (const [memberId, m] of was.members) {
      const still = is.members.get(memberId);
      if (m.admitted && (!still || !still.admitted || still.ip !== m.ip || still.port !== m.port)) {
        out.push(`conntrack -D -p tcp --orig-port-dst ${was.port} --reply-src ${m.ip} --reply-port-src ${m.port} >/dev/null 2>&1 || true`);
      }
    }
  }
  return out;
}
