/**
 * Offloads off on many veth ends in one process (OVN-NOTES pitfall 1: the userspace datapath
 * reads veths through packet sockets, and a packet left with a partial checksum breaks TCP).
 * `ethtool -K DEV tx off sg off tso off gso off gro off` per end is two processes per server
 * (one per namespace); this enters each namespace through setns and sends the same five
 * requests through the SIOCETHTOOL ioctl (ethtool's legacy set commands, struct ethtool_value).
 * Prints one JSON line per end: its error, if one failed.
 */
import { PY_NETNS } from '../linux/py-netns.js';

export const OFFLOADS_PROGRAM =
  PY_NETNS +
  String.raw`
import fcntl, json, socket, struct, sys
SIOCETHTOOL = 0x8946
# ETHTOOL_STXCSUM, ETHTOOL_SSG, ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO
COMMANDS = (0x17, 0x19, 0x1f, 0x24, 0x2c)
for ns, dev in json.loads(sys.argv[1]):
    try:
        enter_ns(ns)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for cmd in COMMANDS:
                value = ctypes.create_string_buffer(struct.pack('II', cmd, 0))
                ifreq = struct.pack('16sP', dev.encode(), ctypes.addressof(value))
                fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifreq)
        finally:
            s.close()
            leave_ns()
        print(json.dumps({'ns': ns, 'dev': dev}), flush=True)
    except OSError as e:
        print(json.dumps({'ns': ns, 'dev': dev, 'error': 'offloads of %s in %s: %s' % (dev, ns, e.strerror or e)}), flush=True)
`;

/**
 * One gratuitous ARP from each endpoint just plugged (its `eth0`), once its chassis has bound
 * the port: a neighbour that cached another MAC for the same address (a server deleted and its
 * address taken by a new one, the lowest free address being the default) updates its entry at
 * once instead of sending to the old MAC until the entry expires, as a cloud's fabric would
 * answer. Prints one JSON line per endpoint that failed.
 */
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
