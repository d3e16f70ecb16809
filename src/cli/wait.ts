/**
 * `--wait`: commands that start asynchronous work wait until it is done. A load balancer's
 * parts wait until the load balancer is ACTIVE (its worker runs the new configuration); the
 * network's resources until the data plane has converged. Bounded by `--wait-timeout` (seconds), with
 * a spinner on a terminal; a timeout exits 1 with WaitTimeout.
 */
import { Option, type Command } from 'commander';
import { ApiError, type NimbusClient } from '../client/client.js';

/** One look at the state waited for. */
export type Probe = (c: NimbusClient, result: unknown) => Promise<{ done: boolean; what: string; state: string }>;

const probes = new WeakMap<Command, Probe>();

/** Gives `cmd` --wait and --timeout, waiting with `probe`. */
export function waitable(cmd: Command, probe: Probe): void {
  cmd.option('--wait', 'wait until the change is in effect (load balancer ACTIVE, data plane converged)');
  cmd.addOption(new Option('--wait-timeout <seconds>', 'how long --wait waits').default(120).argParser((v) => Number(v)));
  probes.set(cmd, probe);
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Waits as `cmd` was asked to (nothing without --wait). */
export async function waitIfAsked(cmd: Command, c: NimbusClient, result: unknown): Promise<void> {
  const probe = probes.get(cmd);
  const o = cmd.opts<{ wait?: boolean; waitTimeout: number }>();
  if (!probe || !o.wait) return;
  const tty = process.stderr.isTTY;
  const t0 = performance.now();
  const until = t0 + o.waitTimeout * 1000;
  let frame = 0;
  for (;;) {
    const p = await probe(c, result);
    if (p.done) {
      if (tty) process.stderr.write(`\r\x1b[K✓ ${p.what}: ${p.state} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      return;
    }
    if (performance.now() > until) {
      if (tty) process.stderr.write('\r\x1b[K');
      throw new ApiError('WaitTimeout', `${p.what} is still ${p.state} after ${o.waitTimeout} s`, 0);
    }
    if (tty) process.stderr.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} waiting for ${p.what}: ${p.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The data plane has converged (everything stored is on the machine). */
export const converged: Probe = async (c) => {
  const s = await c.status();
  const state = s.dataplane.converged ? 'converged' : s.dataplane.errors.length ? `not converged (${s.dataplane.errors[0].message})` : 'converging';
  return { done: s.dataplane.converged, what: `the ${s.dataplane.kind} data plane`, state };
};

/** The load balancer a result belongs to is ACTIVE. */
export const lbActive: Probe = async (c, result) => {
  const r = result as { id: string; loadBalancerId?: string; poolId?: string };
  const lbId = r.id.startsWith('lb-') ? r.id : (r.loadBalancerId ?? (await c.pools.get(r.poolId!)).loadBalancerId);
  const lb = await c.loadBalancers.get(lbId);
  return { done: lb.provisioningStatus === 'ACTIVE', what: `load balancer ${lb.name}`, state: lb.provisioningStatus };
};

/** The data plane has converged and every load balancer of the project is ACTIVE (a topology applied). */
export const settledAll: Probe = async (c) => {
  const plane = await converged(c, null);
  if (!plane.done) return plane;
  const pending = (await c.loadBalancers.list()).find((lb) => lb.provisioningStatus !== 'ACTIVE');
  return pending ? { done: false, what: `load balancer ${pending.name}`, state: pending.provisioningStatus } : plane;
};
