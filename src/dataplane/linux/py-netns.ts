/**
 * The Python every program that walks network namespaces in one process starts with (the
 * batched reader, observe-many.ts, and the socket opener, workloads/socket-opener.ts): Node
 * cannot enter a namespace, Python can through libc's setns. `enter_ns(name)` enters
 * /run/netns/<name> and returns its inode (the namespace's identity); `leave_ns()` returns to
 * the namespace the program started in.
 */
export const PY_NETNS = String.raw`
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
def _setns(fd):
    if _libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
_home = os.open('/proc/self/ns/net', os.O_RDONLY)
def enter_ns(name):
    fd = os.open('/run/netns/' + name, os.O_RDONLY)
    try:
        ino = os.fstat(fd).st_ino
        _setns(fd)
        return ino
    finally:
        os.close(fd)
def leave_ns():
    _setns(_home)
`;
