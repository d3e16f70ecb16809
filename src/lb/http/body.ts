/**
 * Where a message body ends while its bytes stream through: a Content-Length count, chunked
 * coding (ChunkedScanner), or until the connection closes. One per direction of a session,
 * reset for every exchange (no allocation per request).
 */
import { ChunkedScanner } from './chunked.js';

export const enum Framing {
  None,
  Length,
  Chunked,
  UntilClose,
}

export class BodyFramer {
  framing = Framing.None;
  /** The body's last byte has passed. */
  done = true;
  private left = 0;
  private scanner: ChunkedScanner | null = null;

  /** A new body: `length` bytes (Framing.Length), chunked, until close, or none. */
  reset(framing: Framing, length = 0): void {
    this.framing = framing;
    this.left = length;
    if (framing === Framing.Chunked) (this.scanner ??= new ChunkedScanner()).reset();
    this.done = framing === Framing.None || (framing === Framing.Length && length === 0);
  }

  /**
   * The end of this body's bytes within buf[from, to): `to` while it goes on, less when it ends
   * there (what follows belongs to the next message). Throws HttpError on bad chunked coding.
   */
  scan(buf: Buffer, from: number, to: number): number {
    switch (this.framing) {
      case Framing.Chunked: {
        const e = this.scanner!.scan(buf, from, to);
        if (e < 0) return to;
        this.done = true;
        return e;
      }
      case Framing.Length: {
        const k = Math.min(this.left, to - from);
        this.left -= k;
        if (this.left === 0) this.done = true;
        return from + k;
      }
      case Framing.UntilClose:
        return to;
      default:
        return from;
    }
  }
}

/** How a response's body is framed (RFC 9112 §6.3): none for HEAD, 1xx, 204 and 304; then chunked, length, or until close. */
export function frameResponse(f: BodyFramer, isHead: boolean, status: number, chunked: boolean, contentLength: number): void {
  if (isHead || status === 204 || status === 304 || status < 200) f.reset(Framing.None);
  else if (chunked) f.reset(Framing.Chunked);
  else if (contentLength < 0) f.reset(Framing.UntilClose);
  else f.reset(Framing.Length, contentLength);
}
