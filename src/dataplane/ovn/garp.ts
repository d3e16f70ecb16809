/**
 * One gratuitous ARP from each endpoint just plugged (its `eth0`), once its chassis has bound
 * the port: a neighbour that cached another MAC for the same address (a server deleted and its
 * address taken by a new one, the lowest free address being the default) updates its entry at
 * once instead of sending to the old MAC until the entry expires, as a cloud's fabric would
 * answer. Prints one JSON line per endpoint that failed.
 */
import { PY_NETNS } from '../linux/py-netns.js';

export const GARP_PROGRAM =
  PY_NETNS +
  String.raw`
import json, socket, struct, sys
for ns, mac, ip in json.loads(sys.argv[1]):
    try:
        enter_ns(ns)
        try:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            try:
                s.bind(('eth0', 0x0806))
                hw = bytes.fromhex(mac.replace(':', ''))
                addr = socket.inet_aton(ip)
                frame = b'\xff' * 6 + hw + struct.pack('!H', 0x0806) + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + hw + addr + b'\x00' * 6 + addr
                s.send(frame)
            finally:
                s.close()
        finally:
            leave_ns()
    except OSError as e:
        print(json.dumps({'ns': ns, 'error': 'gratuitous ARP in %s: %s' % (ns, e.strerror or e)}), flush=True)
`;
