/**
 * The socket holder of an HAProxy load balancer: a small process that keeps the listeners'
 * listening sockets open for as long as they are wanted, and starts HAProxy's master with
 * them (`bind fd@N`). HAProxy 2.6's master ends when its one worker dies, and its sockets went
 * with it: for the moment until the next master listened, connections were refused (issue 23,
 * item 8). With the holder, a socket outlives any HAProxy: connections that come while none
 * runs wait in the socket's backlog, and the next master (which the holder starts at once)
 * takes them.
 *
 * Node has no public API to keep a listening socket without accepting on it, nor to hand a
 * listening descriptor to a program that is not Node, so the holder is Python (as the
 * socket opener is). It outlives its agent: a killed agent's successor finds it over its
 * Unix socket (mode 0600, in the load balancer's own folder) and asks what it holds.
 *
 * It also opens HAProxy's access log, once for every master: HAProxy clears O_APPEND on the
 * file it is given, so a restarted HAProxy with a file of its own wrote over the log from its
 * start. Shared, the file's offset stays at its end; `{"op":"append"}` sets the flag again
 * before a rotation truncates the file (so the next line goes to its new start, not past a
 * hole). A pipe the holder would copy from cost a third of HAProxy's requests per second.
 *
 * Its protocol, one JSON document per line each way:
 * - `{"op":"hold","binds":["ADDR:PORT",...]}`: these sockets and no others; the answer
 *   `{"op":"held","fds":{...},"errors":{...},"kept":{...}}` gives each one's descriptor, or why
 *   it could not listen, and the descriptors of the sockets handed in (`keep`, below). A socket no longer wanted is closed when the next master starts, so the one
 *   running (which may be started again on its worker's death) keeps what it was given.
 * - `{"op":"start","argv":[...],"out":FILE,"err":FILE}`: the running master is asked to stop
 *   gently (SIGUSR1: its worker closes its listeners and ends its connections), then a new
 *   one starts with every held socket and the kept ones named in `"pass":[...]`; answered `{"op":"started","pid":N}`. Between the two,
 *   connections wait in the sockets' backlog: no two configurations ever take connections at
 *   once, and none is refused.
 * - `{"op":"state"}`: `{"op":"state","pid":N|null,"fds":{...},"kept":[...],"keptFds":{...},"pass":[...]}`
 *   (`pass`: the kept sockets the current master was given).
 *
 * - `{"op":"keep","key":K}` with a listening descriptor (SCM_RIGHTS): keeps it under K (the
 *   daemon hands in a public IP's socket this way, opened on the host: held-sockets.ts);
 *   `{"op":"keep-only","keys":[...]}` closes the kept ones not named; both answer
 *   `{"op":"kept","keys":[...]}`. HAProxy binds a kept socket as `fd@N` too.
 *
 * For Nimbus's own engine (held-sockets.ts), which listens on the sockets itself:
 * - `hold` with `"partial":true`: each socket on its own (`errors` gives each failure as
 *   `ECODE: words`), and those no longer wanted are closed at once;
 * - `{"op":"send","keys":[...]}`: answered `{"op":"sent","keys":[...],"errors":{...}}` with a
 *   copy of each socket named in `keys` attached, in that order.
 * - the holder says `{"op":"exited","pid":N,"status":S,"restarted":M}` when the current
 *   master ended and it started the next one (after a second if the last lived less than one).
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A running process and its children (HAProxy's master and its workers, the holder and its master); none when it does not run. */
export function treeOf(pid: number): number[] {
  try {
    return [pid, ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [];
  }
}

/** Ends these processes at once (SIGKILL), those already gone aside. */
export function endAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** The key a held socket goes by: `ADDR:PORT` (the holder splits at the last colon). */
export const heldKey = (addr: string, port: number) => `${addr}:${port}`;

/** The pid a file names, when that process still runs with `mark` in its command line (not a stranger given the pid since). */
export function runningFrom(pidFile: string, mark: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return pid > 1 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mark) ? pid : null;
  } catch {
    return null;
  }
}

/** The holder running from this folder with what it started; none when it does not run. */
export function holderTree(dir: string): number[] {
  const pid = runningFrom(holderPidFile(dir), dir);
  return pid ? treeOf(pid) : [];
}

/** The holder's Unix socket in the agent's folder. */
export const holderSocket = (dir: string) => `${dir}/holder.sock`;
/** Its pid, for the daemon to end it with the load balancer. */
export const holderPidFile = (dir: string) => `${dir}/holder.pid`;

const HOLDER = String.raw`
import errno, fcntl, json, os, selectors, signal, socket, subprocess, sys, time
d = sys.argv[1]
path = os.path.join(d, 'holder.sock')
held, retiring = {}, []
# Sockets opened elsewhere and handed in (a public IP's, opened by the daemon on the host), by key.
kept = {}
# Descriptors that came with a client's bytes, for its next 'keep'.
fdq = {}
current = None
last = None
started_at = 0.0
sel = selectors.DefaultSelector()
clients = []

def say(msg):
    line = (json.dumps(msg) + '\n').encode()
    for c in list(clients):
        try:
            c.sendall(line)
        except OSError:
            drop(c)

def drop(c):
    if c in clients:
        clients.remove(c)
        sel.unregister(c)
        c.close()
    for fd in fdq.pop(c, []):
        os.close(fd)

def why(e):
    return '%s: %s' % (errno.errorcode.get(e.errno, 'EIO'), e.strerror or e)

def listen(key):
    host, port = key.rsplit(':', 1)
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host.strip('[]'), int(port)))
        s.listen(socket.SOMAXCONN)
    except OSError:
        s.close()
        raise
    return s

log = {'path': None, 'fd': None}

def log_file(path):
    # One open file for every master, so they share its offset. HAProxy makes its log
    # descriptor non-blocking with F_SETFL, which drops O_APPEND: handed a file of its own, a
    # restarted HAProxy wrote over the log from its start. Shared and placed at the end, the
    # offset is always the end; the append flag is set again before a rotation truncates.
    if log['path'] != path:
        if log['fd'] is not None:
            os.close(log['fd'])
        log['fd'] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.lseek(log['fd'], 0, os.SEEK_END)
        log['path'] = path
    return log['fd']

def append_again():
    if log['fd'] is not None:
        fcntl.fcntl(log['fd'], fcntl.F_SETFL, fcntl.fcntl(log['fd'], fcntl.F_GETFL) | os.O_APPEND)

def spawn(spec):
    global current, started_at
    out = log_file(spec['out'])
    err = os.open(spec['err'], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # Every held socket, and the kept ones the configuration binds (one kept for a listener
        # the master does not serve yet waits in the holder, its connections in its backlog).
        given = list(held.values()) + [kept[k] for k in spec.get('pass', []) if k in kept]
        p = subprocess.Popen(spec['argv'], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             pass_fds=[s.fileno() for s in given])
    finally:
        os.close(err)
    sel.register(os.pidfd_open(p.pid), selectors.EVENT_READ, ('child', p))
    current, started_at = p, time.monotonic()
    return p

def retire():
    while retiring:
        retiring.pop().close()

def answer(c, msg):
    global last
    op = msg.get('op')
    if op == 'hold':
        want, opened, errors = msg['binds'], {}, {}
        # 'partial' (Nimbus's own engine): each socket on its own, and those no longer wanted
        # closed at once (the engine closes its own copy); else all or nothing, for one master.
        partial = msg.get('partial', False)
        for key in want:
            if key not in held:
                try:
                    opened[key] = listen(key)
                except OSError as e:
                    errors[key] = why(e) if partial else (e.strerror or str(e))
        if errors and not partial:
            # All or nothing: what was opened for this request is closed again, the held stay.
            for s in opened.values():
                s.close()
            return {'op': 'held', 'fds': {}, 'errors': errors, 'kept': {}}
        held.update(opened)
        for key in [k for k in held if k not in want]:
            retiring.append(held.pop(key))
        if partial:
            retire()
        return {'op': 'held', 'fds': {k: s.fileno() for k, s in held.items()}, 'errors': errors,
                'kept': {k: s.fileno() for k, s in kept.items()}}
    if op == 'keep':
        # A listening socket handed in with this line: kept under its key (one kept before is closed).
        q = fdq.get(c, [])
        if not q:
            return {'op': 'error', 'message': 'no descriptor came with keep'}
        s = socket.socket(fileno=q.pop(0))
        old = kept.pop(msg['key'], None)
        if old is not None:
            old.close()
        kept[msg['key']] = s
        return {'op': 'kept', 'keys': sorted(kept)}
    if op == 'keep-only':
        for key in [k for k in kept if k not in msg['keys']]:
            kept.pop(key).close()
        return {'op': 'kept', 'keys': sorted(kept)}
    if op == 'send':
        # Copies of the sockets asked for, as descriptors with the answer.
        found = [k for k in msg['keys'] if k in held or k in kept]
        socks = [held.get(k) or kept.get(k) for k in found]
        errors = {k: 'not held' for k in msg['keys'] if k not in found}
        return ({'op': 'sent', 'keys': found, 'errors': errors}, [x.fileno() for x in socks])
    if op == 'start':
        last = {'argv': msg['argv'], 'out': msg['out'], 'err': msg['err'], 'pass': msg.get('pass', [])}
        # The running master stops gently first (its worker closes its listeners and ends its
        # connections): until the next one listens, connections wait in the held sockets.
        if current is not None and current.poll() is None:
            current.send_signal(signal.SIGUSR1)
        retire()
        return {'op': 'started', 'pid': spawn(last).pid}
    if op == 'append':
        append_again()
        return {'op': 'append'}
    if op == 'state':
        alive = current is not None and current.poll() is None
        return {'op': 'state', 'pid': current.pid if alive else None, 'fds': {k: s.fileno() for k, s in held.items()}, 'kept': sorted(kept),
                'keptFds': {k: s.fileno() for k, s in kept.items()}, 'pass': last['pass'] if last else []}
    return {'op': 'error', 'message': 'unknown op'}

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    os.unlink(path)
except FileNotFoundError:
    pass
old = os.umask(0o177)
srv.bind(path)
os.umask(old)
srv.listen(8)
sel.register(srv, selectors.EVENT_READ, ('server', None))
with open(os.path.join(d, 'holder.pid'), 'w') as f:
    f.write(str(os.getpid()))
sys.stdout.write('ready\n')
sys.stdout.flush()
os.close(1)
bufs = {}
while True:
    for key, _ in sel.select():
        kind, obj = key.data
        if kind == 'server':
            c, _ = srv.accept()
            clients.append(c)
            bufs[c] = b''
            sel.register(c, selectors.EVENT_READ, ('client', c))
        elif kind == 'client':
            try:
                data, fds, _, _ = socket.recv_fds(obj, 65536, 16)
            except OSError:
                data, fds = b'', []
            fdq.setdefault(obj, []).extend(fds)
            if not data:
                drop(obj)
                continue
            bufs[obj] += data
            while b'\n' in bufs[obj]:
                line, bufs[obj] = bufs[obj].split(b'\n', 1)
                try:
                    reply = answer(obj, json.loads(line))
                except Exception as e:
                    reply = {'op': 'error', 'message': str(e)}
                fds = []
                if isinstance(reply, tuple):
                    reply, fds = reply
                try:
                    out = (json.dumps(reply) + '\n').encode()
                    if fds:
                        socket.send_fds(obj, [out], fds)
                    else:
                        obj.sendall(out)
                except OSError:
                    drop(obj)
                    break
        else:
            sel.unregister(key.fileobj)
            os.close(key.fd)
            status = obj.wait()
            if obj is current and last is not None:
                if time.monotonic() - started_at < 1:
                    time.sleep(1)
                p = spawn(last)
                say({'op': 'exited', 'pid': obj.pid, 'status': status, 'restarted': p.pid})
`;

export interface Held {
  fds: Record<string, number>;
  errors: Record<string, string>;
  /** The sockets handed in (`keep`: a public IP's), by their key, and their descriptors. */
  kept: Record<string, number>;
}

/** The agent's side of its holder. */
export class HolderLink {
  private socket: Socket | null = null;
  private waiting: ((msg: Record<string, unknown>) => void)[] = [];
  /** Called when the holder started a master again after the current one ended. */
  onExit: (event: { pid: number; status: number; restarted: number }) => void = () => undefined;
  /** Called when the holder itself is gone. */
  onLost: () => void = () => undefined;

  constructor(private readonly dir: string) {}

  /** Connects to the holder of this folder, starting one when none answers. */
  async open(): Promise<'found' | 'started'> {
    if (await this.connect()) return 'found';
    const err = openSync(join(this.dir, 'holder.log'), 'a');
    const child = spawn('python3', ['-c', HOLDER, this.dir], { stdio: ['ignore', 'pipe', err] });
    closeSync(err);
    const ready = await new Promise<boolean>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) resolve(true);
      });
      child.once('exit', () => resolve(false));
      child.once('error', () => resolve(false));
    });
    child.stdout!.destroy();
    child.unref();
    if (!ready || !(await this.connect())) throw new Error('the socket holder did not start (see holder.log in the load balancer folder)');
    return 'started';
  }

  private connect(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect(holderSocket(this.dir));
      s.once('error', () => resolve(false));
      s.once('connect', () => {
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        this.socket = s;
        const rl = createInterface({ input: s, crlfDelay: Infinity });
        rl.on('line', (line) => {
          let msg: Record<string, unknown>;
          try {
            msg = JSON.parse(line) as Record<string, unknown>;
          } catch {
            return;
          }
          if (msg.op === 'exited') this.onExit(msg as unknown as { pid: number; status: number; restarted: number });
          else this.waiting.shift()?.(msg);
        });
        s.once('close', () => {
          if (this.socket !== s) return;
          this.socket = null;
          for (const w of this.waiting.splice(0)) w({ op: 'error', message: 'the socket holder is gone' });
          this.onLost();
        });
        resolve(true);
      });
    });
  }

  private ask(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const s = this.socket;
    if (!s) return Promise.reject(new Error('the socket holder is gone'));
    return new Promise((resolve, reject) => {
      this.waiting.push((reply) => (reply.op === 'error' ? reject(new Error(String(reply.message))) : resolve(reply)));
      s.write(JSON.stringify(msg) + '\n');
    });
  }

  /** Holds exactly these sockets (`ADDR:PORT`): all or none, or (`partial`) each on its own, those let go closed at once. */
  async hold(binds: string[], partial = false): Promise<Held> {
    const r = await this.ask({ op: 'hold', binds, ...(partial ? { partial } : {}) });
    return { fds: r.fds as Record<string, number>, errors: r.errors as Record<string, string>, kept: (r.kept as Record<string, number> | undefined) ?? {} };
  }

  /** A new master with every held socket and the kept ones named in `pass`; the pid. */
  async start(argv: string[], out: string, err: string, pass: string[] = []): Promise<number> {
    return (await this.ask({ op: 'start', argv, out, err, pass })).pid as number;
  }

  /** Closes the sockets handed in (`keep`) but these. */
  async keepOnly(keys: string[]): Promise<void> {
    await this.ask({ op: 'keep-only', keys });
  }

  /** Sets O_APPEND again on the access log HAProxy writes (before it is truncated). */
  async append(): Promise<void> {
    await this.ask({ op: 'append' });
  }

  /** What the holder has: its current master (if running), the sockets it listens on, and those handed in (`keep`). */
  async state(): Promise<{ pid: number | null; fds: Record<string, number>; kept: string[]; keptFds: Record<string, number>; pass: string[] }> {
    const r = await this.ask({ op: 'state' });
    return {
      pid: (r.pid as number | null) ?? null,
      fds: r.fds as Record<string, number>,
      kept: (r.kept as string[] | undefined) ?? [],
      keptFds: (r.keptFds as Record<string, number> | undefined) ?? {},
      pass: (r.pass as string[] | undefined) ?? [],
    };
  }
}
