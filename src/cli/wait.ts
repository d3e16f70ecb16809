/**
 * `--wait`: commands that start asynchronous work wait until it is done. A load balancer's
 * parts wait until the load balancer is ACTIVE (its worker runs the new configuration); the
 * network's resources until the data plane has converged. Bounded by `--wait-timeout` (seconds), with
 * a spinner on a terminal; a timeout exits 1 with WaitTimeout.
 *
 * The network waits for *this* change, not for a quiet installation: the first look notes how
 * many changes the data plane had seen just after this one was stored, and the change is in
 * effect once a finished pass has taken that many in, with no error on the resource itself.
 * Other tenants' changes and errors, and passes that keep coming on a busy machine, do not
 * hold it up.
 */
import { Option, type Command } from 'commander';
import { ApiError, type NimbusClient } from '../client/client.js';

/** One look at the state waited for. */
export type Probe = (
  c: NimbusClient,
  result: unknown,
  memo: Record<string, unknown>,
) => Promise<{ done: boolean; what: string; state: string; /** The resource as it is now, when the probe read it. */ latest?: unknown }>;

const probes = new WeakMap<Command, Probe>();

/** Gives `cmd` --wait and --timeout, waiting with `probe`. */
export function waitable(cmd: Command, probe: Probe): void {
  cmd.option('--wait', 'wait until the change is in effect (load balancer ACTIVE, data plane converged)');
  cmd.addOption(new Option('--wait-timeout <seconds>', 'how long --wait waits').default(120).argParser((v) => Number(v)));
  probes.set(cmd, probe);
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Waits as `cmd` was asked to (nothing without --wait); resolves with the resource as it is once done, when the probe read it. */
export async function waitIfAsked(cmd: Command, c: NimbusClient, result: unknown): Promise<unknown> {
  const probe = probes.get(cmd);
  const o = cmd.opts<{ wait?: boolean; waitTimeout: number }>();
  if (!probe || !o.wait) return undefined;
  const tty = process.stderr.isTTY;
  const t0 = performance.now();
  const until = t0 + o.waitTimeout * 1000;
  let frame = 0;
  const memo: Record<string, unknown> = {};
  for (;;) {
    const p = await probe(c, result, memo);
    if (p.done) {
      if (tty) process.stderr.write(`\r\x1b[K✓ ${p.what}: ${p.state} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      return p.latest;
    }
    if (performance.now() > until) {
      if (tty) process.stderr.write('\r\x1b[K');
      throw new ApiError('WaitTimeout', `${p.what} is still ${p.state} after ${o.waitTimeout} s`, 0);
    }
    if (tty) process.stderr.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} waiting for ${p.what}: ${p.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** This change is on the machine: a pass that began after it finished, and the resource has no error (see above). */
export const converged: Probe = async (c, result, memo) => {
  const s = await c.status();
  const changes = s.dataplane.changes;
  const id = (result as { id?: unknown } | null)?.id;
  // The resource's own errors; with no resource (a file applied), every error this token may see (its project's).
  const own = s.dataplane.errors.filter((e) => id === undefined || e.resourceId === id);
  if (!changes) {
    // A data plane that does not count its changes: wait for it to be converged.
    const state = s.dataplane.converged ? 'converged' : s.dataplane.errors.length ? `not converged (${s.dataplane.errors[0].message})` : 'converging';
    return { done: s.dataplane.converged, what: `the ${s.dataplane.kind} data plane`, state };
  }
  const target = (memo.target ??= changes.seen) as number;
  const through = changes.done >= target;
  const state = own.length ? `not in effect (${own[0].message})` : through ? 'in effect' : 'on its way';
  return { done: through && own.length === 0, what: `the ${s.dataplane.kind} data plane`, state };
};

/** The load balancer a result belongs to is ACTIVE. */
export const lbActive: Probe = async (c, result) => {
  const r = result as { id: string; loadBalancerId?: string; poolId?: string; listenerId?: string };
  const lbId = r.id.startsWith('lb-')
    ? r.id
    : (r.loadBalancerId ?? (r.listenerId ? (await c.listeners.get(r.listenerId)).loadBalancerId : (await c.pools.get(r.poolId!)).loadBalancerId));
  const lb = await c.loadBalancers.get(lbId);
  return { done: lb.provisioningStatus === 'ACTIVE', what: `load balancer ${lb.name}`, state: lb.provisioningStatus, ...(r.id === lbId ? { latest: lb } : {}) };
};

/** The data plane has converged and every load balancer of the project is ACTIVE (a topology applied). */
export const settledAll: Probe = async (c, _result, memo) => {
  const plane = await converged(c, null, memo);
  if (!plane.done) return plane;
  const pending = (await c.loadBalancers.list()).find((lb) => lb.provisioningStatus !== 'ACTIVE');
  return pending ? { done: false, what: `load balancer ${pending.name}`, state: pending.provisioningStatus } : plane;
};
