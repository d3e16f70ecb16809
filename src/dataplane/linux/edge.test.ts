/**
 * The edge's pure parts: which link-local block an installation takes on the machine (its own
 * again after a restart, never one the machine routes elsewhere), and the rules that make a
 * router translate only addresses that have an elastic IP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickSlot } from './edge-slot.js';
import { firstSlot, machineScript, routerEdgeRules, slotBlock } from './edge.js';

test('a slot the machine routes to another device is skipped; the installation’s own is kept', () => {
  const first = slotBlock(firstSlot('ab'));
  assert.deepEqual(pickSlot('ab', 'abi0', []), first);
  const taken = pickSlot('ab', 'abi0', [{ dst: `169.254.${first.alias}.0/24`, dev: 'xyi0' }]);
  assert.notDeepEqual(taken, first);
  const neighbour = pickSlot('ab', 'abi0', [{ dst: `169.254.${first.alias + 1}.0/30`, dev: 'eth9' }]);
  assert.notDeepEqual(neighbour, first);
  // After a restart its own route says where it is, even when the first slot is free again.
  const later = slotBlock(firstSlot('ab') + 3);
  assert.deepEqual(pickSlot('ab', 'abi0', [{ dst: `169.254.${later.alias}.0/24`, dev: 'abi0' }]), later);
});

test('a router translates mapped addresses both ways and drops the rest at the gateway', () => {
  const rules = routerEdgeRules('g00000001', [{ publicIp: '127.0.1.5', privateIp: '10.0.1.2', vpcId: 'vpc-1' }]);
  assert.match(rules, /iifname "g00000001" dnat ip to ip daddr map \{ 127\.0\.1\.5 : 10\.0\.1\.2 \}/);
  assert.match(rules, /oifname "g00000001" snat ip to ip saddr map \{ 10\.0\.1\.2 : 127\.0\.1\.5 \}/);
  assert.match(rules, /oifname "g00000001" ip saddr \{ 10\.0\.1\.2 \} accept\n\s+oifname "g00000001" counter drop/);
  // No mapping: every packet toward the gateway is dropped, and no empty map is written (nft refuses one).
  const none = routerEdgeRules('g00000001', []);
  assert.doesNotMatch(none, /map \{ \}/);
  assert.match(none, /oifname "g00000001" counter drop/);
});

test("the machine's table sends only elastic IPs to the internet, and does nothing while the uplink is missing", () => {
  const s = slotBlock(0);
  const script = machineScript('ab', 'abi0', s, [{ publicIp: '127.0.1.7', privateIp: '10.0.0.2', vpcId: 'v' }]);
  assert.match(script, /^ip link show abi0 >\/dev\/null 2>&1 \|\| exit 0$/m);
  assert.match(script, new RegExp(`127\\.0\\.1\\.7 : 169\\.254\\.${s.alias}\\.7`));
  const empty = machineScript('ab', 'abi0', s, []);
  assert.doesNotMatch(empty, /chain out/);
  assert.match(empty, /delete table ip nimbus_edge_ab/);
});
