/**
 * The frames of an attached exec (`nimbus exec`, `nimbus ssh`) after the HTTP upgrade: one byte
 * of kind, four of length (big-endian), then the payload. Stdin and resizes go to the daemon;
 * stdout, stderr and the exit code come back. Shared by the API and the client.
 */

export const enum Frame {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  /** Payload: the exit code as decimal text. */
  Exit = 3,
  /** No more stdin. */
  StdinEnd = 4,
  /** Payload: "ROWS COLS". */
  Resize = 5,
}

export const EXEC_PROTOCOL = 'nimbus-exec';
const HEADER = 5;
/** Frames larger than this are refused (a peer that sends them is not ours). */
export const MAX_FRAME = 1 << 20;

export function frame(kind: Frame, payload: Buffer | string = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out[0] = kind;
  out.writeUInt32BE(body.length, 1);
  body.copy(out, HEADER);
  return out;
}

/** Reassembles frames from the chunks of a stream. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (kind: Frame, payload: Buffer) => void) {}

  /** Feeds bytes; throws on a frame over MAX_FRAME. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= HEADER) {
      const n = this.pending.readUInt32BE(1);
      if (n > MAX_FRAME) throw new Error(`exec frame of ${n} bytes is over the limit`);
      if (this.pending.length < HEADER + n) return;
      const kind = this.pending[0] as Frame;
      const payload = this.pending.subarray(HEADER, HEADER + n);
      this.pending = this.pending.subarray(HEADER + n);
      this.onFrame(kind, payload);
    }
  }
}
