import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicies, fileTypeOf, pathOf, type RequestView } from './l7.js';
import type { PolicyConfig, RuleConfig } from './config.js';
import { checkRule } from '../resources/load-balancer/l7-policy.js';
import { parseRule } from '../cli/l7.js';
import { l7RuleText as ruleText } from '../core/model/l7.js';

const req = (target: string, headers: Record<string, string> = {}, cookies: Record<string, string> = {}, client = '127.0.0.1'): RequestView => ({
  host: () => headers.host,
  target: () => target,
  header: (n) => headers[n],
  cookie: (n) => cookies[n],
  client: () => client,
});
const r = (type: RuleConfig['type'], compare: RuleConfig['compare'], value: string, extra: Partial<RuleConfig> = {}): RuleConfig => ({
  type,
  compare,
  key: null,
  value,
  invert: false,
  ...extra,
});
const toPool = (id: string, ...rules: RuleConfig[]): PolicyConfig => ({ id, action: 'REDIRECT_TO_POOL', poolId: `pool-${id}`, rules });
const decide = (policies: PolicyConfig[], v: RequestView) => compilePolicies(policies)!(v);

test('a listener without policies compiles to nothing (nothing is matched per request)', () => {
  assert.equal(compilePolicies(undefined), null);
  assert.equal(compilePolicies([]), null);
});

test('every rule type with every comparison, and inverted', () => {
  const cases: [RuleConfig, RequestView, boolean][] = [
    [r('PATH', 'EQUAL_TO', '/api'), req('/api?x=1'), true],
    [r('PATH', 'EQUAL_TO', '/api'), req('/api/'), false],
    [r('PATH', 'STARTS_WITH', '/api'), req('/api/v1'), true],
    [r('PATH', 'STARTS_WITH', '/api'), req('/v1/api'), false],
    [r('PATH', 'ENDS_WITH', '.txt'), req('/a/b.txt?q=.png'), true],
    [r('PATH', 'CONTAINS', 'adm'), req('/x/admin'), true],
    [r('PATH', 'REGEX', '^/v[0-9]+/'), req('/v2/items'), true],
    [r('PATH', 'REGEX', '^/v[0-9]+/'), req('/vx/items'), false],
    [r('PATH', 'STARTS_WITH', '/api'), req('http://example.com/api/x'), true],
    [r('HOST_NAME', 'EQUAL_TO', 'Shop.Example.com'), req('/', { host: 'shop.example.COM:8080' }), true],
    [r('HOST_NAME', 'ENDS_WITH', '.example.com'), req('/', { host: 'example.com' }), false],
    [r('HOST_NAME', 'REGEX', '^api\\.'), req('/', { host: 'API.example.com' }), true],
    [r('HEADER', 'EQUAL_TO', 'beta', { key: 'x-env' }), req('/', { 'x-env': 'beta' }), true],
    [r('HEADER', 'EQUAL_TO', 'beta', { key: 'x-env' }), req('/', { 'x-env': 'Beta' }), false],
    [r('HEADER', 'CONTAINS', 'Mobile', { key: 'user-agent' }), req('/', { 'user-agent': 'x Mobile y' }), true],
    [r('HEADER', 'EQUAL_TO', 'beta', { key: 'x-env' }), req('/'), false],
    [r('HEADER', 'EQUAL_TO', 'beta', { key: 'x-env', invert: true }), req('/'), true],
    [r('COOKIE', 'STARTS_WITH', 'canary', { key: 'lane' }), req('/', {}, { lane: 'canary-2' }), true],
    [r('COOKIE', 'STARTS_WITH', 'canary', { key: 'lane' }), req('/', {}, { other: 'canary' }), false],
    [r('FILE_TYPE', 'EQUAL_TO', 'png'), req('/img/a.b/logo.png?v=2'), true],
    [r('FILE_TYPE', 'EQUAL_TO', 'png'), req('/img.png/logo'), false],
    [r('FILE_TYPE', 'REGEX', '^(jpe?g|gif)$'), req('/a.jpeg'), true],
    [r('PATH', 'STARTS_WITH', '/api', { invert: true }), req('/api'), false],
    [r('PATH', 'STARTS_WITH', '/api', { invert: true }), req('/web'), true],
  ];
  for (const [rule, request, want] of cases) {
    const got = decide([toPool('p', rule)], request);
    assert.equal(got !== null, want, `${ruleText({ ...rule, compareType: rule.compare })} on ${request.target()} ${JSON.stringify(request.host())}`);
  }
});

test('all rules of a policy must match; the first matching policy by position wins whatever its action', () => {
  const policies: PolicyConfig[] = [
    { id: 'reject', action: 'REJECT', rules: [r('PATH', 'STARTS_WITH', '/admin')] },
    { id: 'url', action: 'REDIRECT_TO_URL', url: 'https://new.example.com/', code: 301, rules: [r('HOST_NAME', 'EQUAL_TO', 'old.example.com')] },
    { id: 'prefix', action: 'REDIRECT_PREFIX', prefix: 'https://m.example.com/', code: 308, rules: [r('HEADER', 'EQUAL_TO', 'yes', { key: 'x-move' })] },
    toPool('both', r('PATH', 'STARTS_WITH', '/api'), r('HEADER', 'EQUAL_TO', 'dev', { key: 'x-env' })),
    toPool('api', r('PATH', 'STARTS_WITH', '/api')),
    { id: 'empty', action: 'REJECT', rules: [] },
  ];
  assert.deepEqual(decide(policies, req('/admin/api', { host: 'old.example.com' })), { policy: 'reject', status: 403 });
  assert.deepEqual(decide(policies, req('/api', { host: 'old.example.com' })), { policy: 'url', status: 301, location: 'https://new.example.com/' });
  assert.deepEqual(decide(policies, req('/a/b?c=1', { 'x-move': 'yes' })), { policy: 'prefix', status: 308, location: 'https://m.example.com/a/b?c=1' });
  assert.deepEqual(decide(policies, req('/api/x', { 'x-env': 'dev' })), { policy: 'both', pool: 'pool-both' });
  assert.deepEqual(decide(policies, req('/api/x', { 'x-env': 'prod' })), { policy: 'api', pool: 'pool-api' });
  assert.equal(decide(policies, req('/web')), null, 'the default pool takes the rest; a policy without rules matches nothing');
});

test("Octavia's checks of a rule: types, comparisons, keys, values, and regular expressions that are unsafe or wrong", () => {
  assert.deepEqual(
    { ...checkRule({ type: 'header', compareType: 'equal_to', key: 'X-Env', value: 'prod' }), id: 'x' },
    { id: 'x', type: 'HEADER', compareType: 'EQUAL_TO', key: 'x-env', value: 'prod', invert: false },
  );
  const refused = (input: Parameters<typeof checkRule>[0], why: RegExp) =>
    assert.throws(
      () => checkRule(input),
      (e: Error & { code?: string }) => e.code === 'InvalidParameterValue' && why.test(e.message),
      JSON.stringify(input),
    );
  refused({ type: 'QUERY', compareType: 'EQUAL_TO', value: 'x' }, /type: 'QUERY' must be HOST_NAME/);
  refused({ type: 'PATH', compareType: 'LIKE', value: 'x' }, /compareType: 'LIKE'/);
  refused({ type: 'FILE_TYPE', compareType: 'STARTS_WITH', value: 'png' }, /not for FILE_TYPE/);
  refused({ type: 'HEADER', compareType: 'EQUAL_TO', value: 'x' }, /key: '' must name the header/);
  refused({ type: 'COOKIE', compareType: 'EQUAL_TO', key: 'a b', value: 'x' }, /key: 'a b'/);
  refused({ type: 'PATH', compareType: 'EQUAL_TO', key: 'k', value: '/x' }, /only for HEADER, COOKIE and QUERY_STRING/);
  refused({ type: 'PATH', compareType: 'EQUAL_TO', value: '/a b' }, /without spaces or quotes/);
  refused({ type: 'PATH', compareType: 'EQUAL_TO', value: "/a'b" }, /without spaces or quotes/);
  refused({ type: 'PATH', compareType: 'REGEX', value: '^(a+' }, /is not a regular expression/);
  refused({ type: 'PATH', compareType: 'REGEX', value: '^(a+)+$' }, /exponential time/);
  assert.equal(checkRule({ type: 'PATH', compareType: 'REGEX', value: '^/v[0-9]+/' }).value, '^/v[0-9]+/');
});

test('the CLI writes a rule as one argument and reads it back', () => {
  assert.deepEqual(parseRule('not header:x-env equal_to prod'), { type: 'header', compareType: 'equal_to', value: 'prod', invert: true, key: 'x-env' });
  assert.deepEqual(parseRule('path starts_with /api'), { type: 'path', compareType: 'starts_with', value: '/api', invert: false });
  assert.throws(() => parseRule('path /api'), /TYPE\[:KEY\] COMPARE VALUE/);
  assert.equal(ruleText({ type: 'COOKIE', compareType: 'EQUAL_TO', key: 'lane', value: 'b', invert: true }), 'not COOKIE:lane EQUAL_TO b');
});

test('paths and file types', () => {
  assert.equal(pathOf('/a/b?c'), '/a/b');
  assert.equal(pathOf('https://h:1/x?y'), '/x');
  assert.equal(pathOf('http://h'), '/');
  assert.equal(fileTypeOf('/a.tar.gz'), 'gz');
  assert.equal(fileTypeOf('/dir.d/file'), '');
});

test('QUERY_STRING reads a parameter as sent (the first of its name), or the whole query; SOURCE_IP the client within a CIDR', () => {
  const cases: [RuleConfig, RequestView, boolean][] = [
    [r('QUERY_STRING', 'EQUAL_TO', 'en', { key: 'lang' }), req('/p?x=1&lang=en'), true],
    [r('QUERY_STRING', 'EQUAL_TO', 'en', { key: 'lang' }), req('/p?lang=fr&lang=en'), false],
    [r('QUERY_STRING', 'EQUAL_TO', 'en', { key: 'lang' }), req('/p?language=en'), false],
    [r('QUERY_STRING', 'EQUAL_TO', '', { key: 'debug' }), req('/p?debug'), true],
    [r('QUERY_STRING', 'STARTS_WITH', 'e', { key: 'lang' }), req('/p'), false],
    [r('QUERY_STRING', 'STARTS_WITH', 'e', { key: 'lang', invert: true }), req('/p'), true],
    [r('QUERY_STRING', 'CONTAINS', 'beta=1'), req('/p?a=2&beta=1'), true],
    [r('QUERY_STRING', 'REGEX', '(^|&)v=[0-9]+(&|$)'), req('/p?v=12'), true],
    [r('SOURCE_IP', 'EQUAL_TO', '10.0.0.0/8'), req('/', {}, {}, '10.2.3.4'), true],
    [r('SOURCE_IP', 'EQUAL_TO', '10.0.0.0/8'), req('/', {}, {}, '::ffff:10.2.3.4'), true],
    [r('SOURCE_IP', 'EQUAL_TO', '10.0.0.0/8'), req('/', {}, {}, '192.168.0.1'), false],
    [r('SOURCE_IP', 'EQUAL_TO', '10.0.0.0/8', { invert: true }), req('/', {}, {}, '192.168.0.1'), true],
    [r('SOURCE_IP', 'EQUAL_TO', 'fd00::/8'), req('/', {}, {}, 'fd00::5'), true],
  ];
  for (const [rule, view, hit] of cases)
    assert.equal(
      decide([toPool('x', rule)], view) !== null,
      hit,
      `${ruleText({ ...rule, compareType: rule.compare })} on ${view.target()} from ${view.client()}`,
    );
});

test('FIXED_RESPONSE answers with its status, type and body', () => {
  const v = decide(
    [
      {
        id: 'f',
        action: 'FIXED_RESPONSE',
        fixed: { status: 503, contentType: 'application/json', body: '{"down":true}' },
        rules: [r('PATH', 'STARTS_WITH', '/')],
      },
    ],
    req('/x'),
  );
  assert.deepEqual(v, { policy: 'f', status: 503, fixed: { contentType: 'application/json', body: '{"down":true}' } });
});

test("the new rules' and fixed responses' checks: a CIDR is normalized, a bad one refused, SOURCE_IP compares with EQUAL_TO only", () => {
  assert.equal(checkRule({ type: 'source_ip', compareType: 'equal_to', value: '10.1.2.3' }).value, '10.1.2.3/32');
  assert.equal(checkRule({ type: 'source_ip', compareType: 'equal_to', value: '10.1.0.0/16' }).value, '10.1.0.0/16');
  assert.throws(() => checkRule({ type: 'source_ip', compareType: 'equal_to', value: '10.1.0.0/33' }), /IP address or a CIDR/);
  assert.throws(() => checkRule({ type: 'source_ip', compareType: 'starts_with', value: '10.' }), /EQUAL_TO/);
  assert.equal(checkRule({ type: 'query_string', compareType: 'equal_to', key: 'Lang', value: 'en' }).key, 'Lang', 'a parameter name keeps its case');
  assert.throws(() => checkRule({ type: 'query_string', compareType: 'equal_to', key: 'a=b', value: 'en' }), /query parameter/);
  assert.deepEqual(parseRule('query_string:lang equal_to en'), { type: 'query_string', key: 'lang', compareType: 'equal_to', value: 'en', invert: false });
});
