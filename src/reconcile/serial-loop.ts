/**
 * Runs a reconcile pass one at a time: a request during a pass makes exactly one more pass
 * after it, however many requests came; `schedule()` waits a moment first so a burst of
 * changes costs one pass. Level-based reconcilers need nothing more.
 *
 * The wait is at least twice as long as the last pass took: a pass that reads a big store (the
 * load balancers' may compile the whole topology, synchronously) then takes at most about a
 * third of the daemon's time during a long burst of changes, not all of it.
 */
export class SerialLoop {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastMs = 0;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly delayMs = 20,
  ) {}

  /** A pass soon (after the delay), coalescing with others asked for meanwhile. */
  schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run().catch(() => undefined);
    }, Math.max(this.delayMs, 2 * this.lastMs));
  }

  /** A pass now, or right after the one running; resolves when a pass that began after this call ends. */
  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running.then(() => (this.running ? this.running : undefined));
    }
    const t0 = performance.now();
    this.running = this.pass().finally(() => {
      this.lastMs = performance.now() - t0;
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.run().catch(() => undefined);
      }
    });
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
