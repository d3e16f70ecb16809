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

const [accessLog, controlArg, workersArg] = process.argv.slice(2);
const controlPath = controlArg && controlArg !== '-' ? controlArg : undefined;
const workers = Math.max(1, Number(workersArg ?? 1) || 1);

if (cluster.isPrimary && workers > 1) runPrimary(workers, accessLog, controlPath, fileURLToPath(import.meta.url));
else runEngine();

function runEngine(): void {
  const engine = new Engine(accessLog ?? null);
  let digest = '';

  const onMessage = (msg: ToWorker, handle?: unknown) => {
    if (msg.type === 'config') {
      digest = configDigest(msg.config);
      void engine.apply(msg.config).then(() => send({ type: 'applied', health: engine.healthOf(), seq: msg.seq }));
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
    }
  };

  // A primary's worker speaks to its primary only; a lone worker also to an adopting daemon.
  const send = linkToDaemon<ToWorker, FromWorker>({
    controlPath: cluster.isWorker ? undefined : controlPath,
    onMessage,
    ready: () => ({ type: 'ready', public: engine.adoptedKeys() }),
  });
  engine.on('health', (id: string, status: Health) => send({ type: 'health', id, status }));
  engine.on('error', (err: Error) => send({ type: 'error', message: err.message }));
  // The daemon (or the primary) is gone: keep serving; the next daemon connects to the control socket.
  process.on('disconnect', () => {
    if (cluster.isWorker) void engine.close().then(() => process.exit(0)); // a primary's worker ends with its primary
  });
  setInterval(() => send({ type: 'metrics', counters: engine.counters.snapshot(), health: engine.healthOf(), config: digest }), 1000).unref();
  send({ type: 'ready', public: [] });
}
