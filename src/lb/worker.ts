/**
 * A load balancer's worker process: one Engine, configured by the daemon (ipc.ts): its
 * configuration, and listening sockets for the public IP (opened by the daemon on the host).
 * It reports ready, applied, health changes, errors, and counters every second.
 *
 * The daemon that starts it speaks over the IPC channel. When that daemon dies, the worker
 * keeps serving with what it has, and the next daemon adopts it over its control socket
 * (control-socket.ts): a load balancer does not depend on its control plane's process.
 *
 *   node --import tsx src/lb/worker.ts ACCESS_LOG_FILE [CONTROL_SOCKET]
 */
import type { Server } from 'node:net';
import { Engine } from './engine.js';
import type { FromWorker, Health, ToWorker } from './ipc.js';
import { serveControl, type Line } from './control-socket.js';

const engine = new Engine(process.argv[2] ?? null);
const controlPath = process.argv[3];
/** The adopting daemon's connection, when the one that started the worker is gone. */
let control: Line<ToWorker, FromWorker> | null = null;

function send(m: FromWorker): void {
  if (process.connected) process.send!(m);
  else control?.send(m);
}

function onMessage(msg: ToWorker, handle?: unknown): void {
  if (msg.type === 'config') {
    void engine.apply(msg.config).then(() => send({ type: 'applied', health: engine.healthOf() }));
  } else if (msg.type === 'adopt' && handle) {
    engine.adopt(msg.listenerId, handle as Server);
  }
}

engine.on('health', (id: string, status: Health) => send({ type: 'health', id, status }));
engine.on('error', (err: Error) => send({ type: 'error', message: err.message }));
process.on('message', onMessage);
// The daemon is gone: keep serving; the next one connects to the control socket.
process.on('disconnect', () => undefined);
if (controlPath) {
  serveControl<ToWorker, FromWorker>(controlPath, (line) => {
    control?.close();
    control = line;
    line.onMessage((m) => onMessage(m));
    line.onClose(() => {
      if (control === line) control = null;
    });
    line.send({ type: 'ready', public: engine.adoptedKeys() });
  });
}
setInterval(() => send({ type: 'metrics', counters: engine.counters.snapshot(), health: engine.healthOf() }), 1000).unref();
send({ type: 'ready', public: [] });
