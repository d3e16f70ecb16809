/**
 * A load balancer's worker process: one Engine, configured by the daemon over IPC (ipc.ts):
 * its configuration, and listening sockets for the public IP (opened by the daemon on the
 * host). It reports ready, applied, health changes, errors, and counters every second, and
 * exits when the daemon goes away.
 *
 *   node --import tsx src/lb/worker.ts ACCESS_LOG_FILE
 */
import type { Server } from 'node:net';
import { Engine } from './engine.js';
import type { FromWorker, Health, ToWorker } from './ipc.js';

const send = (m: FromWorker) => process.connected && process.send!(m);
const engine = new Engine(process.argv[2] ?? null);

engine.on('health', (id: string, status: Health) => send({ type: 'health', id, status }));
engine.on('error', (err: Error) => send({ type: 'error', message: err.message }));

process.on('message', (msg: ToWorker, handle?: unknown) => {
  if (msg.type === 'config') {
    void engine.apply(msg.config).then(() => send({ type: 'applied', health: engine.healthOf() }));
  } else if (msg.type === 'adopt' && handle) {
    engine.adopt(msg.listenerId, handle as Server);
  }
});
process.on('disconnect', () => void engine.close().then(() => process.exit(0)));
setInterval(() => send({ type: 'metrics', counters: engine.counters.snapshot(), health: engine.healthOf() }), 1000).unref();
send({ type: 'ready' });
