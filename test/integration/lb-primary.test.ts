/**
 * A load balancer's worker speaks the ipc.ts protocol: every configuration the daemon sends
 * carries a number, and `applied` answers with the newest applied. A primary (workers: 2)
 * that gets several in a row answers once, by the last: the daemon must see that number, or
 * it counts one configuration as never applied and the load balancer stays PENDING_UPDATE.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FromWorker, ToWorker } from '../../src/lb/ipc.js';
import type { EngineConfig } from '../../src/lb/config.js';

const dir = mkdtempSync(join(tmpdir(), 'nimbus-primary-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(workers: number): { child: ChildProcess; messages: FromWorker[] } {
  const child = fork(join(import.meta.dirname, '../../dist/runtime/lb-worker.js'), [join(dir, `access-${workers}.log`), '-', String(workers)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.push(child);
  const messages: FromWorker[] = [];
  child.on('message', (m: FromWorker) => messages.push(m));
  return { child, messages };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 30_000; !ok();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const config = (n: number): EngineConfig => ({
  listeners: [],
  pools: [{ id: `pool-${n}`, algorithm: 'ROUND_ROBIN', persistence: null, members: [], health: null }],
});

for (const workers of [1, 2]) {
  test(`${workers} worker(s): three configurations sent in a row are answered up to the last one's number`, async () => {
    const { child, messages } = start(workers);
    await until('ready', () => messages.some((m) => m.type === 'ready'));
    for (let seq = 1; seq <= 3; seq++) child.send({ type: 'config', config: config(seq), seq } satisfies ToWorker);
    await until('applied 3', () => messages.some((m) => m.type === 'applied' && m.seq === 3));
    const acks = messages.filter((m) => m.type === 'applied').map((m) => (m as { seq?: number }).seq);
    assert.ok(
      acks.every((s) => typeof s === 'number'),
      `every answer carries a number: ${JSON.stringify(acks)}`,
    );
    assert.deepEqual(
      [...acks].sort((a, b) => a! - b!),
      acks,
      'the numbers only grow',
    );
  });
}
