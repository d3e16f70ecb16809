import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialLoop } from './serial-loop.js';

test('passes never overlap; requests during a pass make one more pass, not one each', async () => {
  let running = 0;
  let maxRunning = 0;
  let passes = 0;
  let release: () => void = () => undefined;
  const loop = new SerialLoop(async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    passes++;
    await new Promise<void>((r) => (release = r));
    running--;
  });
  const first = loop.run();
  const asked = [loop.run(), loop.run(), loop.run()];
  release();
  await first;
  await new Promise((r) => setImmediate(r));
  release();
  await Promise.all(asked);
  assert.equal(passes, 2);
  assert.equal(maxRunning, 1);
});

test('schedule coalesces a burst into one pass after the delay, and stop cancels it', async () => {
  let passes = 0;
  const loop = new SerialLoop(async () => void passes++, 5);
  for (let i = 0; i < 10; i++) loop.schedule();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(passes, 1);
  loop.schedule();
  loop.stop();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(passes, 1);
});

test('after a long pass, a scheduled pass waits at least twice as long as that pass took', async () => {
  const starts: number[] = [];
  const loop = new SerialLoop(async () => {
    starts.push(performance.now());
    await new Promise((r) => setTimeout(r, 80));
  }, 1);
  await loop.run();
  const asked = performance.now();
  loop.schedule();
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(starts.length, 1, 'no pass within 120 ms of the request, after an 80 ms pass');
  for (let i = 0; i < 200 && starts.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(starts.length, 2, 'the scheduled pass ran');
  assert.ok(starts[1] - asked >= 159, `it waited ${Math.round(starts[1] - asked)} ms`);
  loop.stop();
});
