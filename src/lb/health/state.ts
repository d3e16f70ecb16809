/**
 * The health state of one member: up after `rise` consecutive successes, down after `fall`
 * consecutive failures (HAProxy's and Octavia's thresholds). A member starts up, so a new
 * pool serves at once; a dead one is taken out after `fall` checks, and refused
 * connections are retried on another member meanwhile.
 */
export type Health = 'UP' | 'DOWN';

export class HealthState {
  status: Health = 'UP';
  private streak = 0;

  constructor(
    readonly rise: number,
    readonly fall: number,
  ) {}

  /** Records one check; returns true when the status changed. */
  record(ok: boolean): boolean {
    const towardsOther = (this.status === 'UP') !== ok;
    if (!towardsOther) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak >= (this.status === 'UP' ? this.fall : this.rise)) {
      this.status = this.status === 'UP' ? 'DOWN' : 'UP';
      this.streak = 0;
      return true;
    }
    return false;
  }
}
