/**
 * The app host: one process serves the built-in web app of many servers (on the linux plane).
 * The daemon opens each server's listening socket inside that server's network namespace and
 * hands it over on the IPC channel; the app host answers on it as that server (its name and IP,
 * its own request log). It runs as an identity of its own that no tenant has, with no
 * capability, in an empty network namespace of its own: it reaches nothing, and can only
 * answer on the sockets it is given. It keeps serving when the daemon is gone (a killed
 * daemon's next run starts a new app host and ends this one once the new one serves).
 *
 *   node app-host.js --logs DIR
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Server as NetServer, Socket } from 'node:net';
import { KEEP_ALIVE_MS, webApp } from './web-page.js';
import type { FromAppHost, ToAppHost } from './app-host-ipc.js';

interface App {
  socket: NetServer;
  http: HttpServer;
  /** Its open connections (an HTTP server that never listened itself does not track them). */
  connections: Set<Socket>;
  log: WriteStream;
}

const apps = new Map<string, App>();
const tell = (m: FromAppHost) => {
  if (process.connected) process.send!(m);
};

function close(id: string): void {
  const app = apps.get(id);
  if (!app) return;
  apps.delete(id);
  app.socket.close();
  for (const c of app.connections) c.destroy();
  app.log.end();
}

process.on('message', (m: ToAppHost, handle?: NetServer) => {
  if (m.type === 'close') {
    close(m.id);
    return tell({ type: 'closed', id: m.id });
  }
  if (m.type !== 'serve' || !handle) return;
  close(m.id); // a socket handed again (its namespace was made anew) replaces the old one
  const log = createWriteStream(m.log, { flags: 'a', mode: 0o600 });
  log.on('error', () => undefined);
  const http = createHttpServer(webApp(m.name, m.ip, log));
  http.keepAliveTimeout = KEEP_ALIVE_MS;
  const connections = new Set<Socket>();
  // The socket arrives listening, as a net.Server: its connections go to this server's HTTP app.
  handle.on('connection', (s: Socket) => {
    connections.add(s);
    s.on('close', () => connections.delete(s));
    http.emit('connection', s);
  });
  handle.on('error', () => undefined);
  apps.set(m.id, { socket: handle, http, connections, log });
  tell({ type: 'serving', id: m.id });
});

// The daemon gone: go on serving what was handed over (the next daemon ends this process).
process.on('disconnect', () => undefined);
process.on('SIGTERM', () => {
  for (const id of [...apps.keys()]) close(id);
  process.exit(0);
});
tell({ type: 'ready' });
