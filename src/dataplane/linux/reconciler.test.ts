/**
 * The Linux data plane's pass, driven with a fake command runner: what it runs on an empty
 * machine, that a second pass runs nothing, that a namespace whose script fails is an error of
 * its resource (and the others are applied), and that a removed resource's namespace goes.
 * The real kernel is exercised by test/netns/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryCloud } from '../../../test/helpers/cloud.js';
import { createVpc } from '../../resources/vpc/service.js';
import { createSubnet } from '../../resources/subnet/service.js';
import { createServer, deleteServer, updateServer } from '../../resources/server/service.js';
import { createSecurityGroup } from '../../resources/security-group/service.js';
import { ReconcileLoop } from '../../reconcile/loop.js';
import { LinuxReconciler } from './reconciler.js';
import { serverNs } from './names.js';
import type { RunOptions, RunResult } from './run.js';

/** A machine of namespaces that records every command; scripts of namespaces in `failing` exit 1. */
class FakeMachine {
  namespaces = new Set<string>();
  calls: { cmd: string; args: string[]; input: string }[] = [];
  failing = new Set<string>();

  runner = async (cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> => {
    const input = opts.input ?? '';
    this.calls.push({ cmd, args, input });
    const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '', timedOut: false });
    if (cmd === 'ip' && args.join(' ') === '-j netns list') return ok(JSON.stringify([...this.namespaces].map((name) => ({ name }))));
    if (cmd === 'ip' && args[0] === '-force' && args[1] === '-batch') {
      for (const line of input.trim().split('\n')) {
        const [, verb, name] = line.split(' ');
        if (verb === 'add') this.namespaces.add(name);
        else this.namespaces.delete(name);
      }
      return ok();
    }
    if (cmd === 'ip' && args[0] === 'netns' && args[1] === 'exec') {
      const ns = args[2];
      if (!this.namespaces.has(ns)) return { code: 1, stdout: '', stderr: `Cannot open network namespace "${ns}"`, timedOut: false };
      if (this.failing.has(ns)) return { code: 1, stdout: '', stderr: 'RTNETLINK answers: File exists', timedOut: false };
      return ok();
    }
    if (cmd === 'sh') return ok();
    if (cmd === 'python3') {
      // The batched reader (observe-many.ts): an empty namespace for each that exists.
      const names = JSON.parse(args.at(-1)!) as string[];
      const line = (ns: string) =>
        this.namespaces.has(ns)
          ? JSON.stringify({ ns, links: [], addrs: [], routes: [], rules: [], sysctl: '', nft: '' })
          : JSON.stringify({ ns, error: `reading ${ns}: No such file or directory` });
      return ok(names.map(line).join('\n') + '\n');
    }
    throw new Error(`unexpected command ${cmd} ${args.join(' ')}`);
  };

  /** Servers' machines: made as a namespace of the fake. */
  made: string[] = [];
  unmade: string[] = [];
  machines = {
    exists: (ns: string) => this.namespaces.has(ns),
    create: async (ns: string) => {
      this.made.push(ns);
      this.namespaces.add(ns);
    },
    remove: async (ns: string) => void this.unmade.push(ns),
  };

  /** Namespaces that got a script, in order. */
  scripted(): string[] {
    return this.calls.filter((c) => c.cmd === 'ip' && c.args[1] === 'exec').map((c) => c.args[2]);
  }
}

function lab() {
  const cloud = memoryCloud();
  const { ctx } = cloud;
  createVpc(ctx, { name: 'vpc-a', cidr: '192.168.6.0/24' });
  createSubnet(ctx, { name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
  createServer(ctx, { name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76' });
  createServer(ctx, { name: 'ecs-b', subnet: 'sub-a', ip: '192.168.6.77' });
  const machine = new FakeMachine();
  const reconciler = new LinuxReconciler(cloud.store, 'nbtest', machine.runner, machine.machines);
  return { ...cloud, machine, reconciler, loop: new ReconcileLoop(reconciler, { backoffBaseMs: 60_000 }) };
}

test("a pass on an empty machine makes the routers' namespaces in one host batch and each server's machine, then scripts each, routers first", async () => {
  const { machine, loop } = lab();
  const report = await loop.run();
  assert.deepEqual(report.errors, []);
  const batch = machine.calls.find((c) => c.args[1] === '-batch')!;
  assert.equal(batch.input.trim().split('\n').length, 1, 'one router');
  assert.equal(machine.made.length, 2, 'two servers, each a machine of its own');
  assert.ok(machine.made.every((ns) => ns.startsWith('nbtest-ecs-')));
  assert.ok(batch.input.split('\n').every((l) => l === '' || l.startsWith('netns add nbtest-')));
  const scripted = machine.scripted();
  assert.equal(scripted.length, 3);
  assert.match(scripted[0], /^nbtest-vpc-/, 'the router first: it makes the veths the servers configure');
  const routerScript = machine.calls.find((c) => c.args[2] === scripted[0])!.input;
  assert.match(routerScript, /192\.168\.6\.1\/25/, "the subnet's gateway is on the router's bridge");
  for (const ns of scripted.slice(1)) assert.match(ns, /^nbtest-ecs-/);
  assert.ok(report.steps.some((s) => s.object === 'namespace' && s.action === 'created'));
  assert.equal(report.steps.filter((s) => s.object === 'machine' && s.action === 'created').length, 2);
  assert.equal(loop.converged(), true);
});

test('a second pass for a change that touched nothing runs no script (each pass is idempotent)', async () => {
  const { machine, loop } = lab();
  await loop.run();
  machine.calls = [];
  const again = await loop.run();
  assert.deepEqual(again.steps, []);
  assert.deepEqual(machine.scripted(), []);
  assert.deepEqual(
    machine.calls.map((c) => c.args.join(' ')),
    ['-j netns list'],
  );
});

test('a namespace whose script fails is an error of its resource; the others are applied', async () => {
  const { machine, loop, ctx } = lab();
  const ecsB = ctx.store.byName<{ id: string }>('server', ctx.projectId, 'ecs-b')!;
  machine.failing.add(serverNs('nbtest', ecsB.id));
  const report = await loop.run();
  assert.deepEqual(
    report.errors.map((e) => e.resourceId),
    [ecsB.id],
  );
  assert.match(report.errors[0].message, /File exists/);
  assert.deepEqual(
    loop.errors().map((e) => e.resourceId),
    [ecsB.id],
  );
  assert.equal(loop.converged(), false);
  assert.equal(machine.scripted().length, 3, 'the router and the other server were applied too');
  machine.failing.clear();
  machine.calls = [];
  await loop.run();
  assert.deepEqual([...new Set(machine.scripted())], [serverNs('nbtest', ecsB.id)], 'only the failed namespace is observed and tried again');
  assert.deepEqual(loop.errors(), [], 'and its error is cleared');
  await loop.stop();
});

test("a group's membership change replaces rulesets in one batch, without observing", async () => {
  const { machine, loop, ctx } = lab();
  await loop.run();
  createSecurityGroup(ctx, { name: 'web' });
  machine.calls = [];
  updateServer(ctx, 'ecs-b', { securityGroups: ['web'] });
  const report = await loop.run();
  assert.deepEqual(report.errors, []);
  assert.deepEqual(machine.scripted(), [], 'no namespace observed or scripted one by one');
  const batches = machine.calls.filter((c) => c.cmd === 'sh');
  assert.equal(batches.length, 1);
  assert.equal((batches[0].input.match(/nft -f -/g) ?? []).length, 2, 'both servers: ecs-b changed groups, ecs-a lost a fellow member');
  assert.deepEqual(
    report.steps.map((s) => s.object),
    ['nftables ruleset', 'nftables ruleset'],
  );
});

test("a deleted server's namespace is deleted", async () => {
  const { machine, loop, ctx } = lab();
  await loop.run();
  deleteServer(ctx, 'ecs-b');
  const report = await loop.run();
  assert.equal(machine.namespaces.size, 2);
  assert.ok(report.steps.some((s) => s.object === 'machine' && s.action === 'deleted'));
  assert.equal(machine.unmade.length, 1, 'its user and uts namespaces go too');
});

test('a dry run lists what a pass would make and runs nothing but the listing', async () => {
  const { machine, loop } = lab();
  const steps = await loop.dryRun();
  assert.equal(steps.filter((s) => s.object === 'namespace' && s.action === 'created').length, 1);
  assert.equal(steps.filter((s) => s.object === 'machine' && s.action === 'created').length, 2);
  assert.deepEqual(
    machine.calls.map((c) => c.args.join(' ')),
    ['-j netns list'],
  );
  assert.equal(machine.namespaces.size, 0);
});
