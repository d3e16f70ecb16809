/**
 * Opens listening sockets inside servers' network namespaces, many in one go, and brings them
 * to the daemon as net.Server handles it can hand to the app host. Node cannot enter a network
 * namespace (no setns), so a short Python program does the part that needs it: for each
 * server it enters the namespace (setns through libc), opens, binds and listens, and keeps the
 * descriptor; then it returns to the host's namespace and execs the hand-over program
 * (apps/hand-over.ts), which inherits the descriptors and sends each one on the IPC channel.
 * One batch costs one Python and one Node start, whatever its size.
 *
 * Every socket has SO_REUSEPORT, so a new app host can listen beside an old one (a daemon
 * restarted after SIGKILL) before the old one ends.
 */
import { spawn } from 'node:child_process';
import type { Server, Socket } from 'node:net';
import type { Handed } from '../apps/app-host-ipc.js';
import { runtimeEntry } from './runtime.js';
import { CLEAN_PATH } from '../dataplane/user.js';
import { PY_NETNS } from '../dataplane/linux/py-netns.js';

export interface SocketWanted {
  id: string;
  /** The network namespace's name (under /run/netns). */
  ns: string;
  port: number;
}

/** A socket opened, with the connections accepted on its way here (paused, unread), or why not. */
export type Opened = { server: Server; ino: number; conns: Socket[]; forward?: (s: Socket) => void } | { error: string };

/**
 * Where the connections accepted on a socket's way go from now on: those kept so far, and any
 * later (`to`), or nowhere (null: they are closed, the socket found no app host).
 */
export function handOn(o: Extract<Opened, { conns: Socket[] }>, to: ((s: Socket) => void) | null): void {
  o.forward = to ?? ((s) => s.destroy());
  for (const s of o.conns.splice(0)) o.forward(s);
}

/** A connection accepted on a socket's way: kept unread, or sent on once there is where to. */
function take(o: Extract<Opened, { conns: Socket[] }>, s: Socket): void {
  // A client may reset it while it waits here: that must not end the daemon.
  s.on('error', () => undefined);
  s.pause();
  if (o.forward) o.forward(s);
  else o.conns.push(s);
}

const OPENER = `${PY_NETNS}
import json, resource, socket, sys
# A batch may hold more sockets than the usual soft limit of 1,024 descriptors.
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
out = []
for item in json.loads(sys.argv[1]):
    try:
        ino = enter_ns(item['ns'])
        # A listener that closes hands its queued connections to another of its port (a new
        # app host's beside the old one's) rather than resetting them (Linux 5.14 and later).
        try:
            with open('/proc/sys/net/ipv4/tcp_migrate_req', 'w') as f:
                f.write('1')
        except OSError:
            pass
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(('0.0.0.0', item['port']))
        s.listen(511)
        fd = s.detach()
        os.set_inheritable(fd, True)
        out.append({'id': item['id'], 'fd': fd, 'ino': ino})
    except OSError as e:
        out.append({'id': item['id'], 'error': 'port %d in %s: %s' % (item['port'], item['ns'], e.strerror or e)})
leave_ns()
os.execv(sys.argv[2], sys.argv[2:] + [json.dumps(out)])
`;

const NS_NAME = /^[A-Za-z0-9_.-]+$/;

/** Opens a listening socket for each of `wanted` in its namespace (as root); an error per server that failed. */
export async function openSockets(wanted: SocketWanted[], timeoutMs = 20_000 + wanted.length * 20): Promise<Map<string, Opened>> {
  const out = new Map<string, Opened>();
  const asked = wanted.filter((w) => {
    if (NS_NAME.test(w.ns)) return true;
    out.set(w.id, { error: `not a namespace name: ${w.ns}` });
    return false;
  });
  if (asked.length === 0) return out;
  const [node, handOver] = runtimeEntry('hand-over');
  const child = spawn('python3', ['-c', OPENER, JSON.stringify(asked), node, handOver], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { PATH: CLEAN_PATH, LANG: 'C.UTF-8' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + String(d)).slice(-2000)));
  child.on('message', (m: Handed, handle?: Server | Socket) => {
    if ('error' in m) return void out.set(m.id, { error: m.error });
    const o = out.get(m.id);
    if ('conn' in m) {
      // A connection the hand-over accepted: kept unread, for the app host.
      const s = handle as Socket | undefined;
      s?.on('error', () => undefined);
      if (s && o && 'conns' in o) take(o, s);
      else s?.destroy();
      return;
    }
    if (!handle) return void out.set(m.id, { error: 'the socket did not come' });
    const opened: Extract<Opened, { conns: Socket[] }> = { server: handle as Server, ino: m.ino, conns: [] };
    opened.server.on('error', () => undefined);
    // Until the app host has it, what this copy accepts is kept unread, for the app host.
    opened.server.on('connection', (s: Socket) => take(opened, s));
    out.set(m.id, opened);
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => (stderr += err.message));
    child.on('close', () => (clearTimeout(timer), resolve()));
  });
  for (const w of asked) {
    if (!out.has(w.id))
      out.set(w.id, { error: `opening its socket failed: ${stderr.trim().split('\n').pop() || `exit ${child.exitCode ?? child.signalCode}`}` });
  }
  return out;
}
