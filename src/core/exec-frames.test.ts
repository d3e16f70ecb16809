import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Frame, FrameReader, MAX_FRAME, frame } from './exec-frames.js';

test('frames survive any split of the stream', () => {
  const bytes = Buffer.concat([frame(Frame.Stdout, 'hello'), frame(Frame.Stderr, ''), frame(Frame.Exit, '3')]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const got: [Frame, string][] = [];
    const r = new FrameReader((k, p) => got.push([k, p.toString()]));
    r.push(bytes.subarray(0, cut));
    r.push(bytes.subarray(cut));
    assert.deepEqual(got, [
      [Frame.Stdout, 'hello'],
      [Frame.Stderr, ''],
      [Frame.Exit, '3'],
    ]);
  }
});

test('a frame over the limit is refused', () => {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(MAX_FRAME + 1, 1);
  assert.throws(() => new FrameReader(() => undefined).push(header), /over the limit/);
});
