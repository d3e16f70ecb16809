/**
 * Property-based fuzzing of every operation of the OpenAPI document (fast-check), bounded in
 * count and time: whatever a caller sends, the daemon answers no 5xx, every refusal is the
 * catalogue's {code, message}, a refused request changes no state, and the daemon stays up.
 * Fixed seed under CI (NIMBUS_FUZZ_SEED to replay), random by hand.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ERROR_CATALOGUE } from '../../src/core/errors.js';

const RUNS = Number(process.env.NIMBUS_FUZZ_RUNS ?? 300);
const SEED = process.env.NIMBUS_FUZZ_SEED ? Number(process.env.NIMBUS_FUZZ_SEED) : process.env.CI ? 42 : undefined;
let t: TestDaemon;
let ops: [string, string][];

before(async () => {
  t = await testDaemon();
  const c = t.client;
  await c.vpcs.create({ name: 'vpc-a', cidr: '10.10.0.0/16' });
  await c.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '10.10.1.0/24' });
  await c.servers.create({ name: 'ecs-a', subnet: 'sub-a' });
  const doc = (await (await fetch(`${t.daemon.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  ops = Object.entries(doc.paths).flatMap(([path, m]) => Object.keys(m).map((x): [string, string] => [x.toUpperCase(), path]));
});
after(async () => {
  await t?.close();
});

/** Everything the daemon holds, to compare before and after a refused request. */
async function state(): Promise<string> {
  const c = t.client;
  const lists = await Promise.all([
    c.vpcs.list(),
    c.subnets.list(),
    c.servers.list(),
    c.securityGroups.list(),
    c.routeTables.list(),
    c.peerings.list(),
    c.loadBalancers.list(),
    c.listeners.list(),
    c.pools.list(),
    c.members.list(),
    c.healthMonitors.list(),
    c.projects.list(),
    c.tokens.list(),
  ]);
  // Live fields (provisioning, member health) change by themselves: compare ids and names.
  return JSON.stringify(lists.map((l) => (l as { id: string; name: string }[]).map((x) => `${x.id}:${x.name}`).sort()));
}

const ref = fc.oneof(fc.constantFrom('vpc-a', 'sub-a', 'ecs-a', 'default', 'nosuch', '', '%ZZ', '..', 'vpc-0000000000000000'), fc.string({ maxLength: 40 }));
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 30 }),
    fc.constantFrom('10.10.1.5', '012.0.0.0/16', '0.0.0.0/0', 'web', 'http', 'TCP', 'ingress', 'round_robin', '-1', '1e9', 'sub-a', 'vpc-a'),
    fc.integer({ min: -70000, max: 70000 }),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom('name', 'cidr', 'vpc', 'subnet', 'ip', 'port', 'protocol', 'pool', 'server', 'address', 'destination', 'target', 'x'),
      tie('v'),
      { maxKeys: 4 },
    ),
  ),
})).v;

test('no input makes a 5xx, every refusal is a catalogue code, and a refused request changes nothing', async () => {
  const auth = t.auth.authorization;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), ref, ref, value, async (i, r1, r2, body) => {
      const [method, path] = ops[i % ops.length];
      const url = `${t.daemon.url}${path.replace('{ref}', encodeURIComponent(r1)).replace('{ruleId}', encodeURIComponent(r2))}`;
      const mutating = method !== 'GET';
      const before = mutating ? await state() : '';
      const res = await fetch(url, {
        method,
        headers: { authorization: auth, ...(body !== undefined && method !== 'GET' && method !== 'DELETE' ? { 'content-type': 'application/json' } : {}) },
        body: method !== 'GET' && method !== 'DELETE' ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      assert.ok(res.status < 500, `${method} ${url} ${JSON.stringify(body)} -> ${res.status} ${text}`);
      if (res.status >= 400) {
        const err = JSON.parse(text) as { code: string; message: string };
        assert.ok(err.code in ERROR_CATALOGUE, `${method} ${path}: '${err.code}' is not in the catalogue`);
        assert.equal(typeof err.message, 'string');
        if (mutating) assert.equal(await state(), before, `${method} ${url} was refused (${err.code}) but changed state`);
      }
    }),
    { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: 60_000, endOnFailure: true },
  );
  assert.equal((await fetch(`${t.daemon.url}/healthz`)).status, 200, 'the daemon is still up');
});
