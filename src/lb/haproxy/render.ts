/**
 * The engine configuration as an HAProxy 2.6 configuration file (pure), in Octavia's mapping
 * (see HAPROXY-NOTES): a frontend per listener, a backend per listener's pool, a server per
 * member. Access-log lines are Nimbus's JSON records, written by HAProxy itself through
 * `log-format` onto its standard output, which the agent points at the load balancer's access
 * log. Names are ids: a frontend is its listener's id, a backend `<pool id>:<listener id>`, a
 * server its member's id; the stats and the log speak in ids (stats.ts reads them back).
 */
import {
  configDigest,
  DEFAULT_TIMEOUTS,
  HEALTH_CHECK_AGENT,
  LB_COOKIE,
  withPool,
  type EngineConfig,
  type ListenerConfig,
  type PolicyConfig,
  type PoolConfig,
  type RuleConfig,
} from '../config.js';
import { createHash } from 'node:crypto';
import { heldKey } from '../holder.js';

export interface RenderPlace {
  /** The agent's own folder: the stats socket, the server state file, certificates and bodies. */
  dir: string;
  /** HAProxy's threads (the load balancer's workers). */
  threads: number;
  /** The listening sockets the holder keeps (holder.ts), by `ADDR:PORT`: bound as `fd@N`; the others by address. */
  fds?: Record<string, number>;
  /**
   * The public IP's sockets, opened by the daemon on the host and handed into the holder, by
   * `listenerId:port` (publicKey): bound as `fd@N`, so the public IP's connections reach
   * HAProxy as they reach HAProxy alone, with no hop between.
   */
  publicFds?: Record<string, number>;
}

/** Every `ADDR:PORT` the listeners listen on (the VIPs), which the holder opens and keeps. */
export function bindKeys(config: EngineConfig): string[] {
  return [...new Set(config.listeners.flatMap((l) => l.bind.map((ip) => heldKey(ip, l.port))))].sort();
}

/** The key a listener's public socket is handed into the holder under (the daemon's, load-balancers.ts). */
export const publicKey = (l: { id: string; port: number }) => `${l.id}:${l.port}`;
export const statsSocket = (dir: string) => `${dir}/stats.sock`;
export const serverStateFile = (dir: string) => `${dir}/servers.state`;
/** A TERMINATED_HTTPS listener's certificate as HAProxy reads it: the certificate, its chain and its key in one file (0600, the agent's). */
export const certFile = (dir: string, certId: string) => `${dir}/tls/${certId}.pem`;
/** A fixed response's body as HAProxy reads it (`http-request return ... file`): named by its content, so a file never changes under its name. */
export const bodyFile = (dir: string, body: string) => `${dir}/body/${createHash('sha256').update(body).digest('hex').slice(0, 16)}.txt`;
/** The folders of the files beside the configuration (side files): the agent removes what no configuration names any more. */
export const SIDE_DIRS = ['tls', 'body'];
/** The files a configuration needs beside it (certificates with their keys, fixed responses' bodies), with their content. */
export function sideFiles(config: EngineConfig, dir: string): { path: string; content: string }[] {
  const seen = new Map<string, string>();
  for (const l of config.listeners) {
    for (const c of l.tls?.certificates ?? []) seen.set(certFile(dir, c.id), `${c.cert.trimEnd()}\n${c.key.trimEnd()}\n`);
    for (const p of l.policies ?? []) if (p.fixed?.body) seen.set(bodyFile(dir, p.fixed.body), p.fixed.body);
  }
  return [...seen].map(([path, content]) => ({ path, content }));
}
export const backendName = (poolId: string, listenerId: string) => `${poolId}:${listenerId}`;
/** The backend of a pool only checked (no HAProxy listener sends to it) is `<pool id>:checks`. */
const CHECK_ONLY = 'checks';
/** The stick table counting the requests each of a listener's policies decided. */
export const policyTable = (listenerId: string) => `policies:${listenerId}`;
/** What `show info` says as the description of a process running `config`: how the agent knows a reload took. */
export const describe = (config: EngineConfig) => `nimbus-${configDigest(config)}`;

const seconds = (ms: number) => `${Math.max(0, Math.round(ms))}ms`;

/** HAProxy's quoted string: a log-format or a value with spaces. */
const q = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;

/**
 * Expected codes ("200", "200,202", "200-204") as the anchored regular expression
 * `http-check expect rstatus` takes, each code written out (as Octavia does).
 */
export function expectedCodesRegex(codes: string): string {
  const out: number[] = [];
  for (const part of codes.split(',')) {
    const [a, b] = part.trim().split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return `^(${out.join('|')})$`;
}

/** One access-log line per request (HTTP) or per connection (TCP), with the keys and order of formatRecord (observe.ts). */
function logFormat(l: ListenerConfig, pool: PoolConfig | null): string {
  // HTTP: when the response left (txn.t); TCP: when the connection came (sess.t); as ISO 8601 with milliseconds.
  const v = l.protocol === 'HTTP' ? 'txn.t' : 'sess.t';
  const time = `%[var(${v}),div(1000),utime(%Y-%m-%dT%H:%M:%S)].%[var(${v}),mod(1000),add(1000),regsub(^1,)]Z`;
  const head = `{"time":"${time}","client":"%ci:%cp","listener":"${l.id}","pool":${pool ? `"${pool.id}"` : 'null'},"member":%{+Q}s`;
  const bytes = ',"bytesIn":%U,"bytesOut":%B';
  const policy = l.policies?.length ? ',"policy":"%[var(txn.l7)]"' : '';
  if (l.protocol === 'HTTP') return `${head},"method":%{+Q}HM,"path":%{+Q}HPO,"status":%ST${bytes},"durationMs":%Ta,"upstreamMs":%Tr${policy}}`;
  return `${head},"status":null,"result":"closed"${bytes},"durationMs":%Tt,"upstreamMs":null}`;
}

function frontend(l: ListenerConfig, pool: PoolConfig | null, place: RenderPlace): string[] {
  const t = l.timeouts ?? DEFAULT_TIMEOUTS;
  const http = l.protocol === 'HTTP';
  const out = [`frontend ${l.id}`, `  mode ${http ? 'http' : 'tcp'}`];
  // TERMINATED_HTTPS: TLS ends here; the first certificate is the default, the others are chosen by SNI (HAProxy reads their names).
  const ssl = l.tls ? ` ssl${l.tls.certificates.map((c) => ` crt ${certFile(place.dir, c.id)}`).join('')} alpn http/1.1` : '';
  for (const ip of l.bind) {
    const fd = place.fds?.[heldKey(ip, l.port)];
    out.push(`  bind ${fd === undefined ? `${ip}:${l.port}` : `fd@${fd}`}${ssl}`);
  }
  const pub = place.publicFds?.[publicKey(l)];
  if (pub !== undefined) out.push(`  bind fd@${pub}${ssl}`);
  if ((l.connectionLimit ?? -1) >= 0) out.push(`  maxconn ${l.connectionLimit}`);
  out.push(`  timeout client ${seconds(t.clientData)}`);
  out.push(`  log-format ${q(logFormat(l, pool))}`);
  if (http) {
    out.push(`  timeout http-request ${seconds(t.httpRequest)}`, `  timeout http-keep-alive ${seconds(t.clientData)}`);
    // What Nimbus's engine refuses and HAProxy would pass on (the framing contract): header names a CGI, WSGI or
    // PHP member reads as Transfer-Encoding, Content-Length or Host; a Host with a space; CONNECT (no forward proxy).
    out.push(
      "  http-request deny deny_status 400 if { req.hdr_names -m reg -i '(^|,)(transfer_?encoding|content_?length|h_ost|ho_st|hos_t)(,|$)' }",
      "  http-request deny deny_status 400 if { req.hdr(host) -m reg '[[:space:]]' }",
      '  http-request deny deny_status 405 if METH_CONNECT',
    );
    // A body is parsed (up to a buffer) before the member is chosen: a malformed chunk is refused before any member sees the head.
    out.push('  option http-buffer-request');
    out.push(
      '  option forwardfor',
      `  http-request set-header X-Forwarded-Proto ${l.tls ? 'https' : 'http'}`,
      `  http-request set-header X-Forwarded-Port ${l.port}`,
    );
    out.push('  http-after-response set-var(txn.t) date(0,ms)');
    // A reload does not close idle keep-alive connections under a client about to reuse them: their next answer says close.
    out.push('  option idle-close-on-response');
  } else {
    out.push('  tcp-request session set-var(sess.t) date(0,ms)');
    if ((t.tcpInspect ?? 0) > 0) out.push(`  tcp-request inspect-delay ${seconds(t.tcpInspect!)}`, '  tcp-request content accept if { req.len gt 0 }');
  }
  if (http && l.policies?.length) out.push(...policyLines(l, place));
  if (pool) out.push(`  default_backend ${backendName(pool.id, l.id)}`);
  return out;
}

const MATCH: Record<RuleConfig['compare'], string> = { EQUAL_TO: 'str', STARTS_WITH: 'beg', ENDS_WITH: 'end', CONTAINS: 'sub', REGEX: 'reg' };

/** What a rule reads, as an HAProxy sample (a file type: what follows the last dot of the path's last segment). */
function fetchOf(r: RuleConfig): string {
  if (r.type === 'HOST_NAME') return 'req.hdr(host),field(1,:)';
  if (r.type === 'QUERY_STRING') return r.key === null ? 'query' : `url_param(${r.key})`;
  if (r.type === 'PATH') return 'path';
  if (r.type === 'FILE_TYPE') return 'path,regsub(^.*/,),regsub(^[^.]*$,),regsub(^.*[.],)';
  return r.type === 'HEADER' ? `req.hdr(${r.key})` : `req.cook(${r.key})`;
}

/**
 * A listener's L7 policies. HAProxy applies every deny, then every redirect, then the
 * use_backends, whatever their order; so that the first policy by position wins whatever its
 * action, each policy whose rules match marks the transaction with its id when no earlier one
 * did (txn.l7), and the actions follow the mark. The access log names the policy.
 */
function policyLines(l: ListenerConfig, place: RenderPlace): string[] {
  const out: string[] = [];
  const live = l.policies!.filter((p) => p.rules.length > 0); // a policy without rules matches nothing
  for (const p of live) {
    for (const r of p.rules)
      out.push(
        r.type === 'SOURCE_IP'
          ? `  acl ${aclName(p, r)} src ${r.value}`
          : `  acl ${aclName(p, r)} ${fetchOf(r)} -m ${MATCH[r.compare]}${r.type === 'HOST_NAME' ? ' -i' : ''} '${r.value}'`,
      );
    const conds = p.rules.map((r) => `${r.invert ? '!' : ''}${aclName(p, r)}`).join(' ');
    out.push(`  http-request set-var(txn.l7) str(${p.id}) if !{ var(txn.l7) -m found } ${conds}`);
  }
  // Requests per policy: a stick table keyed by the policy's id (the agent reads it with `show table`).
  out.push(`  http-request track-sc0 var(txn.l7) table ${policyTable(l.id)} if { var(txn.l7) -m found }`);
  for (const p of live) {
    const marked = `if { var(txn.l7) -m str ${p.id} }`;
    if (p.action === 'REJECT') out.push(`  http-request deny deny_status 403 ${marked}`);
    else if (p.action === 'REDIRECT_TO_URL') out.push(`  http-request redirect location '${p.url}' code ${p.code ?? 302} ${marked}`);
    else if (p.action === 'REDIRECT_PREFIX') out.push(`  http-request redirect prefix '${p.prefix!.replace(/\/+$/, '')}' code ${p.code ?? 302} ${marked}`);
    else if (p.action === 'FIXED_RESPONSE') {
      const f = p.fixed!;
      // A content type goes with a body only (HAProxy ignores it otherwise, with a warning).
      out.push(`  http-request return status ${f.status}${f.body ? ` content-type ${q(f.contentType)} file ${bodyFile(place.dir, f.body)}` : ''} ${marked}`);
    }
  }
  for (const p of live) if (p.action === 'REDIRECT_TO_POOL') out.push(`  use_backend ${backendName(p.poolId!, l.id)} if { var(txn.l7) -m str ${p.id} }`);
  return out;
}

/** An ACL's name: its policy's id and the rule's place in it. */
const aclName = (p: PolicyConfig, r: RuleConfig) => `${p.id}-r${p.rules.indexOf(r) + 1}`;

const ALGORITHM: Record<PoolConfig['algorithm'], string> = { ROUND_ROBIN: 'roundrobin', LEAST_CONNECTIONS: 'leastconn', SOURCE_IP: 'source' };

function backend(l: ListenerConfig, pool: PoolConfig): string[] {
  const t = withPool(l.timeouts ?? DEFAULT_TIMEOUTS, pool);
  const http = l.protocol === 'HTTP';
  const out = [`backend ${backendName(pool.id, l.id)}`, `  mode ${http ? 'http' : 'tcp'}`, `  balance ${ALGORITHM[pool.algorithm]}`];
  if (pool.algorithm === 'SOURCE_IP') out.push('  hash-type consistent');
  out.push(`  timeout connect ${seconds(t.memberConnect)}`, `  timeout server ${seconds(t.memberData)}`);
  // A member that refuses or does not answer the connection: the request goes to another (as the built-in engine does).
  out.push('  retries 3', '  option redispatch 1', '  load-server-state-from-file global');
  const p = pool.persistence;
  if (p?.type === 'SOURCE_IP') out.push('  stick-table type ipv6 size 10k expire 30m', '  stick on src');
  if (p?.type === 'HTTP_COOKIE' && http) out.push(`  cookie ${LB_COOKIE} insert indirect nocache httponly`);
  if (p?.type === 'APP_COOKIE' && http)
    out.push(
      '  stick-table type string len 64 size 10k expire 30m',
      `  stick store-response res.cook(${p.cookieName})`,
      `  stick match req.cook(${p.cookieName})`,
    );
  const h = pool.health;
  // An HTTP monitor checks over HTTP on a TCP listener's pool too, as Nimbus's own engine does (HAProxy sends it in tcp mode).
  if (h?.type === 'HTTP') {
    // Sent as Nimbus's own engine sends it (health/probes.ts), so a member's log tells checks from clients the same way.
    out.push(
      '  option httpchk',
      `  http-check send meth GET uri ${h.urlPath || '/'} hdr User-Agent ${HEALTH_CHECK_AGENT}`,
      `  http-check expect rstatus ${expectedCodesRegex(h.expectedCodes || '200')}`,
    );
  }
  if (h) out.push(`  timeout check ${seconds(h.timeoutMs)}`);
  if (http)
    out.push(
      '  http-reuse safe',
      // A kept member connection closed as a request goes out on it (an app restarted, a server stopped): the request
      // is sent again on a fresh connection, as the built-in engine does, instead of the client's connection being
      // closed with no answer. Only for methods safe to repeat (RFC 9110 9.2.2); a connection failure is retried for all.
      ...L7_RETRIES,
    );
  for (const m of pool.members) {
    let line = `  server ${m.id} ${m.host.includes(':') ? `[${m.host}]` : m.host}:${m.port} weight ${m.weight}`;
    if (p?.type === 'HTTP_COOKIE' && http) line += ` cookie ${m.id}`;
    if (h) line += ` check inter ${seconds(h.delayMs)} fall ${h.fall} rise ${h.rise}`;
    // A member whose server is gone: its sessions are cut when it is marked down (the built-in engine's `gone`).
    if (m.gone) line += ' on-marked-down shutdown-sessions';
    if (!m.enabled) line += ' disabled';
    out.push(line);
  }
  return out;
}

/** An HTTP backend's L7 retries (they cost HAProxy a copy of each request: docs/performance.md). */
export const L7_RETRIES = [
  '  retry-on conn-failure empty-response',
  '  http-request disable-l7-retry if !METH_GET !METH_OPTIONS !METH_TRACE !{ method PUT DELETE }',
];

/** The whole file. */
export function renderHaproxy(config: EngineConfig, place: RenderPlace): string {
  const lines = [
    '# Rendered by Nimbus from the store; every change replaces it (a hitless reload).',
    'global',
    `  description ${describe(config)}`,
    // expose-fd listeners: a reload hands the listening sockets to the new worker (the master adds -x), so none is closed with connections in its queue.
    `  stats socket ${statsSocket(place.dir)} mode 600 level admin expose-fd listeners`,
    `  server-state-file ${serverStateFile(place.dir)}`,
    '  log stdout format raw local0',
    // TLS 1.2 and 1.3, as node's defaults (the built-in engine's).
    '  ssl-default-bind-options ssl-min-ver TLSv1.2',
    `  nbthread ${Math.max(1, place.threads)}`,
    // Old processes still serving long connections after a reload end within this (HAProxy notes: lingering workers).
    '  hard-stop-after 60s',
    '  mworker-max-reloads 50',
    'defaults',
    '  log global',
    '  option dontlognull',
    '  timeout connect 5s',
    '  timeout client 50s',
    '  timeout server 50s',
  ];
  for (const l of config.listeners) {
    const pool = config.pools.find((p) => p.id === l.poolId) ?? null;
    // A listener with no socket yet (on the virtual plane, its public one not yet handed in) has no frontend: HAProxy warns of one without a bind.
    if (l.bind.length > 0 || place.publicFds?.[publicKey(l)] !== undefined) lines.push('', ...frontend(l, pool, place));
    // The default pool's backend, and those of the pools the listener's policies send to.
    const ids = new Set([l.poolId, ...(l.policies ?? []).map((p) => p.poolId)].filter((id): id is string => !!id));
    for (const id of ids) {
      const p = config.pools.find((x) => x.id === id);
      if (p) lines.push('', ...backend(l, p));
    }
    if (l.protocol === 'HTTP' && l.policies?.length)
      lines.push('', `backend ${policyTable(l.id)}`, `  stick-table type string len 64 size ${l.policies.length + 10} store http_req_cnt`);
  }
  // A pool no HAProxy listener sends to (a kernel TCP listener's, on the linux plane) is still
  // checked here, as the built-in worker checks every pool: its members' health decides which
  // of them the kernel path admits. A backend with no frontend only runs the checks.
  const served = new Set(config.listeners.flatMap((l) => [l.poolId, ...(l.policies ?? []).map((p) => p.poolId)]));
  for (const p of config.pools) {
    if (served.has(p.id) || !p.health) continue;
    const checker: ListenerConfig = { id: CHECK_ONLY, protocol: p.health.type === 'HTTP' ? 'HTTP' : 'TCP', port: 0, poolId: p.id, bind: [] };
    lines.push('', ...backend(checker, p));
  }
  return lines.join('\n') + '\n';
}
