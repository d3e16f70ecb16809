/**
 * A load balancer with several workers (`workers: N`, HAProxy's nbthread as processes): this
 * primary process runs N engine workers with Node's cluster module and speaks for them to the
 * daemon, with the same messages as a single worker (ipc.ts).
 *
 * - The VIP's listening sockets are the cluster's shared handles (SCHED_NONE: every worker
 *   accepts on the same socket, the kernel spreads connections); the primary keeps them open
 *   while any worker lives.
 * - A public IP socket the daemon hands over goes to every worker, and the primary closes its
 *   own copy (a copy it held would accept connections too). A worker started later borrows
 *   the socket from a sibling through the primary (`lend`, `lent`); a connection the primary
 *   happens to accept in that moment is handed to a worker (`connection`).
 * - A worker that dies loses only its own connections: the others go on accepting on the same
 *   sockets, so new connections are never refused, and the primary starts another in its slot.
 * - Configurations go to every worker; the daemon hears `applied` once all have applied one.
 *   Counters are summed (sum.ts). Health is checked once, not N times: one worker checks (the
 *   first ready; when it dies, the next ready one takes over), and the primary passes what it
 *   finds to the others and to the daemon.
 * - Each worker writes an access log of its own (observe.ts workerLogFile), read merged.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Server, Socket } from 'node:net';
import { configDigest, type EngineConfig } from './config.js';
import type { CounterSnapshot, FromWorker, Health, ToWorker } from './ipc.js';
import { linkToDaemon } from './control-socket.js';
import { sumSnapshots } from './sum.js';
import { workerLogFile } from './observe.js';

interface Slot {
  worker: Worker | null;
  ready: boolean;
  /** The configuration version last sent to it, and the last it said it applied. */
  sent: number;
  applied: number;
  counters: CounterSnapshot | null;
  health: Record<string, Health>;
  /** Listener ids whose public socket it holds. */
  holds: Set<string>;
}

export function runPrimary(workers: number, accessLog: string, controlPath: string | undefined, worker: string): void {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let config: EngineConfig | null = null;
  /** The digest of `config`, reported with the metrics (the daemon checks it is its own). */
  let digest = '';
  let version = 0;
  let ackedVersion = 0;
  /** The daemon's number for the configuration of `version`: the one `applied` answers with. */
  let daemonSeq: number | undefined;
  /** `listenerId` → `listenerId:port` of the public sockets handed over. */
  const publicKeys = new Map<string, string>();
  /** Workers waiting for a public socket, by listener id. */
  const waiting = new Map<string, Set<Slot>>();
  const slots: Slot[] = Array.from({ length: workers }, () => ({
    worker: null,
    ready: false,
    sent: 0,
    applied: 0,
    counters: null,
    health: {},
    holds: new Set<string>(),
  }));

  const live = () => slots.filter((s) => s.worker && s.ready);
  /** The worker that checks the members' health. */
  let checker: Slot | null = null;
  const elect = () => {
    if (checker && checker.worker && checker.ready) return;
    checker = live()[0] ?? null;
    if (!checker) return;
    send(checker, { type: 'role', checks: true });
  };

  function start(i: number): void {
    const slot = slots[i];
    Object.assign(slot, { ready: false, sent: 0, applied: 0, counters: null, health: {}, holds: new Set() });
    cluster.setupPrimary({ exec: worker, args: [workerLogFile(accessLog, i)] });
    const w = cluster.fork({ NIMBUS_LB_SLOT: String(i) });
    slot.worker = w;
    w.on('message', (m: FromWorker, handle?: unknown) => fromWorker(slot, m, handle));
    w.on('exit', () => {
      if (slot.worker !== w) return;
      slot.worker = null;
      slot.ready = false;
      const lost = [...publicKeys.keys()].filter((id) => !slots.some((s) => s.worker && s.holds.has(id)));
      if (lost.length) {
        // Nobody holds them any more: the daemon opens them again.
        toDaemon({ type: 'lost-public', keys: lost.map((id) => publicKeys.get(id)!) });
        for (const id of lost) publicKeys.delete(id);
      }
      setTimeout(() => start(i), 100);
      if (checker === slot) {
        checker = null;
        elect();
      }
      maybeAck();
    });
  }

  function send(slot: Slot, m: ToWorker, handle?: Server | Socket, done?: () => void): void {
    const w = slot.worker;
    if (!w || !w.isConnected()) return done?.();
    if (handle) w.send(m, handle as Server, done);
    else w.send(m);
  }

  function configure(slot: Slot): void {
    if (!config) return;
    slot.sent = version;
    send(slot, { type: 'config', config, seq: version });
  }

  function maybeAck(): void {
    if (version === 0 || ackedVersion === version) return;
    const ready = live();
    if (ready.length === 0 || ready.some((s) => s.applied < version)) return;
    ackedVersion = version;
    // Configurations that came in a row are answered once, by the newest: the daemon counts by its number.
    toDaemon({ type: 'applied', health: reporter()?.health ?? {}, seq: daemonSeq });
  }

  const reporter = () => (checker && checker.worker && checker.ready ? checker : (live()[0] ?? null));

  /** A worker that lacks a public socket borrows it from a sibling that holds it. */
  function supply(slot: Slot): void {
    for (const id of publicKeys.keys()) {
      if (slot.holds.has(id) || waiting.get(id)?.has(slot)) continue;
      const lender = live().find((s) => s !== slot && s.holds.has(id));
      if (!lender) continue;
      const list = waiting.get(id) ?? new Set<Slot>();
      list.add(slot);
      waiting.set(id, list);
      send(lender, { type: 'lend', listenerId: id });
    }
  }

  /** Hands a listening socket to the workers that need it, then closes the primary's copy. */
  function handOut(id: string, server: Server, to: Slot[]): void {
    // Whatever it accepts before it is closed goes to a worker.
    server.on('connection', (socket: Socket) => {
      const target = live()[0];
      if (target) send(target, { type: 'connection', listenerId: id }, socket, () => socket.destroy());
      else socket.destroy();
    });
    let pending = to.length;
    if (pending === 0) return void server.close();
    for (const slot of to) {
      send(slot, { type: 'adopt', listenerId: id }, server, () => {
        slot.holds.add(id);
        // A sibling that became ready before anyone held the socket asked no one: it borrows now.
        for (const other of live()) if (other !== slot) supply(other);
        if (--pending === 0) server.close();
      });
    }
  }

  function fromWorker(slot: Slot, m: FromWorker, handle?: unknown): void {
    if (m.type === 'ready') {
      slot.ready = true;
      elect();
      if (checker !== slot) send(slot, { type: 'role', checks: false });
      configure(slot);
      supply(slot);
    } else if (m.type === 'applied') {
      slot.applied = m.seq ?? slot.sent;
      slot.health = m.health;
      // A worker that does not check takes the checking one's findings (its new pools start UP).
      if (checker && checker !== slot) send(slot, { type: 'health', health: checker.health });
      maybeAck();
    } else if (m.type === 'metrics') {
      slot.counters = m.counters;
      slot.health = m.health;
    } else if (m.type === 'health') {
      slot.health[m.id] = m.status;
      if (slot !== checker) return;
      toDaemon(m);
      for (const s of live()) if (s !== slot) send(s, { type: 'health', health: { [m.id]: m.status } });
    } else if (m.type === 'error') {
      toDaemon(m);
    } else if (m.type === 'lent' && handle) {
      const to = [...(waiting.get(m.listenerId) ?? [])].filter((s) => s.worker && !s.holds.has(m.listenerId));
      waiting.delete(m.listenerId);
      handOut(m.listenerId, handle as Server, to);
    }
  }

  function fromDaemon(m: ToWorker, handle?: unknown): void {
    if (m.type === 'config') {
      config = m.config;
      digest = configDigest(m.config);
      daemonSeq = m.seq;
      version++;
      for (const s of live()) configure(s);
    } else if (m.type === 'connection' && handle) {
      // A connection the daemon held while no process of this load balancer listened: to a worker.
      const socket = handle as Socket;
      const target = live()[0];
      if (target) send(target, { type: 'connection', listenerId: m.listenerId }, socket, () => socket.destroy());
      else socket.destroy();
    } else if (m.type === 'adopt' && handle) {
      const server = handle as Server;
      const a = server.address();
      publicKeys.set(m.listenerId, `${m.listenerId}:${a && typeof a === 'object' ? a.port : 0}`);
      handOut(m.listenerId, server, live());
      // Workers not ready yet borrow it from one that is, once they are.
    }
  }

  const toDaemon = linkToDaemon<ToWorker, FromWorker>({
    controlPath,
    onMessage: fromDaemon,
    ready: () => ({ type: 'ready', public: [...publicKeys.values()] }),
  });
  process.on('disconnect', () => undefined); // the daemon is gone: serve on; the next one adopts over the control socket
  setInterval(() => {
    const snaps = slots.map((s) => s.counters).filter((c): c is CounterSnapshot => c !== null);
    toDaemon({ type: 'metrics', counters: sumSnapshots(snaps), health: reporter()?.health ?? {}, config: digest });
  }, 1000).unref();
  for (let i = 0; i < workers; i++) start(i);
  toDaemon({ type: 'ready', public: [] });
}
