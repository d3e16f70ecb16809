/**
 * The control socket of a load balancer's worker: a Unix socket in the load balancer's folder
 * (mode 0600) over which a daemon that did not start the worker (the next one, after a crash)
 * speaks the same messages as over the IPC channel, one JSON document per line. Sockets
 * cannot be handed over it; a daemon that needs to hand one restarts the worker instead. A
 * connection's first line must carry the secret the worker was handed at spawn (in its
 * environment), or the worker hangs up: only its own daemon configures it.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createHash, timingSafeEqual } from 'node:crypto';

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

/** The first line on a control connection: the secret the worker was handed at spawn. */
export interface Hello {
  type: 'hello';
  secret: string;
}

/** The environment variable a worker finds its control secret in (readable by its own id and root only). */
export const CONTROL_SECRET_ENV = 'NIMBUS_CONTROL_SECRET';

function sameSecret(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || b === '') return false;
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** Connects to a worker's control socket and says its secret; rejects when nothing listens there. */
export function connectControl<In, Out>(path: string, secret: string): Promise<Line<In, Out>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      const l = line<In, Out | Hello>(socket);
      l.send({ type: 'hello', secret });
      resolve(l as Line<In, Out>);
    });
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
    // Only a daemon that says the secret handed over at spawn is heard; without one, none is.
    const secret = process.env[CONTROL_SECRET_ENV] ?? '';
    serveControl<In | Hello, Out>(opts.controlPath, (line) => {
      let heard = false;
      line.onMessage((m) => {
        if (heard) return opts.onMessage(m as In);
        if ((m as Hello).type !== 'hello' || !sameSecret((m as Hello).secret, secret)) return line.close();
        heard = true;
        control?.close();
        control = line as unknown as Line<In, Out>;
        line.onClose(() => {
          if (control === line) control = null;
        });
        line.send(opts.ready());
      });
    });
  }
  return (msg, handle) => {
    if (process.connected) process.send!(msg, handle);
    else control?.send(msg);
  };
}
