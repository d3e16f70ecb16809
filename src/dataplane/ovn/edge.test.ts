import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayLinks } from './edge.js';
import type { NsSpec } from '../linux/desired.js';
import type { InternetGateway } from '../../core/model/index.js';

const inet: NsSpec = {
  name: 'p-inet',
  role: 'internet',
  resourceId: 'internet',
  create: [{ name: 'inet0', kind: 'bridge', up: true }],
  configure: [{ name: 'g01234567', up: true }],
  addrs: [{ dev: 'g01234567', cidr: '169.254.64.2/32' }],
  routes: [{ table: 60, dst: '127.0.1.42/32', type: 'unicast', dev: 'g01234567', via: '169.254.64.1' }],
  rules: [{ iif: 'g01234567', table: 60 }],
  nft: '  chain input {\n  }',
  nftHash: 'x',
};
const gw = [{ id: 'igw-0123456789abcdef', vpcId: 'vpc-a' }] as InternetGateway[];
const mapped = [
  { publicIp: '127.0.1.42', vpcId: 'vpc-a' },
  { publicIp: '127.0.1.43', vpcId: 'vpc-b' },
];

test("the internet's gateway links go to the gateway chassis; elastic IPs are 100.64.1.N on them; untranslated sources are dropped", () => {
  const s = gatewayLinks(inet, gw, 'p-ch-ch1', mapped, (ip) => `169.254.4.${ip.split('.')[3]}`);
  assert.deepEqual(s.configure, []);
  assert.deepEqual(s.create.at(-1), { name: 'g01234567', kind: 'veth', peer: { name: 'x01234567', ns: 'p-ch-ch1' }, up: true });
  assert.deepEqual(
    s.routes.map((r) => r.dst),
    ['100.64.1.42/32'],
  );
  assert.match(s.nft, /iifname "g01234567" ip saddr != \{ 100\.64\.1\.42 \} counter drop/);
  assert.match(s.nft, /dnat ip to ip daddr map \{ 127\.0\.1\.42 : 100\.64\.1\.42, 169\.254\.4\.42 : 100\.64\.1\.42 \}/);
  assert.match(s.nft, /snat ip to ip saddr map \{ 100\.64\.1\.42 : 127\.0\.1\.42 \}/);
  assert.doesNotMatch(s.nft, /127\.0\.1\.43/, "another VPC's address, without a gateway, is not linked");
  assert.notEqual(s.nftHash, inet.nftHash);
  const none = gatewayLinks(inet, gw, null, mapped, (ip) => ip);
  assert.deepEqual([none.create.length, none.addrs, none.routes, none.rules, none.nft], [1, [], [], [], inet.nft], 'no gateway chassis: no link');
});
