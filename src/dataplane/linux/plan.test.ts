/**
 * The planner and the observer's parser, without a kernel: a namespace that holds exactly
 * its spec plans nothing; each difference becomes one step and one command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceLab } from '../../../test/helpers/cloud.js';
import { createPeering } from '../../resources/peering/service.js';
import { addRoute } from '../../resources/route-table/service.js';
import { readSnapshot } from '../../resources/snapshot.js';
import { desiredState, type NsSpec } from './desired.js';
import { parseObserved, routeKey, type Observed } from './observe.js';
import { planNamespace } from './plan.js';
import { peerAddresses } from './names.js';

/** What the kernel would show once `spec` is applied. */
function holding(spec: NsSpec): Observed {
  return {
    links: new Map(
      [...spec.create, ...spec.configure].map((l) => [l.name, { kind: null, up: l.up, master: ('master' in l ? (l.master ?? null) : null) as string | null }]),
    ),
    addrs: new Set(spec.addrs.map((a) => `${a.dev} ${a.cidr}`)),
    routes: new Map(spec.routes.map((r) => [routeKey(r), r])),
    rules: spec.rules.map((r) => ({ pref: 1000, ...r })),
    sysctl: spec.role === 'router' ? '1 0 0 0 0' : '',
    nftHash: spec.nftHash,
  };
}

function lab() {
  const { ctx, store } = referenceLab();
  createPeering(ctx, { name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
  addRoute(ctx, { vpc: 'vpc-a', destination: '192.168.5.0/24', target: 'pcx-ab' });
  return desiredState(readSnapshot(store), 'tx');
}

test('a namespace that holds its spec plans nothing', () => {
  for (const spec of lab().namespaces.values()) {
    const plan = planNamespace(spec, holding(spec));
    assert.deepEqual(plan.steps, [], spec.name);
    assert.equal(plan.script, '');
  }
});

test('a new namespace is planned whole; a missing veth and a stray route are mended', () => {
  const router = [...lab().namespaces.values()].find((s) => s.role === 'router' && s.create.some((l) => l.peer?.name !== 'eth0' && l.kind === 'veth'))!;
  const fresh = planNamespace(router, undefined);
  assert.ok(fresh.steps.some((s) => s.object === 'forwarding' && s.action === 'created'));
  assert.ok(fresh.steps.some((s) => s.object.startsWith('bridge b') && s.action === 'created'));
  assert.match(fresh.script, /nft -f -/);

  const o = holding(router);
  const peer = router.create.find((l) => l.kind === 'veth' && l.peer!.name !== 'eth0')!;
  o.links.delete(peer.name);
  o.routes.set('1234 10.9.0.0/16', { table: 1234, dst: '10.9.0.0/16', type: 'blackhole' });
  const plan = planNamespace(router, o);
  assert.deepEqual(
    plan.steps.map((s) => `${s.object} ${s.action}`),
    [`veth ${peer.name} created`, 'route 10.9.0.0/16 table 1234 deleted'],
  );
  assert.match(plan.script, new RegExp(`link add ${peer.name} type veth peer name ${peer.name} netns ${peer.peer!.ns}`));
  assert.match(plan.script, /route del blackhole 10\.9\.0\.0\/16 table 1234/);
});

test('peerings get distinct link-local blocks even when their ids hash alike', () => {
  const a = peerAddresses(['pcx-0000000100000000', 'pcx-0000400100000000']);
  const ips = [...a.values()].flatMap((p) => [p.requester, p.accepter]);
  assert.equal(new Set(ips).size, 4);
});

test('parses what ip prints as JSON', () => {
  const text = [
    '[{"ifname":"b1234abcd","flags":["UP"],"linkinfo":{"info_kind":"bridge"}},{"ifname":"v1234abcd","flags":[],"master":"b1234abcd"}]',
    '[{"ifname":"b1234abcd","addr_info":[{"family":"inet","local":"192.168.6.1","prefixlen":25},{"family":"inet6","local":"fe80::1","prefixlen":64}]}]',
    '[{"type":"unreachable","dst":"default","table":"50"},{"dst":"192.168.5.0/24","gateway":"169.254.0.2","dev":"p1","table":"1234","flags":["onlink"]},{"dst":"192.168.6.0/25","dev":"b1","table":"local"}]',
    '[{"priority":0,"src":"all","table":"local"},{"priority":1000,"src":"all","iif":"b1234abcd","table":"1234"}]',
    '1 0 0 ',
    'abcdef0123456789',
  ].join('@@nimbus@@');
  const o = parseObserved(text);
  assert.deepEqual(o.links.get('b1234abcd'), { kind: 'bridge', up: true, master: null });
  assert.deepEqual(o.links.get('v1234abcd'), { kind: null, up: false, master: 'b1234abcd' });
  assert.deepEqual([...o.addrs], ['b1234abcd 192.168.6.1/25']);
  assert.deepEqual([...o.routes.keys()], ['50 0.0.0.0/0', '1234 192.168.5.0/24']);
  assert.deepEqual(o.routes.get('1234 192.168.5.0/24'), { table: 1234, dst: '192.168.5.0/24', type: 'unicast', dev: 'p1', via: '169.254.0.2' });
  assert.deepEqual(o.rules, [{ pref: 1000, iif: 'b1234abcd', table: 1234 }]);
  assert.equal(o.sysctl, '1 0 0');
  assert.equal(o.nftHash, 'abcdef0123456789');
});

test("routes compare in one spelling: the kernel's default and bare /32 match the desired 0.0.0.0/0 and a.b.c.d/32", () => {
  const text = [
    '[]',
    '[]',
    JSON.stringify([
      { type: 'unreachable', dst: 'default', table: '1001' },
      { dst: '10.90.1.10', dev: 'p00000001', gateway: '169.254.0.2', table: '1001' },
    ]),
    '[]',
    '1 0 0',
    '',
  ].join('@@nimbus@@');
  const observed = parseObserved(text);
  assert.ok(observed.routes.has(routeKey({ table: 1001, dst: '0.0.0.0/0' })));
  assert.ok(observed.routes.has(routeKey({ table: 1001, dst: '10.90.1.10/32' })));
  assert.equal(routeKey({ table: 'main', dst: 'default' }), routeKey({ table: 'main', dst: '0.0.0.0/0' }));
});
