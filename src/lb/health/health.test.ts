/**
 * The health state machine and the checker's schedule, with an injected clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthState } from './state.js';
import { HealthChecker, type CheckSpec, type Timers } from './checker.js';
import { codeMatcher } from './codes.js';

test('a member goes down after `fall` consecutive failures and up after `rise` successes', () => {
  const h = new HealthState(2, 3);
  const table: [boolean, string][] = [
    [false, 'UP'],
    [false, 'UP'],
    [true, 'UP'], // a success resets the failure streak
    [false, 'UP'],
    [false, 'UP'],
    [false, 'DOWN'],
    [true, 'DOWN'],
    [false, 'DOWN'],
    [true, 'DOWN'],
    [true, 'UP'],
  ];
  table.forEach(([ok, expected], i) => {
    h.record(ok);
    assert.equal(h.status, expected, `after check ${i + 1}`);
  });
});

class FakeClock implements Timers {
  now = 0;
  private queue: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  setTimeout(fn: () => void, ms: number) {
    const id = this.next++;
    this.queue.push({ at: this.now + ms, fn, id });
    return id;
  }
  clearTimeout(id: unknown) {
    this.queue = this.queue.filter((e) => e.id !== id);
  }
  /** Runs every timer due within `ms`, letting probes settle between them. */
  async advance(ms: number) {
    const end = this.now + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at);
      const e = this.queue[0];
      if (!e || e.at > end) break;
      this.queue.shift();
      this.now = e.at;
      e.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.now = end;
  }
}

const spec: CheckSpec = { type: 'TCP', delayMs: 5000, timeoutMs: 3000, rise: 2, fall: 3, urlPath: '/', expectedCodes: '200' };

test('the checker probes every delay and reports changes when thresholds are crossed', async () => {
  const clock = new FakeClock();
  let alive = true;
  const probes: number[] = [];
  const changes: string[] = [];
  const c = new HealthChecker(
    spec,
    async () => (probes.push(clock.now), alive),
    (id, s) => changes.push(`${clock.now} ${id} ${s}`),
    clock,
  );
  c.setTargets([{ id: 'm1', host: '127.0.0.1', port: 1 }]);
  await clock.advance(10_000);
  assert.deepEqual(probes, [0, 5000, 10000]);
  alive = false;
  await clock.advance(15_000); // failures at 15000, 20000, 25000
  assert.deepEqual(changes, ['25000 m1 DOWN']);
  assert.equal(c.status('m1'), 'DOWN');
  alive = true;
  await clock.advance(10_000); // successes at 30000, 35000
  assert.deepEqual(changes, ['25000 m1 DOWN', '35000 m1 UP']);
  c.setTargets([]);
  const before = probes.length;
  await clock.advance(20_000);
  assert.equal(probes.length, before, 'a removed member is no longer probed');
  c.stop();
});

test('expected codes accept single codes, lists and ranges', () => {
  const f = codeMatcher('200,202,300-302');
  assert.deepEqual([200, 201, 202, 299, 300, 302, 303].map(f), [true, false, true, false, true, true, false]);
});
