/**
 * Finds where a chunked body ends while its bytes pass through unchanged, and refuses what
 * is not valid chunked coding or that a member could read another way: a size that is not hex
 * or over 8 hex digits (a member reading 32 bits would see another size: `100000005` would be
 * 5), whitespace after a size (`5 `, which members read two ways), a chunk extension over
 * MAX_EXTENSION bytes or with a control byte, a missing CRLF, bare LF, and trailers that are not
 * what the head parser accepts in headers (obs-fold, control bytes) or that would change the
 * message's framing or target (Content-Length, Transfer-Encoding, Host). State survives
 * across reads, so a body may arrive in any number of pieces.
 */
import { HttpError, TCHAR } from './head.js';

/** 8 hex digits: a chunk up to 4 GB - 1, which every member reads the same way. */
const MAX_SIZE_DIGITS = 8;
/** A chunk's extensions, in bytes: room for any real use, and no 20 kB line a member must hold. */
export const MAX_EXTENSION = 4096;
const FORBIDDEN_TRAILERS = new Set(['content-length', 'transfer-encoding', 'host']);

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
  /** Bytes of the current chunk's extensions. */
  private ext = 0;
  /** The trailer field name read so far (lower case, up to its first 20 bytes). */
  private readonly name = Buffer.alloc(20);
  private nameLen = 0;
  private inName = false;

  get done(): boolean {
    return this.s === S.Done;
  }

  /** One byte of a trailer line: the rules of a header line, and no framing or Host field. */
  private trailerByte(c: number): void {
    if ((c < 32 && c !== 9) || c === 127) throw new HttpError(400, 'control byte in trailer');
    if (!this.inName) return;
    if (c === 58) {
      this.inName = false;
      const name = this.name.toString('latin1', 0, Math.min(this.nameLen, this.name.length));
      if (this.nameLen <= this.name.length && FORBIDDEN_TRAILERS.has(name)) throw new HttpError(400, `trailer ${name} is not allowed`);
      if (this.nameLen === 0) throw new HttpError(400, 'trailer without a name');
      return;
    }
    if (!TCHAR[c]) throw new HttpError(400, 'invalid trailer name');
    if (this.nameLen < this.name.length) this.name[this.nameLen] = c | 0x20;
    this.nameLen++;
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
            if (++this.digits > MAX_SIZE_DIGITS) throw new HttpError(400, 'chunk size over 8 hex digits');
            this.size = this.size * 16 + v;
          } else if (this.digits === 0) {
            throw new HttpError(400, 'invalid chunk size');
          } else if (c === 13) {
            this.s = S.SizeLf;
          } else if (c === 59) {
            this.s = S.Ext;
            this.ext = 0;
          } else if (c === 32 || c === 9) {
            // RFC 9112 allows it before ';' (BWS), but members read it two ways (Node refuses it): refused.
            throw new HttpError(400, 'whitespace after chunk size');
          } else {
            throw new HttpError(400, 'invalid chunk size');
          }
          break;
        }
        case S.Ext: {
          const c = buf[i];
          if (++this.ext > MAX_EXTENSION) throw new HttpError(400, `chunk extension over ${MAX_EXTENSION} bytes`);
          if (c === 13) this.s = S.SizeLf;
          else if (c === 10) throw new HttpError(400, 'bare LF in chunk extension');
          else if ((c < 32 && c !== 9) || c === 127) throw new HttpError(400, 'control byte in chunk extension');
          break;
        }
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
        case S.LineStart: {
          const c = buf[i];
          if (c === 13) this.s = S.EndLf;
          else if (c === 10) throw new HttpError(400, 'bare LF in trailer');
          else if (c === 32 || c === 9) throw new HttpError(400, 'obsolete line folding in trailer');
          else {
            this.s = S.Trailer;
            this.nameLen = 0;
            this.inName = true;
            this.trailerByte(c);
          }
          break;
        }
        case S.Trailer: {
          const c = buf[i];
          if (c === 13) this.s = S.TrailerLf;
          else if (c === 10) throw new HttpError(400, 'bare LF in trailer');
          else this.trailerByte(c);
          break;
        }
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
