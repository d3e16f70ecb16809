/**
 * Persistence as tables: which member each request goes to, pins kept and moved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoolRuntime, cookieValue } from './pool.js';
import type { PoolConfig } from './config.js';

const pool = (persistence: PoolConfig['persistence'], algorithm: PoolConfig['algorithm'] = 'ROUND_ROBIN') =>
  new PoolRuntime(
    'p',
    {
      id: 'p',
      algorithm,
      persistence,
      health: null,
      members: ['a', 'b', 'c'].map((id) => ({ id, host: '127.0.0.1', port: 1, weight: 1, enabled: true })),
    },
    () => undefined,
  );

/** A copy of the choice: choose() returns the same object each time. */
const pick = (p: PoolRuntime, ip: string, cookie?: string) => ({ ...p.choose(ip, cookie, null)! });

test('no persistence: round robin whatever the client', () => {
  const p = pool(null);
  assert.deepEqual(
    ['1', '1', '1', '2'].map((ip) => pick(p, `10.0.0.${ip}`).member.id),
    ['a', 'b', 'c', 'a'],
  );
});

test('source-IP persistence: each address keeps its first member; a down member moves its clients', () => {
  const p = pool({ type: 'SOURCE_IP' });
  const table: [string, string][] = [
    ['10.0.0.1', 'a'],
    ['10.0.0.2', 'b'],
    ['10.0.0.1', 'a'],
    ['10.0.0.3', 'c'],
    ['10.0.0.2', 'b'],
    ['10.0.0.1', 'a'],
  ];
  for (const [ip, want] of table) assert.equal(pick(p, ip).member.id, want, ip);
  p.members[0].health = 'DOWN';
  const moved = pick(p, '10.0.0.1').member.id;
  assert.notEqual(moved, 'a');
  p.members[0].health = 'UP';
  assert.equal(pick(p, '10.0.0.1').member.id, moved, 'the new pin holds after a recovers');
});

test('inserted cookie: a new client gets a cookie; the cookie pins; a cookie of a down or unknown member is replaced', () => {
  const p = pool({ type: 'HTTP_COOKIE' });
  const first = pick(p, '10.0.0.1');
  assert.equal(first.setCookie, `NIMBUSLB=${first.member.id}; path=/; HttpOnly`);
  for (let i = 0; i < 3; i++) {
    const again = pick(p, '10.0.0.9', `x=1; NIMBUSLB=${first.member.id}`);
    assert.equal(again.member.id, first.member.id);
    assert.equal(again.setCookie, null);
  }
  p.members.find((m) => m.id === first.member.id)!.health = 'DOWN';
  const moved = pick(p, '10.0.0.1', `NIMBUSLB=${first.member.id}`);
  assert.notEqual(moved.member.id, first.member.id);
  assert.equal(moved.setCookie, `NIMBUSLB=${moved.member.id}; path=/; HttpOnly`);
  assert.ok(pick(p, '10.0.0.1', 'NIMBUSLB=mbr-gone').setCookie, 'an unknown member gets a new cookie');
});

test("application cookie: the member that set the cookie's value gets every request carrying it", () => {
  const p = pool({ type: 'APP_COOKIE', cookieName: 'JSESSIONID' });
  const b = p.members[1];
  p.learn('JSESSIONID=s-42; Path=/; HttpOnly', b);
  p.learn('OTHER=zzz', p.members[2]);
  for (let i = 0; i < 4; i++) assert.equal(pick(p, `10.0.0.${i}`, 'JSESSIONID=s-42').member.id, 'b');
  assert.equal(pick(p, '10.0.0.1', 'JSESSIONID=unknown').setCookie, null, 'nothing is inserted for app cookies');
});

test('a retry skips the members already tried', () => {
  const p = pool(null);
  const a = p.members[0];
  const b = p.members[1];
  const c = p.choose('10.0.0.1', undefined, [a, b]);
  assert.equal(c?.member.id, 'c');
  assert.equal(p.choose('10.0.0.1', undefined, [...p.members]), null);
  assert.equal(a.usable && b.usable, true, 'exclusion lasts only for that pick');
});

test('parses cookie headers', () => {
  assert.equal(cookieValue('a=1; NIMBUSLB=mbr-1;b=2', 'NIMBUSLB'), 'mbr-1');
  assert.equal(cookieValue('XNIMBUSLB=1', 'NIMBUSLB'), undefined);
  assert.equal(cookieValue(undefined, 'NIMBUSLB'), undefined);
  assert.equal(cookieValue('NIMBUSLBX=1; NIMBUSLB=2', 'NIMBUSLB'), '2');
  assert.equal(cookieValue(' NIMBUSLB = v ;x=1', 'NIMBUSLB'), 'v');
  assert.equal(cookieValue('a=NIMBUSLB=3', 'NIMBUSLB'), undefined);
  assert.equal(cookieValue('a=1;NIMBUSLB=', 'NIMBUSLB'), '');
});
