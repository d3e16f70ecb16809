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
