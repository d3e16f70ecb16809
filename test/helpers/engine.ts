/**
 * What the engine's tests share: free ports, HTTP back ends that record what they saw, an
 * engine on one listener, and helpers for slow, dribbling and raw clients.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Engine } from '../../src/lb/engine.js';
import type { EngineConfig, ListenerConfig, MemberConfig, PoolConfig } from '../../src/lb/config.js';

const open: { close(): unknown }[] = [];

/** Closes `o` with the others after the file's tests. */
export function track<T extends { close(): unknown }>(o: T): T {
  open.push(o);
  return o;
}

/** Closes every engine and back end the tests of a file opened (register with after()). */
export async function closeAll(): Promise<void> {
  for (const o of open.reverse()) await o.close();
  open.length = 0;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Backend {
  name: string;
  port: number;
  server: HttpServer;
  /** Requests seen, with the headers the proxy sent. */
  seen: IncomingMessage['headers'][];
  connections: number;
}

export async function backend(name: string): Promise<Backend> {
  const b: Backend = { name, port: 0, server: undefined as unknown as HttpServer, seen: [], connections: 0 };
  b.server = createHttpServer((req, res) => {
    b.seen.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/login') res.setHeader('set-cookie', `JSESSIONID=${name}-session; Path=/`);
      if (req.url === '/echo') {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(body);
        return;
      }
      if (req.url?.startsWith('/random/')) {
        // /random/<seed>/<bytes>[/chunked]: distinct bytes per seed, so any mix-up shows.
        const [, , seed, size, mode] = req.url.split('/');
        const data = randomBytesOf(Number(seed), Number(size));
        if (mode !== 'chunked') res.setHeader('content-length', data.length);
        dribble(
          data,
          (b) => res.write(b),
          () => res.end(),
        );
        return;
      }
      if (req.url === '/stream') {
        res.write('part1-');
        setTimeout(() => res.end(`part2-${name}`), 20);
        return;
      }
      res.end(name);
    });
  });
  const sockets = new Set<Socket>();
  b.server.on('connection', (c: Socket) => {
    b.connections++;
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  b.server.on('upgrade', (req, socket: Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(`${name}:${d}`));
  });
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r));
  b.port = (b.server.address() as AddressInfo).port;
  open.push({
    close: () =>
      new Promise((r) => {
        for (const c of sockets) c.destroy();
        b.server.close(r);
      }),
  });
  return b;
}

/** Deterministic bytes that differ from seed to seed and from place to place. */
export function randomBytesOf(seed: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Writes all but the last 300 kB of data at once (enough to fill the kernel's socket buffers
 * on the way to a reader that stalls), then the rest in pieces of uneven size, one per turn
 * of the event loop: the proxy reads short pieces while its client socket is full, so its
 * writes are only partly done and the rest waits in the socket's queue.
 */
export function dribble(data: Buffer, write: (b: Buffer) => void, end: () => void): void {
  let at = 0;
  let k = 0;
  const step = () => {
    if (at >= data.length) return end();
    const n = 300 + ((k++ * 7919) % 9000);
    write(data.subarray(at, at + n));
    at += n;
    setImmediate(step);
  };
  step();
}

/** Sends a request on a raw socket, reads nothing for `stallMs`, then everything until the member's answer ends. */
export function slowRead(port: number, request: string, stallMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => s.write(request));
    s.pause();
    setTimeout(() => s.resume(), stallMs);
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

/** The body of a raw HTTP/1.1 response (length-framed or chunked). */
export function bodyOf(raw: Buffer): Buffer {
  const h = raw.indexOf('\r\n\r\n');
  const head = raw.toString('latin1', 0, h);
  let rest = raw.subarray(h + 4);
  if (!/transfer-encoding: chunked/i.test(head)) return rest;
  const parts: Buffer[] = [];
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const line = rest.toString('latin1', 0, eol);
    if (!/^[0-9a-f]+$/i.test(line)) throw new Error(`not a chunk size: ${JSON.stringify(line.slice(0, 40))}`);
    const n = parseInt(line, 16);
    if (n === 0) return Buffer.concat(parts);
    parts.push(rest.subarray(eol + 2, eol + 2 + n));
    rest = rest.subarray(eol + 2 + n + 2);
  }
}

export const member = (b: Backend, over: Partial<MemberConfig> = {}): MemberConfig => ({
  id: b.name,
  host: '127.0.0.1',
  port: b.port,
  weight: 1,
  enabled: true,
  ...over,
});

/** One listener `lsn` on 127.0.0.1:`port` in front of pool `pool`: the configuration the engine tests give either engine. */
export function oneListener(port: number, pool: Omit<PoolConfig, 'id'>, listener: Partial<ListenerConfig> = {}): EngineConfig {
  return { listeners: [{ id: 'lsn', protocol: 'HTTP', port, poolId: 'pool', bind: ['127.0.0.1'], ...listener }], pools: [{ id: 'pool', ...pool }] };
}

/** A pool of one member on 127.0.0.1:`port`, round robin, no persistence, no health checks. */
export const onePool = (port: number): Omit<PoolConfig, 'id'> => ({
  algorithm: 'ROUND_ROBIN',
  persistence: null,
  health: null,
  members: [{ id: 'm', host: '127.0.0.1', port, weight: 1, enabled: true }],
});

export async function engineWith(pool: Omit<PoolConfig, 'id'>, protocol: 'HTTP' | 'TCP' = 'HTTP') {
  const port = await freePort();
  const engine = new Engine(null);
  open.push(engine);
  const config = oneListener(port, pool, { protocol });
  await engine.apply(config);
  return { engine, port, config, url: `http://127.0.0.1:${port}` };
}

export async function get(url: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

/** Sends raw bytes and returns all the proxy answered before closing. */
export function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    setTimeout(() => s.destroy(), 2000);
  });
}

/** What came back on a connection until it closed (or `limitMs` passed: then 'still open: ...'). */
export function exchange(port: number, send: string, limitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => send && s.write(send));
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(`still open: ${out}`);
    }, limitMs);
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** A client that sends a request head one byte every `everyMs` (slowloris): what came back when the listener closed it. */
export function dribbler(port: number, everyMs: number): { done: Promise<string>; socket: Socket } {
  const head = `GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`;
  const socket = connect(port, '127.0.0.1');
  let i = 0;
  const timer = setInterval(() => {
    if (i < head.length && socket.writable) socket.write(head[i++]);
  }, everyMs);
  const done = new Promise<string>((resolve) => {
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(out);
    });
  });
  return { done, socket };
}
