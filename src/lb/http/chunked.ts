/**
 * Finds where a chunked body ends while its bytes pass through unchanged, and refuses what
 * is not valid chunked coding (a size that is not hex or too long, a missing CRLF, bare
 * LF). State survives across reads, so a body may arrive in any number of pieces.
 */
import { HttpError } from './head.js';

const enum S {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  LineStart,
  Trailer,
  TrailerLf,
  EndLf,
  Done,
}

export class ChunkedScanner {
  private s = S.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;

  get done(): boolean {
    return this.s === S.Done;
  }

  /** Ready for a new body. */
  reset(): void {
    this.s = S.Size;
    this.size = 0;
    this.digits = 0;
    this.remaining = 0;
  }

  /** Scans buf[from, to); returns the index just past the body's end, or -1 if it goes on. */
  scan(buf: Buffer, from: number, to: number): number {
    let i = from;
    while (i < to) {
      switch (this.s) {
        case S.Data: {
          const n = Math.min(this.remaining, to - i);
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.s = S.DataCr;
          continue;
        }
        case S.Size: {
          const c = buf[i];
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.digits > 12) throw new HttpError(400, 'chunk size too long');
            this.size = this.size * 16 + v;
          } else if (this.digits === 0) {
            throw new HttpError(400, 'invalid chunk size');
          } else if (c === 13) {
            this.s = S.SizeLf;
          } else if (c === 59 || c === 32 || c === 9) {
            this.s = S.Ext;
          } else {
            throw new HttpError(400, 'invalid chunk size');
          }
          break;
        }
        case S.Ext:
          if (buf[i] === 13) this.s = S.SizeLf;
          else if (buf[i] === 10) throw new HttpError(400, 'bare LF in chunk extension');
          break;
        case S.SizeLf:
          if (buf[i] !== 10) throw new HttpError(400, 'missing LF after chunk size');
          if (this.size === 0) this.s = S.LineStart;
          else {
            this.remaining = this.size;
            this.s = S.Data;
          }
          this.size = 0;
          this.digits = 0;
          break;
        case S.DataCr:
          if (buf[i] !== 13) throw new HttpError(400, 'missing CRLF after chunk data');
          this.s = S.DataLf;
          break;
        case S.DataLf:
          if (buf[i] !== 10) throw new HttpError(400, 'missing CRLF after chunk data');
          this.s = S.Size;
          break;
        case S.LineStart:
          if (buf[i] === 13) this.s = S.EndLf;
          else if (buf[i] === 10) throw new HttpError(400, 'bare LF in trailer');
          else this.s = S.Trailer;
          break;
        case S.Trailer:
          if (buf[i] === 13) this.s = S.TrailerLf;
          else if (buf[i] === 10) throw new HttpError(400, 'bare LF in trailer');
          break;
        case S.TrailerLf:
          if (buf[i] !== 10) throw new HttpError(400, 'bare CR in trailer');
          this.s = S.LineStart;
          break;
        case S.EndLf:
          if (buf[i] !== 10) throw new HttpError(400, 'bare CR at end of chunked body');
          this.s = S.Done;
          return i + 1;
        case S.Done:
          return i;
      }
      i++;
    }
    return -1;
  }
}
