/**
 * Reading many namespaces in one process: a full pass over a thousand namespaces would
 * otherwise start a shell and a dozen commands in each (about 16 ms of CPU apiece). A short
 * Python program enters each namespace in turn (setns through libc) and asks the kernel over
 * netlink what `ip -j` would print (links, IPv4 addresses, routes of every table, rules), reads
 * the sysctls observe() reads, and the hash in the comment of our nftables table (nfnetlink).
 * It prints one JSON line per namespace in the fields `ip -j` uses, so parseObserved() reads
 * both the same way; a namespace it cannot read gets its error. test/netns holds both readers
 * to the same answer on real namespaces.
 */
import { parseObserved, SEP, type Observed } from './observe.js';
import { run, type Runner } from './run.js';
import { PY_NETNS } from './py-netns.js';

const READER =
  PY_NETNS +
  String.raw`
import json, socket, struct, sys
DUMP = 0x301  # NLM_F_REQUEST | NLM_F_DUMP
TYPES = {1: 'unicast', 2: 'local', 3: 'broadcast', 4: 'anycast', 5: 'multicast', 6: 'blackhole', 7: 'unreachable', 8: 'prohibit', 9: 'throw', 10: 'nat'}
TABLES = {253: 'default', 254: 'main', 255: 'local'}

def attrs(buf, off):
    out = {}
    while off + 4 <= len(buf):
        ln, ty = struct.unpack_from('HH', buf, off)
        if ln < 4:
            break
        out.setdefault(ty & 0x3fff, buf[off + 4:off + ln])
        off += (ln + 3) & ~3
    return out

def dump(sock, msgtype, body):
    sock.send(struct.pack('IHHII', 16 + len(body), msgtype, DUMP, 1, 0) + body)
    msgs = []
    while True:
        data = sock.recv(1 << 18)
        off = 0
        while off + 16 <= len(data):
            ln, ty = struct.unpack_from('IH', data, off)
            if ty == 3:  # NLMSG_DONE
                return msgs
            if ty == 2:  # NLMSG_ERROR
                err = struct.unpack_from('i', data, off + 16)[0]
                if err:
                    raise OSError(-err, os.strerror(-err))
                return msgs
            msgs.append(data[off + 16:off + ln])
            off += (ln + 3) & ~3

def text(b):
    return b.split(b'\0', 1)[0].decode()

def ip4(b):
    return socket.inet_ntoa(b[:4])

def read():
    rt = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    try:
        names, links = {}, []
        raw = dump(rt, 18, struct.pack('BxHiII', 0, 0, 0, 0, 0))
        for m in raw:
            names[struct.unpack_from('i', m, 4)[0]] = text(attrs(m, 16).get(3, b''))
        for m in raw:
            _, _, _, flags = struct.unpack_from('BxHiI', m, 0)
            a = attrs(m, 16)
            link = {'ifname': text(a.get(3, b'')), 'flags': ['UP'] if flags & 1 else []}
            if 10 in a:
                link['master'] = names.get(struct.unpack('i', a[10][:4])[0], '')
            if 1 in a:
                link['address'] = ':'.join('%02x' % x for x in a[1])
            if 18 in a and 1 in attrs(a[18], 0):
                link['linkinfo'] = {'info_kind': text(attrs(a[18], 0)[1])}
            links.append(link)
        addrs = {}
        for m in dump(rt, 22, struct.pack('BBBBI', socket.AF_INET, 0, 0, 0, 0)):
            fam, plen, _, _, idx = struct.unpack_from('BBBBI', m, 0)
            a = attrs(m, 8)
            local = a.get(2, a.get(1))
            if fam == socket.AF_INET and local:
                addrs.setdefault(idx, []).append({'family': 'inet', 'local': ip4(local), 'prefixlen': plen})
        routes, local127 = [], 0
        # Every family, as ip route show table all prints them (IPv6 link routes included).
        for m in dump(rt, 26, struct.pack('BBBBBBBBI', 0, 0, 0, 0, 0, 0, 0, 0, 0)):
            fam, dlen, _, _, table, _, _, rtype, _ = struct.unpack_from('BBBBBBBBI', m, 0)
            a = attrs(m, 12)
            if 15 in a:
                table = struct.unpack('I', a[15][:4])[0]
            v6 = fam == socket.AF_INET6
            addr = (lambda b: socket.inet_ntop(socket.AF_INET6, b[:16])) if v6 else ip4
            dst = addr(a[1]) if 1 in a else '0.0.0.0'
            if not v6 and table == 255 and rtype == 2 and dlen == 8 and dst == '127.0.0.0':
                local127 += 1
            r = {'dst': 'default' if dlen == 0 else dst if dlen == (128 if v6 else 32) else '%s/%d' % (dst, dlen)}
            if rtype != 1:
                r['type'] = TYPES.get(rtype, str(rtype))
            if table != 254:
                r['table'] = TABLES.get(table, str(table))
            if 4 in a:
                r['dev'] = names.get(struct.unpack('i', a[4][:4])[0], '')
            if 5 in a:
                r['gateway'] = addr(a[5])
            routes.append(r)
        rules = []
        for m in dump(rt, 34, struct.pack('BBBBBBBBI', socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)):
            table = struct.unpack_from('BBBBB', m, 0)[4]
            a = attrs(m, 12)
            if 15 in a:
                table = struct.unpack('I', a[15][:4])[0]
            rule = {'priority': struct.unpack('I', a[6][:4])[0] if 6 in a else 0, 'table': TABLES.get(table, str(table))}
            if 3 in a:
                rule['iif'] = text(a[3])
            rules.append(rule)
    finally:
        rt.close()
    sysctl = ''
    for f in ('ip_forward', 'conf/all/rp_filter', 'conf/default/rp_filter', 'conf/all/route_localnet'):
        with open('/proc/sys/net/ipv4/' + f) as fh:
            sysctl += fh.read().strip() + ' '
    sysctl += str(local127)
    nft = ''
    nf = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
    try:
        for m in dump(nf, (10 << 8) | 1, struct.pack('BBH', 1, 0, 0)):
            a = attrs(m, 4)
            if text(a.get(1, b'')) != 'nimbus' or m[0] != 1:
                continue
            u = a.get(6, b'')
            while len(u) >= 2:
                if u[0] == 0:
                    c = text(u[2:2 + u[1]])
                    if c.startswith('nimbus '):
                        nft = c[7:]
                    break
                u = u[2 + u[1]:]
    finally:
        nf.close()
    return {'links': links, 'addrs': [{'ifname': names.get(i, ''), 'addr_info': v} for i, v in addrs.items()], 'routes': routes, 'rules': rules, 'sysctl': sysctl, 'nft': nft}

for ns in json.loads(sys.argv[1]):
    try:
        enter_ns(ns)
        out = read()
        out['ns'] = ns
    except OSError as e:
        out = {'ns': ns, 'error': 'reading %s: %s' % (ns, e.strerror or e)}
    sys.stdout.write(json.dumps(out) + '\n')
leave_ns()
`;

interface Read {
  ns: string;
  error?: string;
  links: unknown[];
  addrs: unknown[];
  routes: unknown[];
  rules: unknown[];
  sysctl: string;
  nft: string;
}

/** What each namespace holds (or why it could not be read), read by one process for all. */
export async function observeMany(names: string[], runner: Runner = run): Promise<Map<string, Observed | Error>> {
  const out = new Map<string, Observed | Error>();
  if (names.length === 0) return out;
  const r = await runner('python3', ['-c', READER, JSON.stringify(names)], { timeoutMs: 30_000 + names.length * 50 });
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as Read;
    if (o.error) out.set(o.ns, new Error(o.error));
    else
      out.set(
        o.ns,
        parseObserved([JSON.stringify(o.links), JSON.stringify(o.addrs), JSON.stringify(o.routes), JSON.stringify(o.rules), o.sysctl, o.nft].join(SEP)),
      );
  }
  for (const ns of names) {
    if (!out.has(ns)) out.set(ns, new Error(`observing ${ns} failed: ${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}`));
  }
  return out;
}
