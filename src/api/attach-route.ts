/**
 * `GET /v1/servers/{ref}/attach?argv=...&tty=1` with `Upgrade: nimbus-exec`: a command inside a
 * server with its streams attached, for `nimbus exec` and `nimbus ssh`. After the 101 the
 * connection carries frames (core/exec-frames.ts): stdin one way; stdout, stderr and the exit
 * code the other, with backpressure both ways. No time limit unless `timeout` (seconds) is
 * given; the command is killed when the client goes away. A refusal before the upgrade is the
 * catalogue's `{code, message}` with its status, as from any other endpoint.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { NimbusError, invalid } from '../core/errors.js';
import { EXEC_PROTOCOL, Frame, FrameReader, frame } from '../core/exec-frames.js';
import { attachTo } from '../resources/analyzer/service.js';
import { contextOf, type AppDeps } from './context.js';
import { checkHost, principalOf } from './auth.js';

const PATH = /^\/v1\/servers\/([^/?]+)\/attach$/;

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ code, message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function positive(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw invalid(`${name}: '${v}' must be a whole number from 1 to 100000`);
  return n;
}

export function attachRoute(app: FastifyInstance, deps: AppDeps): void {
  // CONNECT asks for a tunnel: this is no proxy. The answer is the catalogue's, not a closed socket.
  app.server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    refuse(socket, 405, 'InvalidParameterValue', 'CONNECT is not served: the API is no proxy'),
  );
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const url = new URL(req.url ?? '/', 'http://nimbus');
    let principal;
    try {
      checkHost(req.headers, deps.allowedHosts ?? new Set());
      principal = principalOf(deps, req.headers);
    } catch (err) {
      const e = err as NimbusError;
      return refuse(socket, e.status, e.code, e.message);
    }
    const m = PATH.exec(url.pathname);
    if (!m || req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== EXEC_PROTOCOL) {
      return refuse(socket, 404, 'NotFound', `no upgrade at ${req.method} ${url.pathname} (attach with Upgrade: ${EXEC_PROTOCOL})`);
    }
    void (async () => {
      let timeoutS: number | undefined;
      let child;
      try {
        const q = url.searchParams;
        timeoutS = positive(q.get('timeout'), 'timeout');
        const opts = {
          tty: q.get('tty') === '1',
          rows: positive(q.get('rows'), 'rows'),
          cols: positive(q.get('cols'), 'cols'),
          term: q.get('term') ?? undefined,
        };
        if (opts.term !== undefined && !/^[\w.+-]{1,64}$/.test(opts.term)) throw invalid(`term: '${opts.term}' is not a terminal name`);
        child = await attachTo(contextOf(deps, { headers: req.headers, principal }), deps.dataplane, decodeURIComponent(m[1]), q.getAll('argv'), opts);
      } catch (err) {
        const e = err instanceof NimbusError ? err : new NimbusError('InternalError', (err as Error).message);
        return refuse(socket, e.status, e.code, e.message);
      }
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${EXEC_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`);
      const timer = timeoutS ? setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000) : null;
      const send = (kind: Frame, data: Buffer) => {
        if (!socket.write(frame(kind, data))) {
          child.stdout?.pause();
          child.stderr?.pause();
        }
      };
      socket.on('drain', () => {
        child.stdout?.resume();
        child.stderr?.resume();
      });
      child.stdout?.on('data', (d: Buffer) => send(Frame.Stdout, d));
      child.stderr?.on('data', (d: Buffer) => send(Frame.Stderr, d));
      child.stdin?.on('error', () => undefined);
      child.stdin?.on('drain', () => socket.resume());
      const reader = new FrameReader((kind, payload) => {
        if (kind === Frame.Stdin && child.stdin && !child.stdin.write(payload)) socket.pause();
        else if (kind === Frame.StdinEnd) child.stdin?.end();
      });
      socket.on('data', (d: Buffer) => {
        try {
          reader.push(d);
        } catch {
          socket.destroy();
        }
      });
      child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
        if (timer) clearTimeout(timer);
        const status = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
        socket.end(frame(Frame.Exit, String(status)));
      });
      child.on('error', (err: Error) => send(Frame.Stderr, Buffer.from(`nimbus: ${err.message}\n`)));
      socket.on('close', () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      socket.on('error', () => undefined);
    })();
  });
}
