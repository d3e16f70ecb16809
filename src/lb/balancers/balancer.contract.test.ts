/**
 * One contract every balancer passes, then tables of exact pick sequences per algorithm,
 * failures included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Candidate } from './balancer.js';
import { BALANCERS, type AlgorithmName } from './registry.js';
import { SmoothWeightedRoundRobin } from './round-robin.js';
import { LeastConnections } from './least-connections.js';
import { SourceIpHash } from './source-ip.js';

const m = (id: string, weight = 1, active = 0, usable = true): Candidate => ({ id, weight, active, usable });

for (const name of Object.keys(BALANCERS) as AlgorithmName[]) {
  test(`${name}: never picks a member that is unusable or has weight 0, and gives null when none is left`, () => {
    const b = BALANCERS[name]();
    const members = [m('a', 1, 0, false), m('b', 0), m('c', 2), m('d', 1)];
    for (let i = 0; i < 200; i++) {
      const p = b.pick(members, `10.0.${i >> 8}.${i & 255}`);
      assert.ok(p && (p.id === 'c' || p.id === 'd'), `${name} picked ${p?.id}`);
    }
    assert.equal(b.pick([m('a', 1, 0, false), m('b', 0)], '10.0.0.1'), null);
    assert.equal(b.pick([], '10.0.0.1'), null);
  });

  test(`${name}: spreads many clients over every eligible member`, () => {
    const b = BALANCERS[name]();
    const members = [m('a'), m('b'), m('c')];
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const p = b.pick(members, `192.168.${i >> 8}.${i & 255}`)!;
      counts.set(p.id, (counts.get(p.id) ?? 0) + 1);
    }
    for (const id of ['a', 'b', 'c']) assert.ok((counts.get(id) ?? 0) > 600, `${name}: ${id} got ${counts.get(id)}`);
  });
}

test("round robin: weights 5,1,1 give nginx's smooth sequence a a b a c a a", () => {
  const b = new SmoothWeightedRoundRobin();
  const members = [m('a', 5), m('b', 1), m('c', 1)];
  const seq = Array.from({ length: 14 }, () => b.pick(members)!.id).join(' ');
  assert.equal(seq, 'a a b a c a a a a b a c a a');
});

test('round robin: equal weights alternate; a member that fails is skipped and rejoins in turn', () => {
  const b = new SmoothWeightedRoundRobin();
  const up = [m('a'), m('b')];
  assert.equal([1, 2, 3, 4].map(() => b.pick(up)!.id).join(' '), 'a b a b');
  const bDown = [m('a'), m('b', 1, 0, false)];
  assert.equal([1, 2, 3].map(() => b.pick(bDown)!.id).join(' '), 'a a a');
  assert.equal([1, 2, 3, 4].map(() => b.pick(up)!.id).join(' '), 'a b a b', 'b rejoins the alternation at once');
});

test('least connections: fewest per weight wins; ties take turns', () => {
  const b = new LeastConnections();
  assert.equal(b.pick([m('a', 1, 3), m('b', 1, 1), m('c', 1, 2)])!.id, 'b');
  assert.equal(b.pick([m('a', 3, 3), m('b', 1, 2)])!.id, 'a', '3/3 < 2/1');
  const tied = [m('a', 1, 1), m('b', 1, 1), m('c', 1, 4)];
  assert.equal([1, 2, 3, 4].map(() => b.pick(tied)!.id).join(' '), 'a b a b');
  assert.equal(b.pick([m('a', 1, 0, false), m('b', 1, 9)])!.id, 'b', 'an unusable member with no connections is still skipped');
});

test('source ip: a client always reaches the same member; adding one moves only its share', () => {
  const b = new SourceIpHash();
  const three = [m('a'), m('b'), m('c')];
  const clients = Array.from({ length: 2000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
  const before = new Map(clients.map((c) => [c, b.pick(three, c)!.id]));
  for (const c of clients.slice(0, 50)) assert.equal(b.pick(three, c)!.id, before.get(c));
  const four = [...three, m('d')];
  let moved = 0;
  for (const c of clients) {
    const now = b.pick(four, c)!.id;
    if (now !== before.get(c)) {
      moved++;
      assert.equal(now, 'd', 'a client only ever moves to the new member');
    }
  }
  assert.ok(moved > 250 && moved < 800, `about a quarter moved: ${moved}`);
  const bDown = [m('a'), m('b', 1, 0, false), m('c')];
  for (const c of clients) {
    const p = b.pick(bDown, c)!.id;
    if (before.get(c) !== 'b') assert.equal(p, before.get(c), 'clients of healthy members stay put when another fails');
  }
});
