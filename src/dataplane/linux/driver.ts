/**
 * The linux data plane: converges the machine to the stored state, level-based.
 *
 * A pass reads the desired state, lists the namespaces, creates the missing ones and
 * deletes ours that nothing names (one `ip -batch` on the host), then observes and plans
 * each namespace (routers first: they make the veths that servers then configure) and
 * applies each plan in one process. A change in the store asks for a pass; a periodic pass
 * observes everything and so repairs drift. A namespace that fails is retried with backoff
 * and its error is shown in the status until it succeeds.
 */
import { NimbusError } from '../../core/errors.js';
import type { Store } from '../../store/db.js';
import type { ChangeFeed } from '../../resources/context.js';
import type { Server } from '../../resources/model.js';
import { readSnapshot } from '../../resources/snapshot.js';
import type { Dataplane, DataplaneStatus, ExecOutcome, PingOutcome, Placement } from '../driver.js';
import { desiredState, type NsSpec } from './desired.js';
import { listNamespaces, observe, type Observed } from './observe.js';
import { planNamespace, type Step } from './plan.js';
import { owned, serverNs } from './names.js';
import { inNamespace, pool, run } from './run.js';
import { nftScript } from './nft.js';

/**
 * A full pass (every namespace observed, so drift is repaired) this often, once changes have
 * been quiet that long: a full pass in the middle of building hundreds of namespaces would
 * observe them all again for nothing. During endless changes, one at least every minute.
 */
const RESYNC_MS = 10_000;
const RESYNC_MAX_MS = 60_000;
/** Processes replacing rulesets at once (their time is mostly the kernel's grace period). */
const RULESET_PROCESSES = 8;
const CONCURRENCY = 12;

export interface PassReport {
  steps: Step[];
  errors: { resourceId: string; message: string }[];
  /** Some namespace waited for a link that another namespace made during this pass. */
  waiting: boolean;
  ms: number;
}

/** What a namespace made in this pass holds: loopback (down) and, for a server, the eth0 its router just made. */
function freshNamespace(role: NsSpec['role']): Observed {
  const links: Observed['links'] = new Map([['lo', { kind: null, up: false, master: null }]]);
  if (role === 'server') links.set('eth0', { kind: 'veth', up: false, master: null });
  return { links, addrs: new Set(), routes: new Map(), rules: [], sysctl: '', nftHash: null };
}

/** Whether two specs of a namespace differ in their nftables ruleset and nothing else. */
function onlyNftDiffers(appliedText: string, spec: NsSpec): boolean {
  const before = JSON.parse(appliedText) as NsSpec;
  if (before.nftHash === spec.nftHash) return false;
  return JSON.stringify({ ...before, nft: '', nftHash: '' }) === JSON.stringify({ ...spec, nft: '', nftHash: '' });
}

export class LinuxDataplane implements Dataplane {
  readonly kind = 'linux' as const;
  private store?: Store;
  private running: Promise<PassReport> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private resync: NodeJS.Timeout | null = null;
  private stopped = false;
  private errors = new Map<string, { resourceId: string; message: string; failures: number }>();
  private lastPass: PassReport | null = null;
  /** Spec text last applied with success, per namespace: a pass for a change skips the unchanged. */
  private applied = new Map<string, string>();
  private full = true;
  private lastChange = 0;
  private lastFull = 0;
  private readonly onChange = () => {
    this.lastChange = performance.now();
    this.schedule(10);
  };

  constructor(
    readonly prefix: string,
    private readonly reason: string,
  ) {}

  async start(store: Store, feed: ChangeFeed): Promise<void> {
    this.store = store;
    feed.on('change', this.onChange);
    await this.sync();
    this.resync = setInterval(() => {
      const now = performance.now();
      if (now - this.lastChange < RESYNC_MS && now - this.lastFull < RESYNC_MAX_MS) return;
      this.full = true;
      this.schedule(0);
    }, RESYNC_MS);
    this.resync.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resync) clearInterval(this.resync);
    await this.running?.catch(() => undefined);
  }

  status(): DataplaneStatus {
    const errors = [...this.errors.values()].map(({ resourceId, message }) => ({ resourceId, message }));
    return { kind: 'linux', reason: `${this.reason}; prefix '${this.prefix}'`, errors, converged: errors.length === 0 && this.lastPass !== null && !this.running };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.converge(false).catch(() => undefined);
    }, delayMs);
  }

  /** A full pass now, every namespace observed (drift repaired), and its report. */
  sync(): Promise<PassReport> {
    return this.converge(true);
  }

  /** Runs a pass now (or waits for the running one and runs another), and reports it. */
  private async converge(full: boolean): Promise<PassReport> {
    if (full) this.full = true;
    if (this.running) {
      this.again = true;
      await this.running.catch(() => undefined);
      if (this.running) return this.running;
    }
    this.running = this.passes();
    try {
      const report = await this.running;
      this.lastPass = report;
      return report;
    } finally {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.schedule(0);
      } else if (this.errors.size > 0 && !this.stopped) {
        const worst = Math.max(...[...this.errors.values()].map((e) => e.failures));
        this.schedule(Math.min(200 * 2 ** (worst - 1), 10_000));
      }
    }
  }

  /** A pass, and up to two more at once when a namespace waited for a link another one makes. */
  private async passes(): Promise<PassReport> {
    const full = this.full;
    this.full = false;
    if (full) this.lastFull = performance.now();
    let report = await this.pass(true, full);
    for (let i = 0; i < 2 && report.waiting; i++) {
      const next = await this.pass(true, false);
      report = { ...next, steps: [...report.steps, ...next.steps], ms: report.ms + next.ms };
    }
    return report;
  }

  /** What a pass would change, without changing anything. */
  async plan(): Promise<Step[]> {
    return (await this.pass(false, true)).steps;
  }

  /** One pass; unless `full`, namespaces whose spec is what was last applied are not observed. */
  private async pass(apply: boolean, full: boolean): Promise<PassReport> {
    const t0 = performance.now();
    const desired = desiredState(readSnapshot(this.store!), this.prefix);
    const existing = new Set((await listNamespaces()).filter((n) => owned(this.prefix, n)));
    const steps: Step[] = [];
    const hostBatch: string[] = [];
    for (const name of desired.namespaces.keys()) {
      if (!existing.has(name)) {
        hostBatch.push(`netns add ${name}`);
        steps.push({ ns: name, object: 'namespace', action: 'created' });
      }
    }
    for (const name of existing) {
      if (!desired.namespaces.has(name)) {
        hostBatch.push(`netns del ${name}`);
        steps.push({ ns: name, object: 'namespace', action: 'deleted' });
      }
    }
    const errors: PassReport['errors'] = [];
    if (apply && hostBatch.length > 0) {
      const r = await run('ip', ['-force', '-batch', '-'], { input: hostBatch.join('\n') + '\n' });
      if (r.code !== 0) errors.push({ resourceId: 'host', message: `ip netns: ${r.stderr.trim()}` });
    }
    const specs = [...desired.namespaces.values()];
    const nftOnly: { spec: NsSpec; text: string }[] = [];
    /** Server namespaces made in this pass whose eth0 their router has just created. */
    const freshEth0 = new Set<string>();
    const seenResources = new Set<string>();
    let waiting = false;
    for (const role of ['router', 'server'] as const) {
      await pool(
        specs.filter((s) => s.role === role),
        CONCURRENCY,
        async (spec: NsSpec) => {
          seenResources.add(spec.resourceId);
          const text = JSON.stringify(spec);
          const before = this.applied.get(spec.name);
          if (!full && existing.has(spec.name) && before === text) return;
          if (apply && !full && existing.has(spec.name) && before !== undefined && onlyNftDiffers(before, spec)) {
            // A group's membership changed: the ruleset alone is replaced, in one batch below.
            nftOnly.push({ spec, text });
            steps.push({ ns: spec.name, object: 'nftables ruleset', action: 'updated' });
            return;
          }
          try {
            // A namespace made in this pass holds only what this pass put there: no need to look.
            const fresh = apply && !existing.has(spec.name) && (spec.role === 'router' || freshEth0.has(spec.name));
            const observed = fresh ? freshNamespace(spec.role) : existing.has(spec.name) || apply ? await observe(spec.name) : undefined;
            const plan = planNamespace(spec, observed);
            steps.push(...plan.steps);
            waiting ||= plan.waiting;
            if (apply && plan.script) {
              const r = await inNamespace(spec.name, plan.script);
              if (r.code !== 0) throw new Error(`applying ${spec.name}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join('; ')}`);
              for (const l of spec.create) {
                if (l.peer?.name === 'eth0' && plan.steps.some((st) => st.object === `veth ${l.name}` && st.action === 'created')) freshEth0.add(l.peer.ns);
              }
            }
            this.errors.delete(spec.resourceId);
            if (apply && !plan.waiting) this.applied.set(spec.name, text);
            else this.applied.delete(spec.name);
          } catch (err) {
            this.applied.delete(spec.name);
            const prev = this.errors.get(spec.resourceId);
            const message = (err as Error).message;
            if (apply) this.errors.set(spec.resourceId, { resourceId: spec.resourceId, message, failures: (prev?.failures ?? 0) + 1 });
            errors.push({ resourceId: spec.resourceId, message });
          }
        },
      );
    }
    if (nftOnly.length > 0) await this.applyRulesets(nftOnly, errors);
    for (const id of this.errors.keys()) if (!seenResources.has(id)) this.errors.delete(id);
    for (const name of this.applied.keys()) if (!desired.namespaces.has(name)) this.applied.delete(name);
    return { steps, errors, waiting, ms: performance.now() - t0 };
  }

  settled(): Promise<void> {
    return this.settle();
  }

  /** Processes run inside the endpoint's namespace and listen on all its addresses. */
  placement(endpoint: Server): Placement {
    const ns = serverNs(this.prefix, endpoint.id);
    return { wrap: (argv) => ['ip', 'netns', 'exec', ns, ...argv], bind: '0.0.0.0', ownsPrivateIp: true };
  }

  /**
   * Replaces the rulesets of many namespaces, several namespaces per process and several
   * processes at once: when a group's membership changes, every member's ruleset changes and
   * nothing else does. Replacing a table waits for the kernel's grace period (about 12 ms,
   * little of it CPU), so the processes run side by side. A failure sends those namespaces
   * through the full observe-and-plan path in the next pass.
   */
  private async applyRulesets(items: { spec: NsSpec; text: string }[], errors: PassReport['errors']): Promise<void> {
    const per = Math.max(4, Math.ceil(items.length / RULESET_PROCESSES));
    const chunks: (typeof items)[] = [];
    for (let i = 0; i < items.length; i += per) chunks.push(items.slice(i, i + per));
    await pool(chunks, RULESET_PROCESSES, async (chunk) => {
      const script = chunk
        .map(({ spec }) => `ip netns exec ${spec.name} nft -f - <<'NIMBUS_EOF'\n${nftScript(spec.nft, spec.nftHash)}NIMBUS_EOF`)
        .join('\n');
      const r = await run('sh', ['-es'], { input: script + '\n', timeoutMs: 60_000 });
      for (const { spec, text } of chunk) {
        if (r.code === 0) this.applied.set(spec.name, text);
        else this.applied.delete(spec.name);
      }
      if (r.code !== 0) {
        this.again = true;
        errors.push({ resourceId: chunk[0].spec.resourceId, message: `replacing rulesets: ${r.stderr.trim().split('\n').slice(-2).join('; ')}` });
      }
    });
  }

  /** Waits until the changes made so far are on the machine. */
  private async settle(): Promise<void> {
    for (let i = 0; i < 5 && (this.timer || this.running || this.again); i++) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      this.again = false;
      await this.converge(false);
    }
  }

  private async inServer(server: Server, argv: string[], timeoutMs: number) {
    await this.settle();
    return run('ip', ['netns', 'exec', serverNs(this.prefix, server.id), ...argv], { timeoutMs });
  }

  async ping(server: Server, destination: string, count: number): Promise<PingOutcome> {
    const r = await this.inServer(server, ['ping', '-n', '-c', String(count), '-i', '0.2', '-W', '1', destination], 5_000 + count * 1_500);
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    const received = m ? Number(m[2]) : 0;
    return { reachable: received > 0, transmitted: m ? Number(m[1]) : count, received, output: r.stdout + r.stderr };
  }

  async exec(server: Server, argv: string[]): Promise<ExecOutcome> {
    if (argv.length === 0) throw new NimbusError('InvalidParameterValue', 'argv: a command is required');
    const r = await this.inServer(server, argv, 60_000);
    return { code: r.timedOut ? 124 : r.code, stdout: r.stdout, stderr: r.stderr + (r.timedOut ? '\nnimbus: command killed after 60 s\n' : '') };
  }

  async probe(server: Server, destination: string, protocol: 'icmp' | 'tcp' | 'udp', port?: number): Promise<{ reachable: boolean; output: string }> {
    if (protocol === 'icmp') {
      const r = await this.ping(server, destination, 1);
      return { reachable: r.reachable, output: r.output };
    }
    if (protocol === 'udp') throw new NimbusError('Dataplane.Unavailable', 'a real udp probe cannot tell a drop from silence; only icmp and tcp are probed');
    return tcpProbe((argv, ms) => this.inServer(server, argv, ms), destination, port!);
  }
}

/**
 * A TCP connect from inside a server: an answer (connected, or refused by the host) means
 * the network carried the SYN and its reply; silence until the timeout means it did not.
 */
export async function tcpProbe(
  runIn: (argv: string[], ms: number) => Promise<{ code: number; stdout: string; stderr: string }>,
  ip: string,
  port: number,
): Promise<{ reachable: boolean; output: string }> {
  const script = `exec 3<>/dev/tcp/${ip}/${port} && echo connected`;
  const r = await runIn(['timeout', '1', 'bash', '-c', script], 5_000);
  if (r.code === 0) return { reachable: true, output: `tcp ${ip}:${port}: connected\n` };
  if (/refused/i.test(r.stderr)) return { reachable: true, output: `tcp ${ip}:${port}: connection refused (the host answered; nothing listens)\n` };
  return { reachable: false, output: `tcp ${ip}:${port}: no answer within 1 s\n` };
}
