/**
 * The control socket of a load balancer's worker: a Unix socket in the load balancer's folder
 * (mode 0600) over which a daemon that did not start the worker (the next one, after a crash)
 * speaks the same messages as over the IPC channel, one JSON document per line. Sockets
 * cannot be handed over it; a daemon that needs to hand one restarts the worker instead.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** One end of a control connection. */
export interface Line<In, Out> {
  send(msg: Out): void;
  onMessage(fn: (msg: In) => void): void;
  onClose(fn: () => void): void;
  close(): void;
}

/** The longest line either side accepts (a counter snapshot of a large pool fits many times). */
const MAX_LINE = 8 * 1024 * 1024;

function line<In, Out>(socket: Socket): Line<In, Out> {
  const rl = createInterface({ input: socket, crlfDelay: Infinity });
  let received = 0;
  socket.on('data', (d: Buffer) => {
    received += d.length;
    if (received > MAX_LINE) socket.destroy(); // a line without an end: not one of ours
  });
  socket.on('error', () => undefined);
  return {
    send: (msg) => {
      if (!socket.destroyed) socket.write(JSON.stringify(msg) + '\n');
    },
    onMessage: (fn) =>
      rl.on('line', (l) => {
        received = 0;
        try {
          fn(JSON.parse(l) as In);
        } catch {
          socket.destroy();
        }
      }),
    onClose: (fn) => socket.on('close', fn),
    close: () => socket.destroy(),
  };
}

/** Listens at `path` (replacing a stale socket file); each new connection is handed to `onLine`. */
export function serveControl<In, Out>(path: string, onLine: (l: Line<In, Out>) => void): Server {
  rmSync(path, { force: true });
  const server = createServer((socket) => onLine(line<In, Out>(socket)));
  server.on('error', () => undefined);
  server.listen(path, () => chmodSync(path, 0o600));
  return server;
}

/** Connects to a worker's control socket; rejects when nothing listens there. */
export function connectControl<In, Out>(path: string): Promise<Line<In, Out>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => resolve(line<In, Out>(socket)));
    socket.once('error', reject);
  });
}

/**
 * A worker's (or a primary's) link to its daemon: messages from the daemon that started it
 * (IPC) and from a daemon that adopted it (the control socket at `controlPath`, if any) go to
 * `onMessage`; `send` answers on IPC while it is connected, else on the control socket. An
 * adopting daemon is greeted with `ready` and the public sockets already held.
 */
export function linkToDaemon<In, Out>(opts: {
  controlPath?: string;
  onMessage: (msg: In, handle?: unknown) => void;
  ready: () => Out;
}): (msg: Out, handle?: Server) => void {
  let control: Line<In, Out> | null = null;
  process.on('message', (m: In, handle?: unknown) => opts.onMessage(m, handle));
  if (opts.controlPath) {
    serveControl<In, Out>(opts.controlPath, (line) => {
      control?.close();
      control = line;
      line.onMessage((m) => opts.onMessage(m));
      line.onClose(() => {
        if (control === line) control = null;
      });
      line.send(opts.ready());
    });
  }
  return (msg, handle) => {
    if (process.connected) process.send!(msg, handle);
    else control?.send(msg);
  };
}
