/**
 * The chassis agent of a joined host (`nimbus chassis agent`, started by `nimbus chassis join`):
 * OVN connects the host, and this agent plugs the servers placed on it, as the daemon plugs
 * those of its own simulated chassis. It needs no API and no credentials of Nimbus: the
 * southbound database the host's ovn-controller already reads says which switch ports are asked
 * for on this chassis (`options:requested-chassis`), and the daemon writes onto each of them what
 * the agent needs (`external_ids`: the address with its prefix length, the gateway, the name;
 * nb.ts's AGENT_LABELS, which northd copies into the Port_Binding). Every pass (2 s):
 *
 * - a port asked for here and not plugged is plugged (plug.ts: a namespace `<prefix>-ecs-…`, a
 *   veth whose chassis end is a br-int port with `external_ids:iface-id` naming the port);
 * - a namespace of ours, or a br-int port of ours, that no port asks for any more is removed.
 *
 * What it does not do: a server on a joined host has no workload, `exec` or web app from the
 * daemon, which reaches only its own machine (README, "On several machines").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serverNs } from '../linux/names.js';
import { listNamespaces } from '../linux/observe.js';
import { removeServerEtc, writeServerEtc } from '../linux/attach.js';
import { run, type Runner } from '../linux/run.js';
import { AGENT_LABELS, OWNER } from './nb.js';
import { asArray, decode, map, OvsdbClient, type Row } from './ovsdb.js';
import { plugLines, removeNsLine, tapOf, unplugLines, type ChassisPlace, type PlugSpec } from './plug.js';

export interface AgentOptions {
  /** This chassis's name (its OVS system-id). */
  name: string;
  /** The southbound database, as ovn-controller's ovn-remote (`tcp:IP:6642`). */
  sb: string;
  /** What the agent's namespaces are named with (`<prefix>-ecs-…`). */
  prefix: string;
  /** This host's Open_vSwitch database, or null for ovs-vsctl's default. */
  ovsDb: string | null;
  runner?: Runner;
}

/** A port the southbound asks this chassis to bind, made by Nimbus, as the agent plugs it (and its /etc/netns files: its name, its resolver). */
export type WantedPort = PlugSpec & { name: string; resolv?: string };

/** The ports of `rows` (Port_Binding rows) this agent plugs: asked for on `chassis`, made by Nimbus, with the agent's labels (pure). */
export function wantedPorts(rows: Row[], chassis: string, prefix: string): WantedPort[] {
  const out: WantedPort[] = [];
  for (const row of rows) {
    const options = decode(row.options) as Record<string, string>;
    const ids = decode(row.external_ids) as Record<string, string>;
    if (options?.['requested-chassis'] !== chassis || !ids?.[OWNER]) continue;
    const cidr = ids[AGENT_LABELS.cidr];
    const gateway = ids[AGENT_LABELS.gateway];
    const [mac] = String(asArray(decode(row.mac))[0] ?? '').split(' ');
    const id = String(row.logical_port);
    if (!cidr || !gateway || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) || !/^[a-z]+-[0-9a-f]+$/.test(id)) continue;
    // What comes from the database goes into shell text: only what a Nimbus port can hold passes.
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr) || !/^\d{1,3}(\.\d{1,3}){3}$/.test(gateway)) continue;
    // The name goes into files only (hostname, hosts), never into shell text; kept to a host name's characters.
    const name = (ids[AGENT_LABELS.name] ?? id).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
    const resolv = ids[AGENT_LABELS.resolv];
    out.push({ id, name, ns: serverNs(prefix, id), tap: tapOf(id), mac, cidr, gateway, ...(resolv !== undefined ? { resolv } : {}) });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface AgentObserved {
  /** This host's namespaces named like the agent's servers. */
  namespaces: string[];
  /** br-int's ports: name → iface-id. */
  ports: Map<string, string>;
}

export interface AgentPlan {
  plug: WantedPort[];
  /** Namespaces no port asks for any more. */
  removeNs: string[];
  /** br-int ports of the agent's that no port asks for any more. */
  unplug: string[];
}

/** What a pass changes (pure): a port plugged whole, or made again whole; what is left of one gone. */
export function agentPlan(wanted: WantedPort[], observed: AgentObserved, prefix: string): AgentPlan {
  const ns = new Set(observed.namespaces);
  const plug = wanted.filter((w) => !ns.has(w.ns) || observed.ports.get(w.tap) !== w.id);
  const wantedNs = new Set(wanted.map((w) => w.ns));
  const wantedTaps = new Set(wanted.map((w) => w.tap));
  return {
    plug,
    removeNs: observed.namespaces.filter((n) => n.startsWith(`${prefix}-ecs-`) && !wantedNs.has(n)),
    unplug: [...observed.ports.keys()].filter((tap) => /^t[0-9a-f]{12}$/.test(tap) && !wantedTaps.has(tap)),
  };
}

export class ChassisAgent {
  private sb: OvsdbClient | null = null;
  private readonly runner: Runner;
  private readonly at: ChassisPlace;

  constructor(private readonly o: AgentOptions) {
    this.runner = o.runner ?? run;
    this.at = { ns: null, ovsDb: o.ovsDb };
  }

  /** The Port_Binding rows asked for on this chassis. */
  private async bindings(): Promise<Row[]> {
    this.sb ??= await OvsdbClient.connect(this.o.sb);
    try {
      const [{ rows = [] }] = await this.sb.transact('OVN_Southbound', [
        {
          op: 'select',
          table: 'Port_Binding',
          where: [['options', 'includes', map({ 'requested-chassis': this.o.name })]],
          columns: ['logical_port', 'mac', 'options', 'external_ids'],
        },
      ]);
      return rows;
    } catch (err) {
      this.sb.close();
      this.sb = null;
      throw err;
    }
  }

  private async observe(): Promise<AgentObserved> {
    const namespaces = (await listNamespaces(this.runner)).filter((n) => n.startsWith(`${this.o.prefix}-ecs-`));
    const r = await this.runner('ovs-vsctl', [
      ...(this.o.ovsDb ? [`--db=${this.o.ovsDb}`] : []),
      '--timeout=10',
      '--format=csv',
      '--data=bare',
      '--no-headings',
      '--columns=name,external_ids',
      'find',
      'interface',
      'type=""',
    ]);
    if (r.code !== 0) throw new Error(`ovs-vsctl: ${(r.stderr || r.stdout).trim()}`);
    const ports = new Map<string, string>();
    for (const line of r.stdout.split('\n')) {
      const [name, ids = ''] = line.split(',');
      const m = /iface-id=([^ ",]+)/.exec(ids);
      if (name && m) ports.set(name, m[1]);
    }
    return { namespaces, ports };
  }

  /** One pass: what is asked for here read, compared with what is plugged, and made so. */
  async pass(): Promise<{ plugged: string[]; removed: string[]; errors: string[] }> {
    const wanted = wantedPorts(await this.bindings(), this.o.name, this.o.prefix);
    const plan = agentPlan(wanted, await this.observe(), this.o.prefix);
    const errors: string[] = [];
    const sh = async (lines: string[], what: string) => {
      const r = await this.runner('sh', ['-es'], { input: `${lines.join('\n')}\n`, timeoutMs: 30_000 });
      if (r.code !== 0) errors.push(`${what}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
      return r.code === 0;
    };
    const removed: string[] = [];
    for (const tap of plan.unplug) if (await sh(unplugLines(tap, this.at), `unplugging ${tap}`)) removed.push(tap);
    for (const ns of plan.removeNs)
      if (await sh([removeNsLine(ns)], `removing ${ns}`)) {
        removeServerEtc(ns);
        removed.push(ns);
      }
    const plugged: string[] = [];
    for (const w of plan.plug) if (await sh([removeNsLine(w.ns), ...plugLines(w, this.at)], `plugging ${w.name}`)) plugged.push(w.name);
    // Its /etc/netns files (what `ip netns exec` binds over /etc): written when they differ, so a VPC's DNS turned off or on follows.
    for (const w of wanted) writeServerEtc(w.ns, w.name, w.cidr.split('/')[0], w.resolv);
    return { plugged, removed, errors };
  }

  /** Passes every `intervalMs` until `signal` aborts; each change and error said on `log`. */
  async run(log: (line: string) => void, signal: AbortSignal, intervalMs = 2_000): Promise<void> {
    while (!signal.aborted) {
      try {
        const r = await this.pass();
        for (const p of r.plugged) log(`plugged ${p}`);
        for (const x of r.removed) log(`removed ${x}`);
        for (const e of r.errors) log(`error: ${e}`);
      } catch (err) {
        log(`error: ${(err as Error).message}`);
      }
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    }
    this.sb?.close();
  }
}
