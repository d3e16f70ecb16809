/**
 * Active health checks: every `delay` a probe (TCP connect, or HTTP GET of a path with
 * expected codes) with a `timeout`; results feed each member's HealthState. The clock and
 * the probe are passed in, so the schedule is tested without waiting.
 */
import { HealthState, type Health } from './state.js';

export interface CheckSpec {
  type: 'TCP' | 'HTTP';
  delayMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  urlPath: string;
  expectedCodes: string;
}

export interface Target {
  id: string;
  host: string;
  port: number;
}

export type Probe = (target: Target, spec: CheckSpec) => Promise<boolean>;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export class HealthChecker {
  private readonly states = new Map<string, HealthState>();
  private readonly timers = new Map<string, unknown>();
  private stopped = false;

  constructor(
    private readonly spec: CheckSpec,
    private readonly probe: Probe,
    private readonly onChange: (id: string, status: Health) => void,
    private readonly clock: Timers = globalThis as unknown as Timers,
  ) {}

  status(id: string): Health {
    return this.states.get(id)?.status ?? 'UP';
  }

  /** Starts checking the targets not yet checked, and stops checking those gone. */
  setTargets(targets: Target[]): void {
    const ids = new Set(targets.map((t) => t.id));
    for (const [id, h] of this.timers) {
      if (!ids.has(id)) {
        this.clock.clearTimeout(h);
        this.timers.delete(id);
        this.states.delete(id);
      }
    }
    for (const t of targets) {
      if (this.timers.has(t.id)) continue;
      this.states.set(t.id, new HealthState(this.spec.rise, this.spec.fall));
      this.schedule(t, 0);
    }
  }

  private schedule(t: Target, ms: number): void {
    if (this.stopped) return;
    this.timers.set(
      t.id,
      this.clock.setTimeout(() => void this.run(t), ms),
    );
  }

  private async run(t: Target): Promise<void> {
    let ok = false;
    try {
      ok = await this.probe(t, this.spec);
    } catch {
      ok = false;
    }
    const state = this.states.get(t.id);
    if (!state || this.stopped) return;
    if (state.record(ok)) this.onChange(t.id, state.status);
    this.schedule(t, this.spec.delayMs);
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.timers.values()) this.clock.clearTimeout(h);
    this.timers.clear();
  }
}
