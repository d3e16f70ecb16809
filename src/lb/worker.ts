/**
 * A load balancer's worker process: one Engine, configured by the daemon (ipc.ts): its
 * configuration, and listening sockets for the public IP (opened by the daemon on the host).
 * It reports ready, applied, health changes, errors, and counters every second.
 *
 * The daemon that starts it speaks over the IPC channel. When that daemon dies, the worker
 * keeps serving with what it has, and the next daemon adopts it over its control socket
 * (control-socket.ts): a load balancer does not depend on its control plane's process.
 *
 * With WORKERS above 1 this process is a primary (primary.ts) that runs that many engine
 * workers of this same file (Node's cluster module) and speaks for them.
 *
 *   node dist/lb/worker.js ACCESS_LOG_FILE [CONTROL_SOCKET|-] [WORKERS]
 */
import cluster from 'node:cluster';
import type { Server, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Engine } from './engine.js';
import type { FromWorker, Health, ToWorker } from './ipc.js';
import { linkToDaemon } from './control-socket.js';
import { runPrimary } from './primary.js';
import { configDigest } from './config.js';
import { dirname } from 'node:path';
import { HeldSockets, handOverBeside } from './held-sockets.js';
import { endAll, holderTree } from './holder.js';

const [accessLog, controlArg, workersArg] = process.argv.slice(2);
const controlPath = controlArg && controlArg !== '-' ? controlArg : undefined;
const workers = Math.max(1, Number(workersArg ?? 1) || 1);

if (cluster.isPrimary && workers > 1) {
  // Several workers share their sockets through the primary: a holder a lone worker left would keep the ports.
  if (controlPath) endAll(holderTree(dirname(controlPath)));
  runPrimary(workers, accessLog, controlPath, fileURLToPath(import.meta.url));
} else void runEngine();

async function runEngine(): Promise<void> {
  const engine = new Engine(accessLog ?? null);
  let digest = '';
  // A lone worker listens through a socket holder in its folder, which outlives it (held-sockets.ts).
  const handOver = handOverBeside();
  const held = !cluster.isWorker && controlPath && handOver ? new HeldSockets(dirname(controlPath), handOver) : null;
  /** The public sockets taken from the holder, not yet in the engine's listeners (before the first configuration). */
  const taken = new Set<string>();
  /** Whether the engine listens through the holder (the daemon then hands public sockets into it). */
  let holding = false;

  const onMessage = (msg: ToWorker, handle?: unknown) => {
    if (msg.type === 'config') {
      digest = configDigest(msg.config);
      void engine.apply(msg.config).then(() => (taken.clear(), send({ type: 'applied', health: engine.healthOf(), seq: msg.seq })));
    } else if (msg.type === 'adopt' && handle) {
      engine.adopt(msg.listenerId, handle as Server);
    } else if (msg.type === 'lend') {
      const server = engine.publicServer(msg.listenerId);
      if (server) send({ type: 'lent', listenerId: msg.listenerId }, server);
    } else if (msg.type === 'connection' && handle) {
      engine.take(msg.listenerId, handle as Socket);
    } else if (msg.type === 'role') {
      engine.setChecking(msg.checks);
    } else if (msg.type === 'health') {
      engine.applyHealth(msg.health);
    } else if (msg.type === 'take' && held) {
      void takePublic(msg.keys);
    }
  };

  /** Public sockets (`listenerId:port`) the daemon handed into the holder: copies for the engine. */
  async function takePublic(keys: string[]): Promise<void> {
    // Connections accepted on the way wait, unread, for the listener (which may not be configured yet).
    const waiting = new Map<string, Socket[]>();
    const got = await held!.take(keys, (key, socket) => {
      socket.on('error', () => undefined);
      waiting.set(key, [...(waiting.get(key) ?? []), socket]);
    });
    for (const [key, server] of got.servers) {
      taken.add(key);
      engine.adopt(key.slice(0, key.lastIndexOf(':')), server, true, waiting.get(key) ?? []);
    }
    for (const [key, why] of got.errors) send({ type: 'error', message: `public socket ${key}: ${why}` });
  }

  // A primary's worker speaks to its primary only; a lone worker also to an adopting daemon.
  const send = linkToDaemon<ToWorker, FromWorker>({
    controlPath: cluster.isWorker ? undefined : controlPath,
    onMessage,
    ready: () => ({ type: 'ready', public: [...new Set([...engine.adoptedKeys(), ...taken])], holder: holding }),
  });
  engine.on('health', (id: string, status: Health) => send({ type: 'health', id, status }));
  engine.on('error', (err: Error) => send({ type: 'error', message: err.message }));
  // The daemon (or the primary) is gone: keep serving; the next daemon connects to the control socket.
  process.on('disconnect', () => {
    if (cluster.isWorker) void engine.close().then(() => process.exit(0)); // a primary's worker ends with its primary
  });
  setInterval(() => send({ type: 'metrics', counters: engine.counters.snapshot(), health: engine.healthOf(), config: digest }), 1000).unref();
  if (held) {
    try {
      // A holder gone while this worker runs: its sockets go on here, but none would outlive this process; the next worker starts a holder anew.
      const kept = await held.open(() => process.exit(75));
      engine.listenThrough(held);
      holding = true;
      // What a dead predecessor was handed: taken before saying ready, so that the daemon knows it is here.
      await takePublic(kept);
    } catch (err) {
      send({ type: 'error', message: `the socket holder: ${(err as Error).message}; listening without it` });
    }
  }
  send({ type: 'ready', public: [...taken], holder: holding });
}
