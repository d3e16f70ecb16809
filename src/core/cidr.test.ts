import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contains, formatCidr, gatewayOf, intToIp, isReserved, normalizeCidr, overlaps, parseCidr, parseIp, usableCount } from './cidr.js';
import { NimbusError } from './errors.js';

test('normalizes a CIDR by clearing host bits', () => {
  assert.equal(normalizeCidr('10.1.2.3/16'), '10.1.0.0/16');
  assert.equal(normalizeCidr('192.168.6.76/25'), '192.168.6.0/25');
});

test('refuses malformed addresses and CIDRs naming the value', () => {
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '300.0.0.0/8', 'x/8', '10.0.0/8', '']) {
    assert.throws(
      () => parseCidr(bad),
      (e: unknown) => e instanceof NimbusError && e.code === 'InvalidParameterValue' && e.message.includes(`'${bad}'`),
    );
  }
  assert.throws(() => parseIp('1.2.3'), NimbusError);
});

test('computes containment and overlap', () => {
  const a = parseCidr('192.168.6.0/24');
  assert.ok(contains(a, parseIp('192.168.6.255')));
  assert.ok(!contains(a, parseIp('192.168.7.0')));
  assert.ok(overlaps(a, parseCidr('192.168.6.128/25')));
  assert.ok(overlaps(parseCidr('0.0.0.0/0'), a));
  assert.ok(!overlaps(a, parseCidr('192.168.5.0/24')));
});

test('reserves network, gateway and the last three addresses of a subnet', () => {
  const s = parseCidr('192.168.5.0/24');
  assert.equal(intToIp(gatewayOf(s)), '192.168.5.1');
  const reserved = ['192.168.5.0', '192.168.5.1', '192.168.5.253', '192.168.5.254', '192.168.5.255'];
  for (const ip of reserved) assert.ok(isReserved(s, parseIp(ip)), ip);
  for (const ip of ['192.168.5.2', '192.168.5.130', '192.168.5.252']) assert.ok(!isReserved(s, parseIp(ip)), ip);
  assert.equal(usableCount(s), 251);
  assert.equal(usableCount(parseCidr('10.0.0.0/28')), 11);
  assert.equal(formatCidr(parseCidr('0.0.0.0/0')), '0.0.0.0/0');
});

test('only canonical dotted decimal is accepted: no octal-looking octets, no stray characters', () => {
  for (const bad of [
    '012.0.0.0/16',
    '10.20.010.0/24',
    '010.0.0.0/16',
    '10.0.0.0/08',
    '10.0.0.0/33',
    ' 10.0.0.0/8',
    '10.0.0.0/8 ',
    '10.0.0/8',
    '0x0a.0.0.0/8',
    '10.0.0.256/32',
  ]) {
    assert.throws(
      () => parseCidr(bad),
      (e: NimbusError) => e.code === 'InvalidParameterValue' && e.message.includes(bad),
      bad,
    );
  }
  for (const bad of ['010.0.0.1', '10.0.0.01', '1.2.3', '1.2.3.4.5', '256.1.1.1', '-1', '::1', '1.2.3.4 ']) {
    assert.throws(
      () => parseIp(bad),
      (e: NimbusError) => e.code === 'InvalidParameterValue',
      bad,
    );
  }
  assert.equal(parseIp('10.0.0.1'), 0x0a000001);
  assert.deepEqual(parseCidr('0.0.0.0/0'), { net: 0, prefix: 0 });
  assert.deepEqual(parseCidr('10.0.0.5/16'), { net: 0x0a000000, prefix: 16 });
});
