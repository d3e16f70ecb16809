/**
 * A load balancer on HAProxy: this agent, like Octavia's amphora agent, runs one HAProxy
 * (Debian's 2.6) in master-worker mode as its child, where the data plane placed the agent
 * (the load balancer's namespace on linux, the host on virtual) and as the same unprivileged
 * identity. It speaks the built-in worker's protocol (ipc.ts) to the daemon, so the daemon
 * does not know which engine serves:
 *
 * - the listening sockets are kept by the socket holder (holder.ts), which starts HAProxy's
 *   master with them and starts it again when it ends, so no connection is refused while
 *   HAProxy is away; it also appends HAProxy's log to the access log;
 * - a configuration is rendered (render.ts), checked with `haproxy -c`, and applied by a
 *   hitless reload (SIGUSR2 to the master: the listening sockets pass to the new worker;
 *   the servers' health is saved into the state file first and read back), or, when the set
 *   of sockets changes, by a new master the holder starts after the old one stopped gently.
 *   A configuration HAProxy refuses is reported as an error, and the one running stays;
 * - `applied` is answered once `show info` names the new configuration's digest;
 * - health and counters come from `show stat` every second;
 * - HAProxy writes the access log itself (its standard output is the log file, opened for
 *   appending); the agent rotates it by copy and truncate, as logrotate's copytruncate does;
 * - the public IP's sockets are opened by the daemon on the host and handed into the holder
 *   (held-sockets.ts's keepInHolder; the daemon then says `take`): HAProxy binds them as
 *   `fd@N`, so a public IP's connection reaches HAProxy with no hop between, as it reaches
 *   HAProxy alone, and waits in the held socket's backlog while HAProxy starts again.
 *
 *   node dist/runtime/lb-haproxy.js ACCESS_LOG_FILE [CONTROL_SOCKET|-] [THREADS]
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import {
  closeSync,
  copyFileSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { CounterSnapshot, FromWorker, Health, ToWorker } from '../ipc.js';
import type { EngineConfig } from '../config.js';
import { configDigest } from '../config.js';
import { linkToDaemon } from '../control-socket.js';
import { endAll, HolderLink, treeOf } from '../holder.js';
import { backendName, bindKeys, describe, sideFiles, SIDE_DIRS, policyTable, publicKey, renderHaproxy, serverStateFile, statsSocket } from './render.js';
import { carried, fromStat, parsePolicyTable, parseStat } from './stats.js';
import { ROTATE_BYTES } from '../observe.js';

const [accessLog, controlArg, threadsArg] = process.argv.slice(2);
const dir = dirname(accessLog);
const controlPath = controlArg && controlArg !== '-' ? controlArg : undefined;
const threads = Math.max(1, Number(threadsArg ?? 1) || 1);
const cfgFile = join(dir, 'haproxy.cfg');
const pidFile = join(dir, 'haproxy.pid');
const HAPROXY = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';

/** One command on HAProxy's stats socket, its whole answer. */
export function ask(command: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(statsSocket(dir));
    let out = '';
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`HAProxy did not answer "${command}" within ${timeoutMs} ms`)));
    s.on('connect', () => s.end(`${command}\n`));
    s.on('data', (d: string) => (out += d));
    s.on('error', reject);
    s.on('close', () => resolve(out));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TRANSIENT = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EAGAIN']);

/**
 * A command that must reach HAProxy: its stats socket refuses for a moment while a new worker
 * takes it over (a reload, or the holder starting a master again), so a refusal is asked
 * again, for up to 5 s, instead of being reported as the load balancer's fault.
 */
export async function askSurely(command: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await ask(command);
    } catch (err) {
      if (i >= 100 || !TRANSIENT.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      await sleep(50);
    }
  }
}

let config: EngineConfig | null = null;
let digest = '';
/** The running master (the holder's child, maybe started for an agent before this one), and the sockets it was given. */
let master: number | null = null;
let masterFds = '';
/** The public sockets the daemon handed into the holder (`listenerId:port`). */
let kept: string[] = [];
const holder = new HolderLink(dir);
let health: Record<string, Health> = {};
/** The totals of the workers before the running one (a reload starts a worker's counters at zero), and the last reading. */
let base: CounterSnapshot = { listeners: {}, members: {} };
let last: CounterSnapshot = { listeners: {}, members: {} };
/** Where `base` is kept, so that the next agent (this one killed) goes on from the same totals. */
const baseFile = join(dir, 'counters-base.json');

function setBase(b: CounterSnapshot): void {
  base = b;
  try {
    writeFileSync(`${baseFile}.new`, JSON.stringify(b));
    renameSync(`${baseFile}.new`, baseFile);
  } catch {
    // a full disk: the totals restart at the next agent, as before this file
  }
}

function savedBase(): CounterSnapshot {
  try {
    const b = JSON.parse(readFileSync(baseFile, 'utf8')) as CounterSnapshot;
    return b && typeof b === 'object' && b.listeners && b.members ? b : { listeners: {}, members: {} };
  } catch {
    return { listeners: {}, members: {} };
  }
}
/** The description of the configuration the running worker was started with (runtime changes keep it). */
let running = '';
let chain: Promise<void> = Promise.resolve();

/** A master this folder's configuration runs, from its pid file: one no holder keeps (the holder was killed) is ended. */
function findMaster(): number | null {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes(cfgFile) && cmd.includes('-W') ? pid : null;
  } catch {
    return null;
  }
}

/**
 * The holder (holder.ts) of an agent before this one is found and its master adopted; without
 * one, a master left running holds the sockets a new holder needs, so it is ended first.
 */
async function openHolder(): Promise<void> {
  holder.onExit = (e) => {
    if (e.pid !== master) return;
    master = e.restarted;
    send({ type: 'error', message: `HAProxy ended (${e.status < 0 ? `signal ${-e.status}` : `code ${e.status}`}); it was started again` });
    running = config ? describe(config) : running;
    setBase(last);
  };
  holder.onLost = () => {
    // Its master keeps the sockets but nothing would start it again: both are made anew.
    chain = chain
      .then(async () => {
        endMaster(master);
        master = null;
        masterFds = '';
        await openHolder();
        if (config) await apply(config);
      })
      .catch((err: Error) => send({ type: 'error', message: err.message }));
  };
  const how = await holder.open();
  // The totals of the HAProxy workers before the running one: those an agent before this one kept, or none with a new HAProxy.
  setBase(how === 'found' ? savedBase() : { listeners: {}, members: {} });
  if (how === 'found') {
    // The public sockets it keeps were handed in for this load balancer (by either engine: the keys are the same).
    const st = await holder.state();
    master = st.pid;
    masterFds = given(st.fds, st.keptFds, st.pass);
    kept = st.kept;
  } else endMaster(findMaster());
}

/** What a master is given, as compared between two starts: the held sockets, and the kept ones passed. */
function given(fds: Record<string, number>, keptFds: Record<string, number>, pass: string[]): string {
  return JSON.stringify({ fds, kept: Object.fromEntries(pass.filter((k) => k in keptFds).map((k) => [k, keptFds[k]])) });
}

function endMaster(pid: number | null): void {
  if (pid) endAll(treeOf(pid));
}

/** Waits until the running worker says it holds `want` (its description), up to 20 s. */
async function runs(want: string): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    const info = await ask('show info', 1_000).catch(() => '');
    if (info.includes(`description: ${want}\n`)) return true;
    await sleep(50);
  }
  return false;
}

/** The configuration without what the runtime API changes in place (members' admin state and weight). */
function structure(c: EngineConfig): string {
  return JSON.stringify({ ...c, pools: c.pools.map((p) => ({ ...p, members: p.members.map((m) => ({ ...m, enabled: true, weight: 1, gone: undefined })) })) });
}

/**
 * Members' admin state and weight through the runtime API: maintenance or ready, a weight
 * (0 drains); a member whose server is gone has its sessions cut, as the built-in engine does.
 */
async function runtime(next: EngineConfig): Promise<void> {
  const commands: string[] = [];
  for (const l of next.listeners) {
    // Every backend of the listener: its default pool's and those its L7 policies send to.
    const ids = new Set([l.poolId, ...(l.policies ?? []).map((p) => p.poolId)]);
    for (const pool of next.pools.filter((p) => ids.has(p.id)))
      for (const m of pool.members) {
        const srv = `${backendName(pool.id, l.id)}/${m.id}`;
        commands.push(`set server ${srv} state ${m.enabled ? 'ready' : 'maint'}`, `set server ${srv} weight ${m.weight}`);
        if (m.gone) commands.push(`shutdown sessions server ${srv}`);
      }
  }
  // One connection, commands separated by semicolons (the stats socket's batch form), a few hundred at a time.
  for (let i = 0; i < commands.length; i += 200) await askSurely(commands.slice(i, i + 200).join(';'));
}

/**
 * Applies a configuration; `quiet` (the daemon handed public sockets in: `take`) says nothing
 * back, since no configuration of the daemon's was asked for.
 */
async function apply(next: EngineConfig, seq?: number, quiet = false): Promise<void> {
  if (master && config && !quiet && structure(config) === structure(next)) {
    await runtime(next);
    config = next;
    digest = configDigest(next);
    await poll();
    send({ type: 'applied', health, seq });
    return;
  }
  // Checked with addresses (`haproxy -c` has not the holder's descriptors), run with the holder's sockets.
  const text = renderHaproxy(next, { dir, threads });
  // Certificates with their keys and fixed responses' bodies, readable by this identity alone; a file's content never changes under its name.
  const files = sideFiles(next, dir);
  for (const f of files) {
    mkdirSync(dirname(f.path), { recursive: true, mode: 0o700 });
    if (!existsSync(f.path)) writeFileSync(f.path, f.content, { mode: 0o600 });
  }
  // Those no listener needs any more go (a running HAProxy holds what it loaded).
  const keep = new Set(files.map((f) => f.path));
  for (const side of SIDE_DIRS.map((d) => join(dir, d)))
    if (existsSync(side)) for (const name of readdirSync(side)) if (!keep.has(join(side, name))) rmSync(join(side, name), { force: true });
  const fresh = `${cfgFile}.new`;
  writeFileSync(fresh, text);
  const check = spawnSync(HAPROXY, ['-c', '-f', fresh], { encoding: 'utf8' });
  if (check.status !== 0) {
    const alerts = `${check.stderr}\n${check.stdout}`.split('\n').filter((l) => l.includes('[ALERT]'));
    send({ type: 'error', message: `HAProxy refused the configuration: ${alerts.slice(0, 3).join(' ') || `exit ${check.status}`}` });
    return;
  }
  const held = await holder.hold(bindKeys(next));
  const refused = Object.entries(held.errors);
  if (refused.length) {
    send({ type: 'error', message: `HAProxy cannot listen on ${refused.map(([k, e]) => `${k} (${e})`).join(', ')}` });
    return;
  }
  // The public sockets handed in for this configuration's listeners (one for a listener it has not yet stays in the holder).
  const pass = next.listeners.map(publicKey).filter((k) => k in held.kept);
  kept = Object.keys(held.kept);
  writeFileSync(fresh, renderHaproxy(next, { dir, threads, fds: held.fds, publicFds: Object.fromEntries(pass.map((k) => [k, held.kept[k]])) }));
  renameSync(fresh, cfgFile);
  const fds = given(held.fds, held.kept, pass);
  // An agent's first configuration, with a master adopted from the agent before it: no reading of ours yet.
  const adoptedCounts = config === null;
  config = next;
  digest = configDigest(next);
  const pid = master;
  if (pid) {
    // The servers' health and admin state survive the reload (load-server-state-from-file).
    const state = await ask('show servers state').catch(() => '');
    if (state) writeFileSync(serverStateFile(dir), state);
    // What the worker counted so far stays in the totals (what it serves after this reading, while it drains, is not counted).
    if (!adoptedCounts) await poll();
    else {
      // An HAProxy adopted from the agent before this one: its running worker's counts are the totals known.
      const csv = await ask('show stat').catch(() => '');
      if (csv) last = carried(base, fromStat(parseStat(csv), new Set(next.listeners.map((l) => l.id))).counters);
    }
    setBase(last);
  }
  running = describe(next);
  if (pid && fds === masterFds) process.kill(pid, 'SIGUSR2');
  else {
    // Other sockets: the running master stops gently and a new one starts with them (holder.ts); the sockets never close.
    // No state to read back yet (HAProxy warns when the file is missing).
    if (!existsSync(serverStateFile(dir))) writeFileSync(serverStateFile(dir), '1\n');
    master = await holder.start([HAPROXY, '-W', '-f', cfgFile, '-p', pidFile], accessLog, join(dir, 'haproxy.log'), pass);
    masterFds = fds;
  }
  if (!(await runs(describe(next)))) {
    send({ type: 'error', message: 'HAProxy did not take the new configuration within 20 s' });
    return;
  }
  // The state file brought back the admin states of before: the configuration's own win.
  await runtime(next);
  await poll();
  if (!quiet) send({ type: 'applied', health, seq });
}

/** Health and counters, from the running worker. */
async function poll(): Promise<void> {
  if (!config) return;
  const answer = await ask('show info;show stat').catch(() => '');
  // Only the running worker's reading counts: one from the worker before a reload would be counted twice.
  if (!answer.includes(`description: ${running}\n`)) return;
  const csv = answer.slice(answer.indexOf('# pxname'));
  const now = fromStat(parseStat(csv), new Set(config.listeners.map((l) => l.id)));
  // Requests per L7 policy, from each listener's policy table.
  for (const l of config.listeners) {
    if (!l.policies?.length || !now.counters.listeners[l.id]) continue;
    const table = await ask(`show table ${policyTable(l.id)}`).catch(() => '');
    now.counters.listeners[l.id].policies = parsePolicyTable(table);
  }
  for (const [id, h] of Object.entries(now.health)) if (health[id] && health[id] !== h) send({ type: 'health', id, status: h });
  health = now.health;
  // Read before the new worker took over, a reading of the old one would count twice: the description says whose it is.
  last = carried(base, now.counters);
  send({ type: 'metrics', counters: last, health, config: digest });
}

/** The log grew past its bound: copied aside and emptied, HAProxy writing on at its end (O_APPEND, set again by the holder first). */
async function rotate(): Promise<void> {
  try {
    if (statSync(accessLog).size <= ROTATE_BYTES) return;
    await holder.append();
    copyFileSync(accessLog, `${accessLog}.1`);
    const fd = openSync(accessLog, 'r+');
    ftruncateSync(fd, 0);
    closeSync(fd);
  } catch {
    // no log yet
  }
}

function onMessage(msg: ToWorker): void {
  if (msg.type === 'config') {
    const next = msg.config;
    chain = chain.then(() => apply(next, msg.seq)).catch((err: Error) => send({ type: 'error', message: err.message }));
  } else if (msg.type === 'take') {
    // Public sockets handed into the holder: the running configuration again, binding them too.
    chain = chain.then(() => (config ? apply(config, undefined, true) : undefined)).catch((err: Error) => send({ type: 'error', message: err.message }));
  }
}

/** Said on every daemon's arrival: HAProxy listens through the holder, which keeps these public sockets. */
const ready = (): FromWorker => ({ type: 'ready', public: kept, holder: true });

const send = linkToDaemon<ToWorker, FromWorker>({ controlPath, onMessage, ready });

// Ready once the holder is open (the daemon hands public sockets into it), with what it keeps already.
chain = chain
  .then(openHolder)
  .then(() => send(ready()))
  .catch((err: Error) => send({ type: 'error', message: err.message }));
// The daemon is gone: keep serving; the next daemon connects to the control socket.
process.on('disconnect', () => undefined);
setInterval(() => void poll().catch(() => undefined), 1000).unref();
setInterval(() => void rotate(), 10_000).unref();
