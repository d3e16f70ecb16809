/**
 * Member sockets that read with `onread` into a buffer of their own: no Buffer is made per
 * read and no stream machinery runs on the way back to the client (PERFORMANCE-NOTES.md
 * measures this at about +0.1 × HAProxy's rate).
 *
 * The price is that the bytes of a read are only valid until the next read on that socket.
 * Whatever is written on at once is safe; but when the receiving socket cannot take it all,
 * its write queue keeps a reference to those bytes. `relay` notices (the queue is not empty
 * after the write) and pins the buffer: the next read then goes to a fresh one, so no queued
 * byte is ever overwritten. Bytes kept past a read for any other reason must be copied.
 */
import { connect, type Socket } from 'node:net';

export const PIN = Symbol('nimbus.pin');

/** Bytes a member socket reads at once (HAProxy's default buffer size too). */
export const READ_BUFFER = 16 * 1024;

export type OwnBufferSocket = Socket & { [PIN]: boolean };

/**
 * Connects to host:port; every read calls onData(socket, buffer, n) with the bytes in
 * buffer[0, n). Backpressure goes through the socket's pause() and resume().
 */
export function connectWithOwnBuffer(host: string, port: number, onData: (s: OwnBufferSocket, buf: Buffer, n: number) => void): OwnBufferSocket {
  // The buffer generator first runs inside connect(), before `s` is assigned.
  let current: Buffer | null = null;
  let flags: { [PIN]: boolean } = { [PIN]: false };
  const s = connect({
    host,
    port,
    noDelay: true,
    onread: {
      buffer: () => {
        if (current === null || flags[PIN]) {
          current = Buffer.allocUnsafe(READ_BUFFER);
          flags[PIN] = false;
          return current;
        }
        return undefined as unknown as Buffer; // keeps the buffer
      },
      callback: (n: number, buf: Uint8Array) => {
        onData(s, buf as Buffer, n);
        return true;
      },
    },
  }) as OwnBufferSocket;
  s[PIN] = false;
  flags = s;
  return s;
}

/** Writes bytes read on `from` to `to`, pinning from's buffer if `to` queued them; write's result. */
export function relay(to: Socket, b: Buffer, from: OwnBufferSocket | null): boolean {
  const ok = to.write(b);
  if (from !== null && to.writableLength > 0) from[PIN] = true;
  return ok;
}
