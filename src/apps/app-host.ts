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
  /** Those with a request being answered. */
  busy: Set<Socket>;
  /** Replaced by a new socket: a connection ends once its answer is sent. */
  retired: boolean;
  /** What answers: the server's name and IP (renamed in place, on the same socket). */
  answer: ReturnType<typeof webApp>;
  log: WriteStream;
}

const apps = new Map<string, App>();
const tell = (m: FromAppHost) => {
  if (process.connected) process.send!(m);
};

/** Stops serving a server: its socket closes, and so does every connection (the server stopped). */
function close(id: string): void {
  const app = apps.get(id);
  if (!app) return;
  apps.delete(id);
  app.socket.close();
  for (const c of app.connections) c.destroy();
  app.log.end();
}

/** A socket replaced by a new one: it closes, its idle connections close, a request being answered is answered first. */
function retire(id: string): void {
  const app = apps.get(id);
  if (!app) return;
  apps.delete(id);
  app.retired = true;
  app.socket.close();
  for (const c of app.connections) if (!app.busy.has(c)) c.destroy();
  app.log.end();
}

function serveConnection(app: App, s: Socket): void {
  app.connections.add(s);
  s.on('close', () => app.connections.delete(s));
  app.http.emit('connection', s);
}

process.on('message', (m: ToAppHost, handle?: NetServer | Socket) => {
  if (m.type === 'close') {
    close(m.id);
    return tell({ type: 'closed', id: m.id });
  }
  if (m.type === 'conn') {
    const app = apps.get(m.id);
    const s = handle as Socket | undefined;
    if (!app || !s) return void s?.destroy();
    serveConnection(app, s);
    return;
  }
  if (m.type !== 'serve') return;
  const now = apps.get(m.id);
  if (!handle) {
    // The same socket, another name: answered as the new one from now on.
    if (now) now.answer = webApp(m.name, m.ip, now.log);
    return tell(now ? { type: 'serving', id: m.id } : { type: 'failed', id: m.id, message: 'no socket to serve it on' });
  }
  retire(m.id); // a socket handed again (renamed, its namespace made anew) replaces the old one
  const log = createWriteStream(m.log, { flags: 'a', mode: 0o600 });
  log.on('error', () => undefined);
  const http = createHttpServer((req, res) => app.answer(req, res));
  http.keepAliveTimeout = KEEP_ALIVE_MS;
  const app: App = { socket: handle as NetServer, http, connections: new Set(), busy: new Set(), retired: false, log, answer: webApp(m.name, m.ip, log) };
  http.on('request', (req, res) => {
    app.busy.add(req.socket);
    res.on('close', () => {
      app.busy.delete(req.socket);
      if (app.retired) req.socket.destroySoon();
    });
  });
  // The socket arrives listening, as a net.Server: its connections go to this server's HTTP app.
  app.socket.on('connection', (s: Socket) => serveConnection(app, s));
  app.socket.on('error', () => undefined);
  apps.set(m.id, app);
  tell({ type: 'serving', id: m.id });
});

// The daemon gone: go on serving what was handed over (the next daemon ends this process).
process.on('disconnect', () => undefined);
process.on('SIGTERM', () => {
  for (const id of [...apps.keys()]) close(id);
  process.exit(0);
});
tell({ type: 'ready' });
