/**
 * Nimbus's own engine's listening sockets, kept by a socket holder (holder.ts) so that they
 * outlive the worker (issue 23, item 8). A lone worker that dies took its sockets with it:
 * until the daemon heard of the death and listened again, connections were refused. With the
 * holder, connections that come while no worker runs wait in the socket's backlog, and the
 * next worker takes them.
 *
 * - The worker starts the holder (or finds the one its predecessor started) and asks it to
 *   listen on the configuration's addresses (`hold`, each socket on its own).
 * - A public IP's socket is opened by the daemon on the host, as root, and handed into the
 *   holder (`keepInHolder`): the daemon then tells the worker to take it from there.
 * - The worker takes copies of held sockets through `fetchHeld`: Node cannot receive a
 *   descriptor from a program that is not Node, so a short Python program receives them from
 *   the holder and then runs the hand-over (apps/hand-over.ts), which sends each one to the
 *   worker on its IPC channel, the public way Node hands a listening socket to a process.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server, Socket } from 'node:net';
import { HolderLink, holderSocket } from './holder.js';

/** Receives held sockets from the holder, then runs the hand-over with them (`node hand-over.js LIST`). */
const FETCH = String.raw`
import json, os, socket, sys
path, keys, argv = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(path)
c.sendall((json.dumps({'op': 'send', 'keys': keys}) + '\n').encode())
buf, fds = b'', []
while not buf.endswith(b'\n'):
    data, got, _, _ = socket.recv_fds(c, 65536, 64)
    fds += got
    if not data:
        break
    buf += data
c.close()
reply = json.loads(buf)
out = []
for i, key in enumerate(reply.get('keys', [])):
    os.set_inheritable(fds[i], True)
    out.append({'id': key, 'fd': fds[i], 'ino': 0})
for key, why in reply.get('errors', {}).items():
    out.append({'id': key, 'error': why})
os.execv(argv[0], argv + [json.dumps(out)])
`;

/** Opens sockets on the host (as root) and hands each into a holder (`keep`); then lets go of the others. Prints the outcome per key. */
const KEEP = String.raw`
import errno, json, os, socket, struct, sys
path, uid, wants, only = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
out = {}
def fail_all(why):
    print(json.dumps({w['key']: {'code': 'EIO', 'message': why} for w in wants}))
    sys.exit(0)
try:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
except OSError as e:
    fail_all('the socket holder does not answer: %s' % (e.strerror or e))
# The holder runs as the load balancer's id (the owner of its folder): a socket planted by anyone else is not spoken to.
pid, peer, _ = struct.unpack('3I', c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize('3I')))
if peer != uid:
    fail_all('the socket holder runs as uid %d, not the load balancer (%d)' % (peer, uid))
buf = b''
def reply():
    global buf
    while b'\n' not in buf:
        data = c.recv(65536)
        if not data:
            return {'op': 'error', 'message': 'the socket holder hung up'}
        buf += data
    line, buf = buf.split(b'\n', 1)
    return json.loads(line)
for w in wants:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((w['host'], w['port']))
        s.listen(1024)
    except OSError as e:
        s.close()
        out[w['key']] = {'code': errno.errorcode.get(e.errno, 'EIO'), 'message': e.strerror or str(e)}
        continue
    socket.send_fds(c, [(json.dumps({'op': 'keep', 'key': w['key']}) + '\n').encode()], [s.fileno()])
    s.close()
    r = reply()
    out[w['key']] = None if r.get('op') == 'kept' else {'code': 'EIO', 'message': r.get('message', 'not kept')}
if only is not None:
    c.sendall((json.dumps({'op': 'keep-only', 'keys': only}) + '\n').encode())
    reply()
print(json.dumps(out))
`;

/** What the hand-over says per socket (apps/hand-over.ts; the load balancer does not import the apps' modules). */
type Handed = { id: string; ino: number } | { id: string; error: string } | { id: string; conn: true };

export interface PublicWant {
  /** `listenerId:port`, the key the worker and the daemon know the socket by. */
  key: string;
  host: string;
  port: number;
}

/** Why a socket could not be opened: its errno's name and the system's words. */
export type OpenFailure = { code: string; message: string };

/**
 * Run by the daemon (root): opens each wanted public socket on the host and hands it into the
 * holder in `dir`; then, when `only` is given, the holder lets go of every public socket but
 * those. Resolves with each key's failure, or null where it is kept now.
 */
export function keepInHolder(dir: string, wants: PublicWant[], only: string[] | null): Promise<Map<string, OpenFailure | null>> {
  const uid = lstatSync(dir).uid;
  return new Promise((resolve) => {
    const child = spawn('python3', ['-c', KEEP, holderSocket(dir), String(uid), JSON.stringify(wants), JSON.stringify(only)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err = (err + d).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const settle = () => {
      clearTimeout(timer);
      const result = new Map<string, OpenFailure | null>();
      let parsed: Record<string, OpenFailure | null> = {};
      try {
        parsed = JSON.parse(out) as Record<string, OpenFailure | null>;
      } catch {
        const why = err.trim().split('\n').pop() || 'the hand-over into the socket holder failed';
        for (const w of wants) result.set(w.key, { code: 'EIO', message: why });
        return resolve(result);
      }
      for (const w of wants) result.set(w.key, parsed[w.key] ?? null);
      resolve(result);
    };
    child.on('error', (e) => ((err += e.message), settle()));
    child.on('close', settle);
  });
}

/** The hand-over program beside this file (in the runtime folder the worker runs from), or null. */
export function handOverBeside(): string[] | null {
  const path = join(dirname(fileURLToPath(import.meta.url)), 'hand-over.js');
  return existsSync(path) ? [process.execPath, path] : null;
}

export interface Fetched {
  servers: Map<string, Server>;
  errors: Map<string, string>;
}

/**
 * Copies of the held sockets `keys`, each a listening server. A connection accepted on the
 * way (by the hand-over, or by the copy before the caller takes it) comes to `onConnection`,
 * unread; the caller replaces that listener with its own (`removeAllListeners('connection')`).
 */
export function fetchHeld(dir: string, keys: string[], handOver: string[], onConnection: (key: string, s: Socket) => void): Promise<Fetched> {
  const got: Fetched = { servers: new Map(), errors: new Map() };
  if (keys.length === 0) return Promise.resolve(got);
  const child = spawn('python3', ['-c', FETCH, holderSocket(dir), JSON.stringify(keys), ...handOver], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-2000)));
  child.on('message', (m: Handed, handle?: Server | Socket) => {
    if ('error' in m) return void got.errors.set(m.id, m.error);
    if ('conn' in m) {
      if (handle) onConnection(m.id, handle as Socket);
      return;
    }
    if (!handle) return;
    // It listens already: what it accepts before the caller takes it goes the same way as the hand-over's.
    const server = handle as Server;
    server.on('connection', (s: Socket) => onConnection(m.id, s));
    got.servers.set(m.id, server);
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', (e) => (stderr += e.message));
    child.on('close', () => {
      clearTimeout(timer);
      for (const k of keys)
        if (!got.servers.has(k) && !got.errors.has(k))
          got.errors.set(k, `taking it from the socket holder failed: ${stderr.trim().split('\n').pop() || 'no answer'}`);
      resolve(got);
    });
  });
}

/** The engine's side of its holder: its own binds held there, and the public sockets the daemon handed in. */
export class HeldSockets {
  private readonly link: HolderLink;
  private wanted = '';

  constructor(
    private readonly dir: string,
    private readonly handOver: string[],
  ) {
    this.link = new HolderLink(dir);
  }

  /** Starts the holder, or finds the one a dead worker left; resolves with the public sockets it keeps (`listenerId:port`). */
  async open(onLost: () => void): Promise<string[]> {
    const how = await this.link.open();
    this.link.onLost = onLost;
    if (how === 'started') return [];
    const st = await this.link.state();
    return st.kept;
  }

  /**
   * These binds (`ADDR:PORT`) and no others; copies of the `fresh` ones, each a listening
   * server or why it could not listen.
   */
  async bind(all: string[], fresh: string[], onConnection: (key: string, s: Socket) => void): Promise<Map<string, Server | string>> {
    const out = new Map<string, Server | string>();
    const wanted = JSON.stringify([...all].sort());
    let errors: Record<string, string> = {};
    if (wanted !== this.wanted || fresh.length > 0) {
      errors = (await this.link.hold(all, true)).errors;
      this.wanted = wanted;
    }
    for (const [k, why] of Object.entries(errors)) if (fresh.includes(k)) out.set(k, why);
    const got = await this.take(
      fresh.filter((k) => !out.has(k)),
      onConnection,
    );
    for (const [k, s] of got.servers) out.set(k, s);
    for (const [k, why] of got.errors) out.set(k, why);
    return out;
  }

  /** Copies of held or kept sockets. */
  take(keys: string[], onConnection: (key: string, s: Socket) => void): Promise<Fetched> {
    return fetchHeld(this.dir, keys, this.handOver, onConnection);
  }
}
