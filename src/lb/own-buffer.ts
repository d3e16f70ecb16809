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

/** Bytes a member socket reads at once (HAProxy's default buffer size too). */
export const READ_BUFFER = 16 * 1024;

/**
 * A connection to a member whose socket reads into a buffer of its own. Every read calls
 * onData(buffer, n) with the bytes in buffer[0, n). Backpressure goes through the socket's
 * pause() and resume(). (State lives here, not on the Socket, so that the hot path's property
 * loads stay monomorphic.)
 */
export class OwnBufferConnection {
  readonly socket: Socket;
  /** The bytes of the last read are still referenced: read next into a fresh buffer. */
  pinned = false;
  private current: Buffer | null = null;

  constructor(host: string, port: number, onData: (buf: Buffer, n: number) => void, allowHalfOpen = false) {
    this.socket = connect({
      host,
      port,
      noDelay: true,
      allowHalfOpen,
      onread: {
        // Runs once inside connect() for the first buffer, then after every read.
        buffer: () => {
          if (this.current === null || this.pinned) {
            this.current = Buffer.allocUnsafe(READ_BUFFER);
            this.pinned = false;
            return this.current;
          }
          return undefined as unknown as Buffer; // keeps the buffer
        },
        callback: (n: number, buf: Uint8Array) => {
          onData(buf as Buffer, n);
          return true;
        },
      },
    });
  }
}

/** Writes bytes read on `from` to `to`, pinning from's buffer if `to` queued them; write's result. */
export function relay(to: Socket, b: Buffer, from: OwnBufferConnection | null): boolean {
  const ok = to.write(b);
  if (from !== null && to.writableLength > 0) from.pinned = true;
  return ok;
}
