import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReconcileLoop } from './loop.js';
import type { ApplyResult, ObjectError, PassOptions, Reconciler } from './reconciler.js';

/** A reconciler over a plain map: desired is what `want` holds, the "machine" is `have`. */
class MapReconciler implements Reconciler<Map<string, number>, Map<string, number>, [string, number | null][], string> {
  readonly name = 'map';
  want = new Map<string, number>();
  have = new Map<string, number>();
  /** Objects whose apply fails, with the message. */
  failing = new Map<string, string>();
  passes: PassOptions[] = [];
  /** Called at the start of apply (lets a test hold a pass open). */
  onApply: () => Promise<void> = async () => undefined;
  requeueOnce = false;

  desired() {
    return new Map(this.want);
  }
  objects(d: Map<string, number>) {
    return d.keys();
  }
  async observe(_d: Map<string, number>, opts: PassOptions) {
    this.passes.push(opts);
    return new Map(this.have);
  }
  plan(d: Map<string, number>, o: Map<string, number>): [string, number | null][] {
    const out: [string, number | null][] = [];
    for (const [k, v] of d) if (o.get(k) !== v) out.push([k, v]);
    for (const k of o.keys()) if (!d.has(k)) out.push([k, null]);
    return out;
  }
  steps(p: [string, number | null][]) {
    return p.map(([k, v]) => `${k} ${v === null ? 'deleted' : 'set'}`);
  }
  async apply(p: [string, number | null][]): Promise<ApplyResult> {
    await this.onApply();
    const errors: ObjectError[] = [];
    const succeeded: string[] = [];
    for (const [k, v] of p) {
      const why = this.failing.get(k);
      if (why) errors.push({ resourceId: k, message: why });
      else {
        if (v === null) this.have.delete(k);
        else this.have.set(k, v);
        succeeded.push(k);
      }
    }
    const requeue = this.requeueOnce;
    this.requeueOnce = false;
    return { errors, succeeded, requeue };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('passes never overlap; requests during a pass make one more pass, not one each', async () => {
  const r = new MapReconciler();
  let running = 0;
  let maxRunning = 0;
  let release: () => void = () => undefined;
  r.onApply = async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise<void>((res) => (release = res));
    running--;
  };
  const loop = new ReconcileLoop(r);
  const first = loop.run();
  const asked = [loop.run(), loop.run(), loop.run()];
  await new Promise((res) => setImmediate(res));
  release();
  await first;
  await new Promise((res) => setImmediate(res));
  release();
  await Promise.all(asked);
  assert.equal(r.passes.length, 2);
  assert.equal(maxRunning, 1);
});

test('trigger coalesces a burst into one pass after the delay, and stop cancels it', async () => {
  const r = new MapReconciler();
  const loop = new ReconcileLoop(r, { debounceMs: 5 });
  for (let i = 0; i < 10; i++) loop.trigger();
  await sleep(30);
  assert.equal(r.passes.length, 1);
  loop.trigger();
  await loop.stop();
  await sleep(30);
  assert.equal(r.passes.length, 1);
});

test('after a long pass, a triggered pass waits at least gapFactor times as long as that pass took', async () => {
  const r = new MapReconciler();
  const starts: number[] = [];
  r.onApply = async () => {
    starts.push(performance.now());
    await sleep(80);
  };
  const loop = new ReconcileLoop(r, { debounceMs: 1, gapFactor: 2 });
  await loop.run();
  const asked = performance.now();
  loop.trigger();
  await sleep(120);
  assert.equal(starts.length, 1, 'no pass within 120 ms of the request, after an 80 ms pass');
  for (let i = 0; i < 200 && starts.length < 2; i++) await sleep(10);
  assert.equal(starts.length, 2, 'the triggered pass ran');
  assert.ok(starts[1] - asked >= 159, `it waited ${Math.round(starts[1] - asked)} ms`);
  await loop.stop();
});

test('a pass converges the machine, and the next plans nothing (idempotent)', async () => {
  const r = new MapReconciler();
  r.want.set('a', 1).set('b', 2);
  r.have.set('c', 3);
  const loop = new ReconcileLoop(r);
  const first = await loop.run();
  assert.deepEqual(first.steps.sort(), ['a set', 'b set', 'c deleted']);
  assert.deepEqual([...r.have].sort(), [
    ['a', 1],
    ['b', 2],
  ]);
  assert.deepEqual((await loop.run()).steps, []);
  assert.deepEqual(await loop.dryRun(), []);
  assert.equal(loop.converged(), true);
});

test('a dry run plans without applying', async () => {
  const r = new MapReconciler();
  r.want.set('a', 1);
  const loop = new ReconcileLoop(r);
  assert.deepEqual(await loop.dryRun(), ['a set']);
  assert.equal(r.have.size, 0);
  assert.deepEqual(r.passes, [{ full: true, apply: false }]);
});

test('errors are kept per object, retried with backoff, and cleared when the object succeeds', async () => {
  const r = new MapReconciler();
  r.want.set('a', 1).set('b', 2);
  r.failing.set('b', 'b is broken');
  const loop = new ReconcileLoop(r, { backoffBaseMs: 20, backoffMaxMs: 40 });
  const report = await loop.run();
  assert.deepEqual(report.errors, [{ resourceId: 'b', message: 'b is broken' }]);
  assert.deepEqual(loop.errors(), [{ resourceId: 'b', message: 'b is broken' }]);
  assert.equal(loop.converged(), false);
  assert.equal(r.have.get('a'), 1, 'the other object was applied');
  await sleep(100);
  assert.ok(r.passes.length >= 3, `retried by itself with backoff (${r.passes.length} passes)`);
  r.failing.clear();
  await sleep(80);
  assert.deepEqual(loop.errors(), []);
  assert.equal(r.have.get('b'), 2);
  const settledPasses = r.passes.length;
  await sleep(80);
  assert.equal(r.passes.length, settledPasses, 'no more retries once every object succeeded');
  await loop.stop();
});

test('an object that leaves the desired state takes its error with it', async () => {
  const r = new MapReconciler();
  r.want.set('b', 2);
  r.failing.set('b', 'b is broken');
  const loop = new ReconcileLoop(r, { backoffBaseMs: 10_000 });
  await loop.run();
  assert.equal(loop.errors().length, 1);
  r.want.delete('b');
  await loop.run();
  assert.deepEqual(loop.errors(), []);
  await loop.stop();
});

test('a pass that asks to requeue is followed at once by another, reported as one', async () => {
  const r = new MapReconciler();
  r.want.set('a', 1);
  r.requeueOnce = true;
  const loop = new ReconcileLoop(r);
  const report = await loop.run();
  assert.equal(r.passes.length, 2);
  assert.deepEqual(report.steps, ['a set']);
});

test('full passes run periodically once changes are quiet, and observe everything', async () => {
  const r = new MapReconciler();
  const loop = new ReconcileLoop(r, { resyncMs: 30, resyncMaxMs: 1_000 });
  loop.start();
  await sleep(100);
  await loop.stop();
  assert.ok(r.passes.length >= 1, 'a periodic pass ran');
  assert.ok(r.passes.every((p) => p.full && p.apply));
});

test('a pass that fails as a whole is an error of the reconciler, retried, then cleared', async () => {
  const r = new MapReconciler();
  let broken = true;
  r.observe = async (_d, opts) => {
    r.passes.push(opts);
    if (broken) throw new Error('cannot list namespaces');
    return new Map(r.have);
  };
  const loop = new ReconcileLoop(r, { backoffBaseMs: 10, backoffMaxMs: 10 });
  await loop.run();
  assert.deepEqual(loop.errors(), [{ resourceId: 'map', message: 'cannot list namespaces' }]);
  broken = false;
  await sleep(60);
  assert.deepEqual(loop.errors(), []);
  await loop.stop();
});

test('progress: a change seen while a pass runs is done only once a pass that began after it has finished', async () => {
  const r = new MapReconciler();
  const loop = new ReconcileLoop(r, { debounceMs: 1 });
  let release!: () => void;
  r.onApply = () => new Promise<void>((res) => (release = res));
  const first = loop.run();
  await new Promise((res) => setImmediate(res));
  r.want.set('a', 1);
  loop.trigger();
  const target = loop.progress().seen;
  r.onApply = async () => undefined;
  release();
  await first;
  assert.ok(loop.progress().done < target, 'the pass that was running had not read the change');
  await loop.settled();
  assert.ok(loop.progress().done >= target, 'a later pass took it in');
  assert.equal(r.have.get('a'), 1);
  await loop.stop();
});
