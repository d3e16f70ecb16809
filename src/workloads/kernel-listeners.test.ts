/**
 * The kernel listeners' reconciler with a recording runner: the order of its commands and
 * when it says a load balancer is still pending. (The rules themselves are tested against the
 * kernel in test/contract/tcp-listener.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadBalancer } from '../core/model/index.js';
import type { RunOptions, RunResult } from '../dataplane/linux/run.js';
import { KernelListeners, type KernelWant } from './kernel-listeners.js';

const LB = 'lb-0123456789abcdef';

function recording() {
  const calls: string[] = [];
  const runner = async (cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> => {
    const input = opts.input ?? '';
    const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '', timedOut: false });
    if (cmd === 'ip' && args[0] === 'netns') {
      // Observing a namespace: no table yet, no public link, forwarding on.
      if (input.includes('nft -j list table')) return ok('{}\n@@\n[]\n@@\n1\n');
      calls.push(`ns: ${input.includes('delete table') ? 'delete rules' : 'rules'}`);
      return ok();
    }
    if (cmd === 'ip' && args.includes('addr')) return ok('[]');
    if (cmd === 'nft' && args[0] === 'list') return { code: 1, stdout: '', stderr: 'no table', timedOut: false };
    if (cmd === 'nft' && args[0] === '-f') {
      calls.push(`host: ${input.includes(':82 ') || input.includes('. 82 :') ? 'public port 82' : 'no entries'}`);
      return ok();
    }
    if (cmd === 'sh') {
      calls.push('public link');
      return ok();
    }
    return ok();
  };
  return { calls, runner };
}

const want = (): Map<string, KernelWant> =>
  new Map([
    [
      LB,
      {
        lb: { id: LB, vip: '10.0.0.10', publicIp: '127.0.1.9' } as LoadBalancer,
        listeners: [
          {
            listener: { id: 'listener-1', protocol: 'TCP', port: 82, poolId: 'pool-1', bind: ['10.0.0.10'] },
            pool: {
              id: 'pool-1',
              algorithm: 'ROUND_ROBIN',
              persistence: null,
              health: null,
              members: [{ id: 'member-1', host: '10.0.0.5', port: 8080, weight: 1, enabled: true }],
            },
          },
        ],
        fronts: [],
      },
    ],
  ]);

test('a public port points at a namespace only once its rules are in, and stops before they go', async () => {
  const { calls, runner } = recording();
  const k = new KernelListeners(
    't9',
    () => ({}),
    async () => {},
    runner,
  );

  k.update(want());
  assert.equal(k.pending(LB), true, 'asked, not yet applied');
  await k.reconcileLoop.run();
  assert.deepEqual(calls, ['public link', 'ns: rules', 'host: public port 82'], 'the namespace first, then the host points at it');
  assert.equal(k.pending(LB), false);

  calls.length = 0;
  k.update(new Map());
  assert.equal(k.pending(LB), true, 'its rules are still there: not done until they are gone');
  await k.reconcileLoop.run();
  assert.deepEqual(calls, ['host: no entries', 'ns: delete rules'], 'the host stops sending first, then the rules go');
  assert.equal(k.pending(LB), false);
  await k.stop();
});
