import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sideFiles, expectedCodesRegex, renderHaproxy } from './render.js';
import { selfSign } from '../../resources/certificate/service.js';
import { carried, fromStat, healthOfStatus, parsePolicyTable, parseStat } from './stats.js';
import { fromHaproxy } from '../observe.js';
import type { EngineConfig, PoolConfig } from '../config.js';
import { haproxyPath } from '../../workloads/haproxy.js';

const member = (id: string, extra: Partial<PoolConfig['members'][number]> = {}) => ({ id, host: '10.0.0.1', port: 8080, weight: 1, enabled: true, ...extra });
const health = { type: 'HTTP' as const, delayMs: 2000, timeoutMs: 1000, rise: 2, fall: 3, urlPath: '/healthz', expectedCodes: '200-202,204' };

const [tlsA, tlsB] = await Promise.all([selfSign(['a.test'], 2), selfSign(['b.test'], 2)]);

/** Every kind of listener, pool, persistence and health check the engine configuration can say. */
const CONFIG: EngineConfig = {
  listeners: [
    {
      id: 'lsn-https',
      protocol: 'HTTP',
      port: 8443,
      poolId: 'pool-cookie',
      bind: ['127.0.0.1'],
      tls: {
        certificates: [
          { id: 'cert-a', cert: tlsA.certPem, key: tlsA.keyPem },
          { id: 'cert-b', cert: tlsB.certPem, key: tlsB.keyPem },
        ],
      },
    },
    {
      id: 'lsn-http',
      protocol: 'HTTP',
      port: 8080,
      poolId: 'pool-cookie',
      bind: ['127.0.0.1'],
      connectionLimit: 100,
      // Every action, rule type and comparison (HAProxy checks them below).
      policies: [
        { id: 'l7p-reject', action: 'REJECT', rules: [{ type: 'PATH', compare: 'STARTS_WITH', key: null, value: '/admin', invert: false }] },
        {
          id: 'l7p-url',
          action: 'REDIRECT_TO_URL',
          url: 'https://new.example.com/#top',
          code: 301,
          rules: [{ type: 'HOST_NAME', compare: 'EQUAL_TO', key: null, value: 'old.example.com', invert: false }],
        },
        {
          id: 'l7p-prefix',
          action: 'REDIRECT_PREFIX',
          prefix: 'https://m.example.com/',
          code: 308,
          rules: [{ type: 'HEADER', compare: 'CONTAINS', key: 'user-agent', value: 'Mobile', invert: false }],
        },
        {
          id: 'l7p-app',
          action: 'REDIRECT_TO_POOL',
          poolId: 'pool-app',
          rules: [
            { type: 'COOKIE', compare: 'ENDS_WITH', key: 'lane', value: 'beta', invert: false },
            { type: 'FILE_TYPE', compare: 'REGEX', key: null, value: '^(png|jpe?g)$', invert: true },
            { type: 'PATH', compare: 'REGEX', key: null, value: '^/v[0-9]+/\\w+$#', invert: false },
          ],
        },
        { id: 'l7p-empty', action: 'REJECT', rules: [] },
        {
          id: 'l7p-fixed',
          action: 'FIXED_RESPONSE',
          fixed: { status: 503, contentType: 'application/json', body: '{"maintenance": "until 10:00 $HOME #1"}\n' },
          rules: [
            { type: 'QUERY_STRING', compare: 'EQUAL_TO', key: 'mode', value: 'maint', invert: false },
            { type: 'QUERY_STRING', compare: 'CONTAINS', key: null, value: 'x=1', invert: false },
            { type: 'SOURCE_IP', compare: 'EQUAL_TO', key: null, value: '10.0.0.0/8', invert: true },
          ],
        },
        {
          id: 'l7p-nobody',
          action: 'FIXED_RESPONSE',
          fixed: { status: 204, contentType: 'text/plain', body: '' },
          rules: [{ type: 'SOURCE_IP', compare: 'EQUAL_TO', key: null, value: 'fd00::/8', invert: false }],
        },
      ],
    },
    {
      id: 'lsn-tcp',
      protocol: 'TCP',
      port: 9000,
      poolId: 'pool-source',
      bind: [],
      timeouts: { clientData: 1000, memberConnect: 200, memberData: 3000, httpRequest: 500, tcpInspect: 250 },
    },
    { id: 'lsn-app', protocol: 'HTTP', port: 8081, poolId: 'pool-app', bind: [] },
    { id: 'lsn-empty', protocol: 'HTTP', port: 8082, poolId: null, bind: [] },
  ],
  pools: [
    {
      id: 'pool-cookie',
      algorithm: 'ROUND_ROBIN',
      persistence: { type: 'HTTP_COOKIE' },
      health,
      members: [member('mbr-a'), member('mbr-b', { enabled: false }), member('mbr-c', { enabled: false, gone: 'stopped' })],
      timeouts: { memberData: 7000 },
    },
    { id: 'pool-source', algorithm: 'SOURCE_IP', persistence: { type: 'SOURCE_IP' }, health: { ...health, type: 'TCP' }, members: [member('mbr-d')] },
    {
      id: 'pool-app',
      algorithm: 'LEAST_CONNECTIONS',
      persistence: { type: 'APP_COOKIE', cookieName: 'JSESSIONID' },
      health: null,
      members: [member('mbr-e', { host: 'fd00::5' })],
    },
  ],
};

test('expected codes become an anchored alternation of every code', () => {
  assert.equal(expectedCodesRegex('200'), '^(200)$');
  assert.equal(expectedCodesRegex('200-202,204'), '^(200|201|202|204)$');
});

test('the rendered file maps each part of the configuration (Octavia: frontend per listener, backend per listener and pool)', () => {
  const cfg = renderHaproxy(CONFIG, {
    dir: '/run/x',
    threads: 2,
    fds: { '127.0.0.1:8080': 7 },
    publicFds: { 'lsn-http:8080': 9, 'lsn-https:8443': 11, 'lsn-tcp:9000': 13 },
  });
  // The VIP's socket from the holder, then the public IP's (opened on the host, handed in): both as descriptors.
  assert.match(cfg, /^frontend lsn-http\n {2}mode http\n {2}bind fd@7\n {2}bind fd@9\n {2}maxconn/m);
  const noPublic = renderHaproxy(CONFIG, { dir: '/run/x', threads: 2 });
  assert.doesNotMatch(noPublic, /^frontend lsn-tcp$/m, 'a listener with no socket yet (its public one not handed in) has no frontend, only its backend');
  assert.match(noPublic, /^backend pool-source:lsn-tcp$/m);
  assert.match(cfg, /^ {2}maxconn 100$/m);
  assert.match(cfg, /^backend pool-cookie:lsn-http\n {2}mode http\n {2}balance roundrobin$/m);
  assert.match(cfg, /^ {2}cookie NIMBUSLB insert indirect nocache httponly$/m);
  assert.match(cfg, /^ {2}server mbr-a 10\.0\.0\.1:8080 weight 1 cookie mbr-a check inter 2000ms fall 3 rise 2$/m);
  assert.match(cfg, /^ {2}server mbr-b .* disabled$/m);
  assert.match(cfg, /^ {2}server mbr-c .* on-marked-down shutdown-sessions disabled$/m);
  assert.match(cfg, /^ {2}timeout server 7000ms$/m, "the pool's own member data timeout wins");
  assert.match(cfg, /^ {2}http-check expect rstatus \^\(200\|201\|202\|204\)\$$/m);
  assert.match(cfg, /^backend pool-source:lsn-tcp\n {2}mode tcp\n {2}balance source\n {2}hash-type consistent$/m);
  assert.match(cfg, /^ {2}stick on src$/m);
  assert.match(cfg, /^ {2}tcp-request inspect-delay 250ms$/m);
  assert.match(cfg, /^ {2}stick store-response res\.cook\(JSESSIONID\)$/m);
  assert.match(cfg, /^ {2}server mbr-e \[fd00::5\]:8080 weight 1$/m, 'no health monitor: no check');
  assert.match(cfg, /^ {2}nbthread 2$/m);
  assert.doesNotMatch(cfg, /backend [^\n]*lsn-empty/, 'a listener without a pool has no backend (HAProxy answers 503)');
  // Policies: marked in order (the first that matches wins), then acted on; a policy's pool has a backend of its own.
  assert.match(cfg, /^ {2}acl l7p-app-r2 path,regsub\(\^\.\*\/,\),regsub\(\^\[\^\.\]\*\$,\),regsub\(\^\.\*\[\.\],\) -m reg '\^\(png\|jpe\?g\)\$'$/m);
  assert.match(cfg, /^ {2}http-request set-var\(txn\.l7\) str\(l7p-app\) if !\{ var\(txn\.l7\) -m found \} l7p-app-r1 !l7p-app-r2 l7p-app-r3$/m);
  assert.match(cfg, /^ {2}acl l7p-url-r1 req\.hdr\(host\),field\(1,:\) -m str -i 'old\.example\.com'$/m);
  assert.match(cfg, /^ {2}http-request deny deny_status 403 if \{ var\(txn\.l7\) -m str l7p-reject \}$/m);
  assert.match(cfg, /^ {2}http-request redirect prefix 'https:\/\/m\.example\.com' code 308 if/m);
  assert.match(cfg, /^ {2}use_backend pool-app:lsn-http if \{ var\(txn\.l7\) -m str l7p-app \}$/m);
  assert.match(cfg, /^backend pool-app:lsn-http$/m);
  assert.doesNotMatch(cfg, /l7p-empty/, 'a policy without rules matches nothing');
  // TLS: the default certificate first, on both binds; members are told https.
  assert.match(cfg, /^ {2}bind 127\.0\.0\.1:8443 ssl crt \/run\/x\/tls\/cert-a\.pem crt \/run\/x\/tls\/cert-b\.pem alpn http\/1\.1$/m);
  assert.match(cfg, /^ {2}bind fd@11 ssl crt \/run\/x\/tls\/cert-a\.pem crt \/run\/x\/tls\/cert-b\.pem alpn http\/1\.1$/m);
  assert.match(cfg, /^frontend lsn-https\n[\s\S]*?X-Forwarded-Proto https$/m);
  assert.match(cfg, /^frontend lsn-http\n[\s\S]*?X-Forwarded-Proto http$/m);
  const files = sideFiles(CONFIG, '/run/x');
  assert.deepEqual(
    files.map((f) => f.path.replace(/[0-9a-f]{16}\.txt$/, 'H.txt')),
    ['/run/x/tls/cert-a.pem', '/run/x/tls/cert-b.pem', '/run/x/body/H.txt'],
  );
  // A fixed response's body is a file of its own, named by its content: no quoting to get wrong.
  assert.equal(files[2].content, '{"maintenance": "until 10:00 $HOME #1"}\n');
  assert.match(
    cfg,
    new RegExp(`^ {2}http-request return status 503 content-type "application/json" file ${files[2].path} if \\{ var\\(txn\\.l7\\) -m str l7p-fixed \\}$`, 'm'),
  );
  assert.match(cfg, /^ {2}http-request return status 204 if/m);
  assert.match(cfg, /^ {2}acl l7p-fixed-r1 url_param\(mode\) -m str 'maint'$/m);
  assert.match(cfg, /^ {2}acl l7p-fixed-r2 query -m sub 'x=1'$/m);
  assert.match(cfg, /^ {2}acl l7p-fixed-r3 src 10\.0\.0\.0\/8$/m);
  assert.match(cfg, /l7p-fixed-r1 l7p-fixed-r2 !l7p-fixed-r3$/m);
  assert.match(files[0].content, /-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----/, 'a file holds the certificate, then its key');
});

test('HAProxy itself accepts the rendered file (haproxy -c)', { skip: haproxyPath() ? false : 'haproxy is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-haproxy-'));
  try {
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(join(dir, 'servers.state'), '1\n'); // the agent makes it before HAProxy's first start
    for (const f of sideFiles(CONFIG, dir)) {
      mkdirSync(dirname(f.path), { recursive: true });
      writeFileSync(f.path, f.content, { mode: 0o600 });
    }
    writeFileSync(file, renderHaproxy(CONFIG, { dir, threads: 1 }));
    const r = spawnSync(haproxyPath()!, ['-c', '-f', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /\[WARNING\]/, 'and without a warning');
    // A file it refuses is refused (the check can fail).
    writeFileSync(file, renderHaproxy(CONFIG, { dir, threads: 1 }).replace('balance roundrobin', 'balance nonsense'));
    assert.notEqual(spawnSync(haproxyPath()!, ['-c', '-f', file]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const STAT = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,mode,conn_tot,dcon,dses,
lsn-http,FRONTEND,,,2,5,100,40,5000,9000,0,0,0,,,,,OPEN,,,0,30,0,2,1,http,12,1,0,
pool-cookie:lsn-http,mbr-a,0,0,1,2,,25,1,2,,0,,3,0,1,2,UP,1,1,0,25,0,0,0,http,,,,
pool-cookie:lsn-http,mbr-b,0,0,0,0,,8,1,2,,0,,0,0,0,0,DOWN 1/2,1,1,0,8,0,0,0,http,,,,
pool-cookie:lsn-http,BACKEND,0,0,1,2,,33,1,2,,0,,0,0,0,0,UP,2,2,0,33,0,0,0,http,,,,
pool-cookie:lsn-other,mbr-a,0,0,0,0,,5,1,2,,0,,1,0,0,0,MAINT,1,1,0,5,0,0,0,http,,,,
lsn-tcp,FRONTEND,,,0,1,100,7,10,20,0,0,0,,,,,OPEN,,,,,,,,tcp,7,0,0,
`;

test('show stat becomes health and counters: a listener per frontend, a member summed over its backends', () => {
  const { health: h, counters } = fromStat(parseStat(STAT), new Set(['lsn-http', 'lsn-tcp']));
  assert.deepEqual(h, { 'mbr-a': 'UP', 'mbr-b': 'DOWN' });
  assert.deepEqual(counters.listeners['lsn-http'], {
    connections: 12,
    refused: 1,
    active: 2,
    requests: { '2xx': 30, '4xx': 2, '5xx': 1 },
    bytesIn: 5000,
    bytesOut: 9000,
  });
  assert.deepEqual(counters.listeners['lsn-tcp'].requests, { connections: 7 });
  assert.deepEqual(counters.members['mbr-a'], { requests: 30, connectFailures: 4, active: 1, up: 1, redispatched: 2 });
  assert.equal(counters.members['mbr-b'].up, 0);
  for (const [s, want] of [
    ['UP', 'UP'],
    ['UP 1/3', 'UP'],
    ['no check', 'UP'],
    ['DOWN', 'DOWN'],
    ['DOWN 1/2', 'DOWN'],
    ['MAINT', 'DOWN'],
    ['MAINT (resolution)', 'DOWN'],
  ])
    assert.equal(healthOfStatus(s), want, s);
  assert.deepEqual(parseStat('not csv'), []);
});

test("HAProxy's log lines read as the built-in engine's: no member is null, an unmeasured time is null", () => {
  const base = { time: 't', client: 'c', listener: 'l', pool: 'p', bytesIn: 1, bytesOut: 2, durationMs: 3 };
  assert.deepEqual(fromHaproxy({ ...base, member: '<NOSRV>', status: null, result: 'closed', upstreamMs: null }), {
    ...base,
    member: null,
    status: null,
    result: 'no member',
    upstreamMs: null,
  });
  assert.deepEqual(fromHaproxy({ ...base, member: '<NOSRV>', method: 'GET', path: '/', status: 503, upstreamMs: -1 }), {
    ...base,
    member: null,
    method: 'GET',
    path: '/',
    status: 503,
    upstreamMs: null,
  });
  assert.deepEqual(fromHaproxy({ ...base, member: 'm', status: 200, upstreamMs: 1, policy: '-' }), { ...base, member: 'm', status: 200, upstreamMs: 1 });
  const plain = { ...base, member: 'm', status: 200, upstreamMs: 1, policy: 'l7p-1' };
  assert.equal(fromHaproxy(plain), plain);
});

test('counters carry over a reload: totals add up, gauges are the running worker’s', () => {
  const l = (n: number, active: number) => ({ connections: n, refused: 0, active, requests: { '2xx': n }, bytesIn: n, bytesOut: n });
  const m = (n: number, up: number) => ({ requests: n, connectFailures: 1, active: n % 2, up, redispatched: 0 });
  const before = { listeners: { a: l(10, 3), gone: l(5, 0) }, members: { x: m(10, 1) } };
  const now = { listeners: { a: { ...l(4, 1), requests: { '2xx': 3, '5xx': 1 } } }, members: { x: m(4, 0), y: m(2, 1) } };
  assert.deepEqual(carried(before, now), {
    listeners: { a: { connections: 14, refused: 0, active: 1, requests: { '2xx': 13, '5xx': 1 }, bytesIn: 14, bytesOut: 14 } },
    members: { x: { requests: 14, connectFailures: 2, active: 0, up: 0, redispatched: 0 }, y: m(2, 1) },
  });
});

test("a policy table's `show table` gives the requests per policy", () => {
  const text =
    '# table: policies:lsn-http, type: string, size:15, used:2\n0x55f1c0: key=l7p-api use=0 exp=0 shard=0 http_req_cnt=7\n0x55f1d0: key=l7p-reject use=0 exp=0 shard=0 http_req_cnt=2\n\n';
  assert.deepEqual(parsePolicyTable(text), { 'l7p-api': 7, 'l7p-reject': 2 });
  assert.deepEqual(parsePolicyTable(''), {});
  const l = (policies?: Record<string, number>) => ({
    connections: 1,
    refused: 0,
    active: 0,
    requests: {},
    bytesIn: 0,
    bytesOut: 0,
    ...(policies ? { policies } : {}),
  });
  assert.deepEqual(carried({ listeners: { a: l({ p: 2, q: 1 }) }, members: {} }, { listeners: { a: l({ p: 3 }) }, members: {} }).listeners.a.policies, {
    p: 5,
    q: 1,
  });
});

test("a pool no HAProxy listener sends to (a kernel TCP listener's) is still checked: a backend of its own, with no frontend", () => {
  const tcpHealth = { ...health, type: 'TCP' as const };
  const config: EngineConfig = {
    ...CONFIG,
    pools: [
      ...CONFIG.pools,
      { id: 'pool-kernel', algorithm: 'ROUND_ROBIN', persistence: null, health: tcpHealth, members: [member('mbr-k')] },
      { id: 'pool-plain', algorithm: 'ROUND_ROBIN', persistence: null, health: null, members: [member('mbr-p')] },
    ],
  };
  const text = renderHaproxy(config, { dir: '/run/x', threads: 1 });
  const block = text.slice(text.indexOf('backend pool-kernel:checks'));
  assert.ok(text.includes('backend pool-kernel:checks'), text);
  assert.match(block, /mode tcp/);
  assert.match(block, /server mbr-k 10\.0\.0\.1:8080 weight 1 check inter 2000ms fall 3 rise 2/);
  assert.ok(!text.includes('pool-plain'), 'a pool with no health monitor needs no checks');
  // A pool a listener already sends to gets no second backend.
  assert.ok(!text.includes('pool-cookie:checks'));
  if (haproxyPath()) {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-haproxy-'));
    try {
      const only: EngineConfig = { listeners: [], pools: config.pools.filter((p) => p.id === 'pool-kernel') };
      const file = join(dir, 'haproxy.cfg');
      writeFileSync(join(dir, 'servers.state'), '1\n');
      writeFileSync(file, renderHaproxy(only, { dir, threads: 1 }));
      const r = spawnSync(haproxyPath()!, ['-c', '-f', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("an HTTP monitor on a TCP listener's pool checks over HTTP, as Nimbus's own engine does; a TCP monitor connects only", () => {
  const httpOnTcp = { ...CONFIG, pools: CONFIG.pools.map((p) => (p.id === 'pool-source' ? { ...p, health: { ...p.health!, type: 'HTTP' as const } } : p)) };
  const section = (cfg: string) => cfg.split(/^backend pool-source:lsn-tcp$/m)[1].split(/^(?:frontend|backend) /m)[0];
  const tcp = section(renderHaproxy(httpOnTcp, { dir: '/run/x', threads: 1 }));
  assert.match(tcp, /^ {2}mode tcp$/m);
  assert.match(
    tcp,
    /^ {2}option httpchk\n {2}http-check send meth GET uri \/healthz hdr User-Agent nimbus-health-check\n {2}http-check expect rstatus \^\(200\|201\|202\|204\)\$$/m,
  );
  assert.doesNotMatch(section(renderHaproxy(CONFIG, { dir: '/run/x', threads: 1 })), /httpchk/);
});
