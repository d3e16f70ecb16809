/**
 * `nimbus lb|listener|pool|member|healthmonitor ...` and `nimbus server logs`.
 */
import type { Command } from 'commander';
import type { HealthMonitor, Listener, LoadBalancer, Pool } from '../core/model/index.js';
import { LISTENER_LIMITS, POOL_LIMITS } from '../core/model/listener-limits.js';
import type { LbStatus, MemberView } from '../client/client.js';
import type { Column } from './output.js';
import { table } from './output.js';
import { act, collect, int, structured } from './shared.js';
import { standardVerbs } from './network.js';

const LB: Column<LoadBalancer>[] = [
  { header: 'NAME', value: (l) => l.name },
  { header: 'ID', value: (l) => l.id },
  { header: 'VIP', value: (l) => l.vip },
  { header: 'PUBLIC IP', value: (l) => l.publicIp },
  { header: 'SUBNET', value: (l, n) => n.of('subnet', l.subnetId), refs: ['subnet'] },
  { header: 'STATUS', value: (l) => l.provisioningStatus },
];
const LISTENER: Column<Listener>[] = [
  { header: 'NAME', value: (l) => l.name },
  { header: 'ID', value: (l) => l.id },
  { header: 'PROTOCOL', value: (l) => l.protocol },
  { header: 'PORT', value: (l) => l.port },
  { header: 'POOL', value: (l, n) => n.of('pool', l.defaultPoolId), refs: ['pool'] },
  {
    header: 'CERTIFICATES (DEFAULT FIRST)',
    value: (l, n) => (l.certificateId ? [l.certificateId, ...(l.sniCertificateIds ?? [])].map((id) => n.of('certificate', id)).join(', ') : ''),
    refs: ['certificate'],
    optional: true,
  },
];
const POOL: Column<Pool>[] = [
  { header: 'NAME', value: (p) => p.name },
  { header: 'ID', value: (p) => p.id },
  { header: 'PROTOCOL', value: (p) => p.protocol },
  { header: 'ALGORITHM', value: (p) => p.algorithm },
  {
    header: 'PERSISTENCE',
    value: (p) => (p.sessionPersistence ? `${p.sessionPersistence.type}${p.sessionPersistence.cookieName ? `(${p.sessionPersistence.cookieName})` : ''}` : '-'),
  },
];
const MEMBER: Column<MemberView>[] = [
  { header: 'NAME', value: (m) => m.name },
  { header: 'ID', value: (m) => m.id },
  { header: 'ADDRESS', value: (m) => `${m.address}:${m.port}` },
  { header: 'WEIGHT', value: (m) => m.weight },
  { header: 'ADMIN', value: (m) => (m.adminStateUp ? 'up' : 'down') },
  { header: 'STATUS', value: (m) => m.operatingStatus ?? '-' },
  { header: 'REASON', value: (m) => m.statusReason ?? '' },
];
const MONITOR: Column<HealthMonitor>[] = [
  { header: 'NAME', value: (h) => h.name },
  { header: 'ID', value: (h) => h.id },
  { header: 'TYPE', value: (h) => h.type },
  { header: 'CHECK', value: (h) => (h.type === 'HTTP' ? `GET ${h.urlPath} -> ${h.expectedCodes}` : 'connect') },
  { header: 'DELAY', value: (h) => `${h.delay}s` },
  { header: 'TIMEOUT', value: (h) => `${h.timeout}s` },
  { header: 'RISE/FALL', value: (h) => `${h.maxRetries}/${h.maxRetriesDown}` },
];

function showStatus(s: LbStatus): string {
  const lines = [
    `load balancer  ${s.name} (${s.id})`,
    `vip            ${s.vip}`,
    `public ip      ${s.publicIp ?? '-'}`,
    `status         ${s.provisioningStatus} / ${s.operatingStatus}${s.workerRunning ? '' : ' (worker not running)'}`,
  ];
  if ((s.workers ?? 1) > 1) lines.push(`workers        ${s.workers}`);
  for (const e of s.errors) lines.push(`error          ${e}`);
  lines.push('', 'listeners:');
  lines.push(
    ...table(s.listeners, [
      { header: '  NAME', value: (l) => `  ${l.name}` },
      { header: 'PROTOCOL', value: (l) => l.protocol },
      { header: 'PORT', value: (l) => l.port },
      { header: 'POOL', value: (l) => s.pools.find((p) => p.id === l.defaultPoolId)?.name ?? '-' },
      { header: 'ENGINE', value: (l) => l.engine },
      { header: 'REQUESTS', value: (l) => (l.counters ? Object.values(l.counters.requests).reduce((a, b) => a + b, 0) : 0) },
      { header: 'ACTIVE', value: (l) => (l.engine === 'kernel' ? '-' : (l.counters?.active ?? 0)) },
    ])
      .trimEnd()
      .split('\n'),
  );
  for (const l of s.listeners) if (l.protocol === 'TCP') lines.push(`  ${l.name}: ${l.engine}, ${l.engineReason}`);
  for (const p of s.pools) {
    const hm = p.healthMonitor;
    lines.push(
      '',
      `pool ${p.name}: ${p.protocol} ${p.algorithm}${p.sessionPersistence ? ` persistence ${p.sessionPersistence.type}` : ''}, ${p.operatingStatus}${hm ? `; health ${hm.type} every ${hm.delay}s` : '; no health monitor'}`,
    );
    const kernel = s.listeners.some((l) => l.engine === 'kernel' && l.defaultPoolId === p.id);
    const traffic: Column<MemberView>[] = kernel
      ? [
          { header: 'CONNS', value: (m) => s.memberCounters[m.id]?.requests ?? 0 },
          { header: 'PACKETS', value: (m) => s.memberCounters[m.id]?.packets ?? 0 },
          { header: 'BYTES', value: (m) => s.memberCounters[m.id]?.bytes ?? 0 },
        ]
      : [];
    lines.push(
      ...table(p.members, [
        ...MEMBER.filter((c) => c.header !== 'ID').map((c, i) => (i === 0 ? { ...c, header: `  ${c.header}`, value: (m: MemberView) => `  ${m.name}` } : c)),
        ...traffic,
      ])
        .trimEnd()
        .split('\n'),
    );
  }
  return lines.join('\n') + '\n';
}

const WORKERS_HELP = 'worker processes, 1-16 (default 1); with 2 or more, one that dies loses only its own connections';

type Limits = Partial<Record<keyof typeof LISTENER_LIMITS, number>>;
type PoolLimits = Partial<Record<keyof typeof POOL_LIMITS, number | null>>;

/** Limits as options (milliseconds), defaults in the help: Octavia's listener limits, or a pool's own timeouts. */
function limitOptions(cmd: Command, limits: Record<string, { description: string; default?: number }> = LISTENER_LIMITS): Command {
  for (const [key, spec] of Object.entries(limits)) {
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (limits === POOL_LIMITS) cmd.option(`--${flag} <n>`, `${spec.description}; 'listener' to use the listener's again`, intOr(flag, 'listener'));
    else cmd.option(`--${flag} <n>`, `${spec.description} (default ${spec.default})`, int(flag));
  }
  return cmd;
}

/** An integer option that may also be `word` (null in the request). */
function intOr(flag: string, word: string): (v: string) => number | null {
  const parse = int(flag);
  return (v) => (v === word ? null : parse(v));
}

function limitsOf(o: object, limits: object = LISTENER_LIMITS): Record<string, number | null> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => k in limits && v !== undefined)) as Record<string, number | null>;
}

export function lbCommands(program: Command): void {
  const lb = program.command('lb').alias('load-balancer').description('elastic load balancers');
  lb.command('create')
    .description('create a load balancer in a subnet')
    .requiredOption('--name <name>', 'load balancer name')
    .requiredOption('--subnet <ref>', 'subnet (name or id)')
    .option('--vip <ip>', 'private VIP; the lowest free address when absent')
    .option('--public', 'also give it a public IP from 127.0.1.0/24')
    .option('--public-ip <ip>', 'the public IP wanted (127.0.1.x)')
    .option('--workers <n>', WORKERS_HELP, int('workers'))
    .action(
      act(LB, (c, o: { name: string; subnet: string; vip?: string; public?: boolean; publicIp?: string; workers?: number }) =>
        c.loadBalancers.create({ name: o.name, subnet: o.subnet, vip: o.vip, publicIp: o.publicIp ?? (o.public ? true : undefined), workers: o.workers }),
      ),
    );
  standardVerbs(lb, 'load balancer', LB, (c) => c.loadBalancers);
  // `lb update` changes the number of workers too.
  const lbUpdate = lb.commands.find((x) => x.name() === 'update')!;
  lbUpdate.description('rename a load balancer or change its number of workers');
  lbUpdate.options.find((o) => o.long === '--name')?.makeOptionMandatory(false);
  lbUpdate
    .option('--workers <n>', WORKERS_HELP, int('workers'))
    .action(act(LB, (c, ref: string, o: { name?: string; workers?: number }) => c.loadBalancers.update(ref, { name: o.name, workers: o.workers })));
  lb.commands
    .find((x) => x.name() === 'delete')!
    .option('--cascade', "also delete its listeners, pools, members and health monitors (Octavia's cascade)")
    .action(act(LB, (c, ref: string, o: { cascade?: boolean }) => c.loadBalancers.delete(ref, { cascade: o.cascade })));
  // `lb show` prints the whole tree: listeners, pools and members with their health.
  const show = lb.commands.find((x) => x.name() === 'show')!;
  show.action(
    act(null, async (c, ref: string, _o: unknown, cmd: Command) => {
      const s = await c.loadBalancers.status(ref);
      if (!(await structured(cmd, s))) process.stdout.write(showStatus(s));
    }),
  );

  lb.command('logs')
    .description("print the load balancer's access log: its last requests (TCP: connections), oldest first")
    .argument('<ref>', 'load balancer (name or id)')
    .option('--tail <n>', 'how many (1-10000)', int('tail'), 20)
    .action(
      act(null, async (c, ref: string, o: { tail: number }, cmd: Command) => {
        const { requests } = await c.loadBalancers.logs(ref, o.tail);
        if (await structured(cmd, requests)) return;
        // Kernel listeners count connections per member (lb show) but log none of them.
        const kernel = (await c.loadBalancers.status(ref)).listeners.filter((l) => l.engine === 'kernel').map((l) => l.name);
        if (kernel.length > 0)
          process.stderr.write(
            `note: ${kernel.join(', ')} ${kernel.length === 1 ? 'is a kernel listener' : 'are kernel listeners'}: connections are counted per member (lb show), not logged\n`,
          );
        if (requests.length === 0) return void process.stdout.write('no requests logged\n');
        process.stdout.write(
          table(requests, [
            { header: 'TIME', value: (r) => r.time },
            { header: 'CLIENT', value: (r) => r.client },
            { header: 'REQUEST', value: (r) => (r.method ? `${r.method} ${r.path}` : 'TCP') },
            { header: 'STATUS', value: (r) => (r.status === null ? (r.result ?? '-') : String(r.status)) },
            { header: 'MEMBER', value: (r) => r.memberName ?? r.member ?? '-' },
            ...(requests.some((r) => r.policy) ? [{ header: 'POLICY', value: (r: (typeof requests)[number]) => r.policyName ?? r.policy ?? '-' }] : []),
            { header: 'IN', value: (r) => String(r.bytesIn) },
            { header: 'OUT', value: (r) => String(r.bytesOut) },
            { header: 'MS', value: (r) => String(r.durationMs) },
          ]),
        );
      }),
    );

  const listener = program.command('listener').description('listeners of load balancers');
  listener
    .command('create')
    .description('create a listener')
    .requiredOption('--name <name>', 'listener name')
    .requiredOption('--lb <ref>', 'load balancer (name or id)')
    .requiredOption('--protocol <p>', 'http, tcp or terminated_https (https: the same)')
    .requiredOption('--port <n>', 'front-end port', int('port'))
    .option('--pool <ref>', 'default pool (name or id)')
    .option('--cert <ref>', 'terminated_https: the certificate served by default (name or id)')
    .option('--sni-cert <ref>', 'terminated_https: a certificate chosen by the SNI name it holds; repeatable', collect);
  limitOptions(listener.commands[listener.commands.length - 1]).action(
    act(LISTENER, (c, o: { name: string; lb: string; protocol: string; port: number; pool?: string; cert?: string; sniCert?: string[] } & Limits) =>
      c.listeners.create({
        name: o.name,
        loadBalancer: o.lb,
        protocol: o.protocol,
        port: o.port,
        defaultPool: o.pool,
        certificate: o.cert,
        sniCertificates: o.sniCert,
        ...limitsOf(o),
      }),
    ),
  );
  standardVerbs(listener, 'listener', LISTENER, (c) => c.listeners);
  // `listener update` changes the pool and the limits too (a new name is then optional).
  const update = listener.commands.find((x) => x.name() === 'update')!;
  update.options.find((o) => o.long === '--name')?.makeOptionMandatory(false);
  update
    .option('--cert <ref>', 'terminated_https: the certificate served by default (name or id)')
    .option('--sni-cert <ref>', "terminated_https: a certificate chosen by SNI; repeatable, replaces the listener's", collect)
    .option('--no-sni-cert', 'terminated_https: no certificates chosen by SNI');
  limitOptions(update.option('--pool <ref>', 'default pool (name or id)')).action(
    act(LISTENER, (c, ref: string, o: { name?: string; pool?: string; cert?: string; sniCert?: string[] | false } & Limits) =>
      c.listeners.update(ref, {
        name: o.name,
        defaultPool: o.pool,
        certificate: o.cert,
        sniCertificates: o.sniCert === false ? [] : o.sniCert,
        ...limitsOf(o),
      }),
    ),
  );

  const pool = program.command('pool').description('back-end server groups of load balancers');
  pool
    .command('create')
    .description('create a pool')
    .requiredOption('--name <name>', 'pool name')
    .requiredOption('--lb <ref>', 'load balancer (name or id)')
    .requiredOption('--protocol <p>', 'http or tcp')
    .requiredOption('--algorithm <a>', 'round_robin, least_connections or source_ip')
    .option('--persistence <type>', 'source_ip, http_cookie or app_cookie')
    .option('--cookie-name <name>', 'the application cookie (app_cookie)');
  limitOptions(pool.commands[pool.commands.length - 1], POOL_LIMITS).action(
    act(POOL, (c, o: { name: string; lb: string; protocol: string; algorithm: string; persistence?: string; cookieName?: string } & PoolLimits) =>
      c.pools.create({
        name: o.name,
        loadBalancer: o.lb,
        protocol: o.protocol,
        algorithm: o.algorithm,
        persistence: o.persistence,
        cookieName: o.cookieName,
        ...limitsOf(o, POOL_LIMITS),
      }),
    ),
  );
  standardVerbs(pool, 'pool', POOL, (c) => c.pools);
  // `pool update` changes the algorithm, the persistence and the pool's own timeouts too.
  const poolUpdate = pool.commands.find((x) => x.name() === 'update')!;
  poolUpdate.description('rename a pool, or change its algorithm, persistence or member timeouts');
  poolUpdate.options.find((o) => o.long === '--name')?.makeOptionMandatory(false);
  limitOptions(
    poolUpdate
      .option('--algorithm <a>', 'round_robin, least_connections or source_ip')
      .option('--persistence <type>', "source_ip, http_cookie, app_cookie, or 'none'")
      .option('--cookie-name <name>', 'the application cookie (app_cookie)'),
    POOL_LIMITS,
  ).action(
    act(POOL, (c, ref: string, o: { name?: string; algorithm?: string; persistence?: string; cookieName?: string } & PoolLimits) =>
      c.pools.update(ref, {
        name: o.name,
        algorithm: o.algorithm,
        persistence: o.persistence === 'none' ? null : o.persistence,
        cookieName: o.cookieName,
        ...limitsOf(o, POOL_LIMITS),
      }),
    ),
  );

  const member = program.command('member').description('members of pools');
  member
    .command('add')
    .alias('create')
    .description('add a server (or an address) to a pool')
    .requiredOption('--pool <ref>', 'pool (name or id)')
    .option('--server <ref>', 'server (name or id)')
    .option('--address <ip>', 'an address instead of a server')
    .requiredOption('--port <n>', 'back-end port', int('port'))
    .option('--weight <n>', 'weight 0-256 (0 drains)', int('weight'))
    .option('--name <name>', 'member name')
    .action(
      act(MEMBER, (c, o: { pool: string; server?: string; address?: string; port: number; weight?: number; name?: string }) =>
        c.members.create({ pool: o.pool, server: o.server, address: o.address, port: o.port, weight: o.weight, name: o.name }),
      ),
    );
  standardVerbs(member, 'member', MEMBER, (c) => c.members, { filters: ['pool'], rename: false });
  member
    .command('update')
    .description('change weight (0 drains) or admin state')
    .argument('<ref>', 'name or id')
    .option('--weight <n>', 'weight 0-256', int('weight'))
    .option('--admin-state <state>', 'up or down')
    .action(
      act(MEMBER, (c, ref: string, o: { weight?: number; adminState?: string }) =>
        c.members.update(ref, { weight: o.weight, adminStateUp: o.adminState === undefined ? undefined : o.adminState === 'up' }),
      ),
    );

  const hm = program.command('healthmonitor').alias('hm').description('health checks of pools');
  hm.command('create')
    .description("create a pool's health monitor")
    .requiredOption('--pool <ref>', 'pool (name or id)')
    .requiredOption('--type <t>', 'tcp or http')
    .option('--url-path <path>', 'path to GET (http)', '/')
    .option('--expected-codes <codes>', 'e.g. 200, 200,202 or 200-299', '200')
    .option('--delay <s>', 'seconds between checks', int('delay'), 5)
    .option('--timeout <s>', 'seconds a check may take (below the delay)', int('timeout'), 3)
    .option('--rise <n>', 'successes to come back up', int('rise'), 2)
    .option('--fall <n>', 'failures to go down', int('fall'), 3)
    .option('--name <name>', 'monitor name')
    .action(
      act(
        MONITOR,
        (
          c,
          o: { pool: string; type: string; urlPath: string; expectedCodes: string; delay: number; timeout: number; rise: number; fall: number; name?: string },
        ) =>
          c.healthMonitors.create({
            pool: o.pool,
            type: o.type,
            urlPath: o.urlPath,
            expectedCodes: o.expectedCodes,
            delay: o.delay,
            timeout: o.timeout,
            maxRetries: o.rise,
            maxRetriesDown: o.fall,
            name: o.name,
          }),
      ),
    );
  standardVerbs(hm, 'health monitor', MONITOR, (c) => c.healthMonitors);
}

export function serverLogsCommand(program: Command): void {
  const server = program.commands.find((c) => c.name() === 'server')!;
  server
    .command('logs')
    .description("print a server workload's request log (the built-in web app) and its output")
    .argument('<ref>', 'server (name or id)')
    .action(
      act(null, async (c, ref: string, _o: unknown, cmd: Command) => {
        const l = await c.serverLogs(ref);
        if (await structured(cmd, l)) return;
        if (l.requests.length > 0) {
          process.stdout.write(
            table(l.requests, [
              { header: 'TIME', value: (r) => r.time },
              { header: 'CLIENT', value: (r) => r.client },
              { header: 'METHOD', value: (r) => r.method },
              { header: 'PATH', value: (r) => r.path },
              { header: 'FORWARDED FOR', value: (r) => r.forwardedFor },
              { header: 'AGENT', value: (r) => r.userAgent },
            ]),
          );
        } else process.stdout.write('no requests logged\n');
        if (l.output.trim()) process.stdout.write(`\noutput:\n${l.output}`);
      }),
    );
}
