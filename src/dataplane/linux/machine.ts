/**
 * A server is a machine of its own. Its namespace set:
 *
 *   user     root and ids 1-65535 map onto a range of host ids no other object shares (ids.ts);
 *            kept at /run/nimbus/machines/<ns>.user
 *   network  owned by that user namespace, so root inside has raw sockets (ping, tcpdump) and
 *            low ports there, and nowhere else; kept at /run/netns/<ns> as before
 *   uts      its hostname is the server's name; kept at /run/nimbus/machines/<ns>.uts
 *   mount    made anew for each process, by host root, before it enters the user namespace: the
 *            server's /etc/hosts and /etc/hostname, /sys of its network, /proc that hides every
 *            process not its own (hidepid), and its own /root, /tmp, /var/tmp and /dev/shm
 *
 * Inside, a process is uid 0 with the capabilities root has in a container by default, less
 * CAP_NET_ADMIN and CAP_SYS_ADMIN (as Docker's default set): it cannot touch the security
 * group's nftables table or its own addresses and routes, and cannot mount over what it was given.
 * It can still forge packets with a raw socket; the VPC drops those (port security, nft.ts).
 * Its environment is PATH, HOME, TERM, LANG, HOSTNAME, USER, LOGNAME and SHELL, nothing of the
 * daemon's. The host's files it sees as an unknown user ("other"), so it reads what everyone may
 * read and writes nothing of the host's.
 */
import { existsSync, mkdirSync, chownSync, chmodSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ID_RANGE, claimIds, releaseIds } from '../ids.js';
import type { Runner } from './run.js';

export const MACHINES_DIR = '/run/nimbus/machines';

export const userNsFile = (ns: string) => join(MACHINES_DIR, `${ns}.user`);
export const utsNsFile = (ns: string) => join(MACHINES_DIR, `${ns}.uts`);

/** Whether the machine's user namespace is there (a bind mount of one, not a file left from before a reboot). */
export function machineExists(ns: string): boolean {
  try {
    return statSync(userNsFile(ns)).dev !== statSync(MACHINES_DIR).dev;
  } catch {
    return false;
  }
}

/**
 * Shell text (for `sh -es`, as root) that makes the machine's namespaces: a holder process
 * unshares user, network and uts namespaces, root maps its range, and the three are bound to
 * their files; the holder then ends (the files keep the namespaces).
 */
export function createMachineScript(ns: string, firstId: number): string {
  const u = userNsFile(ns);
  const t = utsNsFile(ns);
  const n = `/run/netns/${ns}`;
  return [
    `mkdir -p /run/netns ${MACHINES_DIR}`,
    `for f in ${u} ${t} ${n}; do umount "$f" 2>/dev/null || true; rm -f "$f"; touch "$f"; done`,
    'unshare --user --net --uts -- sleep 60 & p=$!',
    'i=0; while [ "$(readlink /proc/$p/ns/user)" = "$(readlink /proc/$$/ns/user)" ]; do i=$((i+1)); [ $i -lt 2000 ] || { kill $p; exit 1; }; sleep 0.005; done',
    `echo "0 ${firstId} ${ID_RANGE}" > /proc/$p/uid_map`,
    `echo "0 ${firstId} ${ID_RANGE}" > /proc/$p/gid_map`,
    `mount --bind /proc/$p/ns/user ${u}`,
    `mount --bind /proc/$p/ns/uts ${t}`,
    `mount --bind /proc/$p/ns/net ${n}`,
    'kill $p',
  ].join('\n');
}

/** Shell text that releases the machine's user and uts namespaces (`ip netns del` takes its network). */
export function removeMachineScript(ns: string): string {
  return `for f in ${userNsFile(ns)} ${utsNsFile(ns)}; do umount "$f" 2>/dev/null || true; rm -f "$f"; done`;
}

/** The server's own folders, bound over /root, /tmp, /var/tmp and /dev/shm: owned by its root. */
export interface MachineHome {
  root: string;
  tmp: string;
}

/** Makes the machine's folders under `dir` (in the daemon's private data directory), owned by the machine's root. */
export function prepareHome(dir: string, firstId: number): MachineHome {
  const home = { root: join(dir, 'root'), tmp: join(dir, 'tmp') };
  mkdirSync(dirname(home.root), { recursive: true, mode: 0o700 });
  for (const [path, mode] of [
    [home.root, 0o700],
    [home.tmp, 0o1777],
  ] as const) {
    if (!existsSync(path)) mkdirSync(path, { mode });
    chownSync(path, firstId, firstId);
    chmodSync(path, mode);
  }
  return home;
}

export const MACHINE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment inside a server, and nothing else. */
export function machineEnv(hostname: string, term: string): string[] {
  return [`PATH=${MACHINE_PATH}`, 'HOME=/root', `TERM=${term}`, 'LANG=C.UTF-8', `HOSTNAME=${hostname}`, 'USER=root', 'LOGNAME=root', 'SHELL=/bin/sh'];
}

/** The capabilities root inside a server does not have (it keeps the rest of a container's usual set). */
export const DROPPED_CAPS = [
  'net_admin',
  'sys_admin',
  'sys_module',
  'sys_rawio',
  'sys_boot',
  'sys_time',
  'mac_admin',
  'mac_override',
  'syslog',
  'bpf',
  'perfmon',
];

/**
 * The argv that runs `argv` inside the machine `ns` as its root. Host root builds the mount
 * namespace (through `ip netns exec`, which also binds /etc/netns/<ns>/ over /etc/), then enters
 * the user and uts namespaces with nsenter, sets the hostname, drops capabilities and the
 * environment, and execs.
 */
export function inMachine(ns: string, hostname: string, home: MachineHome, argv: string[], term = 'dumb'): string[] {
  // The sources may lie under /root or /tmp (the data directory's place): they are bound to a
  // staging tmpfs first, so covering one target never hides another's source.
  const mounts = [
    'mount -t proc -o hidepid=2 proc /proc',
    'mount -t tmpfs nimbus /mnt',
    'mkdir /mnt/r /mnt/t',
    'mount --bind "$1" /mnt/r',
    'mount --bind "$2" /mnt/t',
    'mount --bind /mnt/t /tmp',
    'mount --bind /mnt/t /var/tmp',
    'mount --bind /mnt/t /dev/shm',
    'mount --bind /mnt/r /root',
    'umount -l /mnt',
  ].join(' && ');
  const enter = `${mounts} && shift 2 && exec nsenter --user=${userNsFile(ns)} --uts=${utsNsFile(ns)} -S 0 -G 0 -- "$@"`;
  const inside = 'hostname "$0" && cd /root && exec "$@"';
  const drop = ['setpriv', `--bounding-set=${DROPPED_CAPS.map((c) => `-${c}`).join(',')}`, `--inh-caps=${DROPPED_CAPS.map((c) => `-${c}`).join(',')}`, '--'];
  return [
    'ip',
    'netns',
    'exec',
    ns,
    'sh',
    '-c',
    enter,
    'nimbus',
    home.root,
    home.tmp,
    'sh',
    '-c',
    inside,
    hostname,
    ...drop,
    'env',
    '-i',
    ...machineEnv(hostname, term),
    ...argv,
  ];
}

/**
 * The same as createMachineScript, for many machines in one process: a shell script costs some
 * twenty processes per machine (25 ms of CPU), this a fork apiece. For each machine it forks a
 * child that unshares the three namespaces and waits; the parent maps the child's ids, binds
 * its namespaces to their files, and lets it go. Prints one JSON line per machine.
 */
export const MACHINES_PROGRAM = String.raw`
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
NEW = 0x10000000 | 0x40000000 | 0x04000000  # CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS
MS_BIND = 4096
def fail(what):
    e = ctypes.get_errno()
    raise OSError(e, '%s: %s' % (what, os.strerror(e)))
args = json.loads(sys.argv[1])
for d in ('/run/netns', args['dir']):
    os.makedirs(d, exist_ok=True)
for m in args['machines']:
    try:
        files = (('user', m['user']), ('uts', m['uts']), ('net', m['net']))
        for _, f in files:
            libc.umount2(f.encode(), 0)
            if os.path.lexists(f):
                os.unlink(f)
            open(f, 'w').close()
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r1)
                os.close(w2)
                os.write(w1, b'1' if libc.unshare(NEW) == 0 else b'0')
                os.read(r2, 1)
            finally:
                os._exit(0)
        os.close(w1)
        os.close(r2)
        try:
            if os.read(r1, 1) != b'1':
                raise OSError(0, 'unshare failed')
            for f in ('uid_map', 'gid_map'):
                with open('/proc/%d/%s' % (pid, f), 'w') as fh:
                    fh.write('0 %d %d' % (m['first'], args['range']))
            for kind, f in files:
                if libc.mount(('/proc/%d/ns/%s' % (pid, kind)).encode(), f.encode(), None, MS_BIND, None) != 0:
                    fail('binding ' + f)
        finally:
            os.close(w2)
            os.close(r1)
            os.waitpid(pid, 0)
        print(json.dumps({'ns': m['ns']}), flush=True)
    except OSError as e:
        print(json.dumps({'ns': m['ns'], 'error': 'making the machine %s: %s' % (m['ns'], e.strerror or e)}), flush=True)
`;

/** How the reconciler makes, checks and removes machines (a fake in its unit tests). */
export interface Machines {
  exists(ns: string): boolean;
  create(ns: string): Promise<void>;
  /** Makes many at once; the error of each that failed. */
  createMany?(names: string[]): Promise<Map<string, Error>>;
  remove(ns: string): Promise<void>;
}

/** Machines on this host, their commands run through `runner`; each holds the range of ids claimed for its name. */
export function hostMachines(runner: Runner): Machines {
  return {
    exists: machineExists,
    create: async (ns) => {
      const r = await runner('sh', ['-es'], { input: createMachineScript(ns, claimIds(ns)) + '\n', timeoutMs: 20_000 });
      if (r.code !== 0) throw new Error(`making the machine ${ns}: ${r.stderr.trim() || `exit ${r.code}`}`);
    },
    createMany: async (names) => {
      const machines = names.map((ns) => ({ ns, first: claimIds(ns), user: userNsFile(ns), uts: utsNsFile(ns), net: `/run/netns/${ns}` }));
      const r = await runner('python3', ['-c', MACHINES_PROGRAM, JSON.stringify({ dir: MACHINES_DIR, range: ID_RANGE, machines })], {
        timeoutMs: 20_000 + names.length * 50,
      });
      const made = new Set<string>();
      const failed = new Map<string, Error>();
      for (const line of r.stdout.split('\n')) {
        if (!line.trim()) continue;
        const o = JSON.parse(line) as { ns: string; error?: string };
        if (o.error) failed.set(o.ns, new Error(o.error));
        else made.add(o.ns);
      }
      for (const ns of names) {
        if (!made.has(ns) && !failed.has(ns)) failed.set(ns, new Error(`making the machine ${ns}: ${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}`));
      }
      return failed;
    },
    remove: async (ns) => {
      await runner('sh', ['-es'], { input: removeMachineScript(ns) + '\n', timeoutMs: 20_000 });
      releaseIds(ns);
    },
  };
}
