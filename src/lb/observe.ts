/**
 * What the engine tells about itself: one JSON access-log line per request (or per TCP
 * connection), written through a buffered stream, and counters per listener and member
 * that the daemon renders as Prometheus metrics.
 */
import type { AccessRecord, ListenerCounters, MemberCounters } from '../core/model/index.js';
import { closeSync, createWriteStream, existsSync, fstatSync, openSync, readSync, renameSync, statSync, type WriteStream } from 'node:fs';

/** The time as ISO 8601, made once per millisecond however many requests end in it. */
let isoMs = -1;
let iso = '';
let isoBytes = Buffer.alloc(0);
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    iso = new Date(now).toISOString();
    isoBytes = Buffer.from(iso, 'latin1');
  }
  return iso;
}

const str = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

/** A string as JSON in ASCII alone (anything else escaped as \\uXXXX), for lines written as latin1. */
export function asciiJson(v: string): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One record as one JSON line, the keys in AccessRecord's order, written out by hand (JSON.stringify of the object costs more). */
export function formatRecord(r: AccessRecord): string {
  let line = `{"time":"${r.time}","client":${str(r.client)},"listener":${str(r.listener)},"pool":${str(r.pool)},"member":${str(r.member)}`;
  if (r.method !== undefined) line += `,"method":${str(r.method)}`;
  if (r.path !== undefined) line += `,"path":${str(r.path)}`;
  line += `,"status":${r.status === null ? 'null' : r.status}`;
  if (r.result !== undefined) line += `,"result":${str(r.result)}`;
  const policy = r.policy !== undefined ? `,"policy":${str(r.policy)}` : '';
  return `${line},"bytesIn":${r.bytesIn},"bytesOut":${r.bytesOut},"durationMs":${r.durationMs},"upstreamMs":${r.upstreamMs === null ? 'null' : r.upstreamMs}${policy}}`;
}

/** Lines wait at most this long, or until the chunk is full, before one write. */
const FLUSH_MS = 50;
const CHUNK_BYTES = 128 * 1024;
/** A log file is moved to `<file>.1` (replacing the one before) when it would grow past this. */
export const ROTATE_BYTES = 64 * 1024 * 1024;
/** Where a log file goes when it rotates. */
const rotated = (file: string) => `${file}.1`;

export class AccessLog {
  private stream: WriteStream | null;
  private size = 0;
  /**
   * Lines are encoded into a chunk at once, so the strings die young (kept as strings until
   * the flush, they outlived the young generation and made old-generation collections).
   */
  private chunk: Buffer | null = null;
  private used = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Callers skip building records when nothing is logged. */
  readonly enabled: boolean;

  constructor(
    private readonly file: string | null,
    private readonly rotateBytes = ROTATE_BYTES,
  ) {
    this.stream = file ? this.open(file) : null;
    this.enabled = this.stream !== null;
  }

  private open(file: string): WriteStream {
    try {
      this.size = statSync(file).size;
    } catch {
      this.size = 0;
    }
    const stream = createWriteStream(file, { flags: 'a', highWaterMark: 256 * 1024 });
    stream.on('error', () => undefined);
    return stream;
  }

  /**
   * Keeps the log bounded: the file becomes `<file>.1` and a new one starts. Bytes the old
   * stream still holds go to the renamed file (the descriptor follows it).
   */
  private rotate(): void {
    const file = this.file!;
    this.stream!.end();
    try {
      renameSync(file, rotated(file));
    } catch {
      // gone already: start again all the same
    }
    this.stream = this.open(file);
  }

  /** The time for a record, now. */
  static now(): string {
    return isoNow();
  }

  /** The time for a record, now, as bytes (the same Buffer within a millisecond: copy it). */
  static nowBytes(): Buffer {
    isoNow();
    return isoBytes;
  }

  /**
   * Room for a line of at most `max` bytes, for a caller that writes bytes itself: returns
   * the chunk to write into from `used`; then end(at) with where the line ends.
   */
  room(max: number): Buffer {
    if (this.chunk === null || this.used + max + 1 > this.chunk.length) {
      this.flush();
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, max + 1));
    }
    return this.chunk;
  }

  /** Where the next line starts in the chunk room() gave. */
  get at(): number {
    return this.used;
  }

  /** Ends the line written into room()'s chunk at `at`. */
  end(at: number): void {
    this.chunk![at] = 10;
    this.used = at + 1;
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** One write call per FLUSH_MS or full chunk, not one per request: a line reaches the file within 50 ms. */
  write(r: AccessRecord): void {
    this.writeLine(formatRecord(r));
  }

  /** A line already formatted (formatRecord). */
  writeLine(line: string): void {
    if (!this.stream) return;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.chunk === null || this.used + line.length * 3 + 1 > this.chunk.length) {
      this.flush();
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, line.length * 3 + 1));
    }
    this.used += this.chunk.write(line, this.used, 'utf8');
    this.chunk[this.used++] = 10;
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.chunk === null || this.used === 0 || !this.stream) return;
    if (this.size > 0 && this.size + this.used > this.rotateBytes) this.rotate();
    // The stream keeps the bytes until written: the next line goes to a new chunk.
    this.stream!.write(this.chunk.subarray(0, this.used));
    this.size += this.used;
    this.chunk = null;
    this.used = 0;
  }

  close(): Promise<void> {
    this.flush();
    return new Promise((resolve) => (this.stream ? this.stream.end(resolve) : resolve()));
  }
}

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export class Counters {
  readonly listeners = new Map<string, ListenerCounters>();
  readonly members = new Map<string, MemberCounters>();

  listener(id: string): ListenerCounters {
    let c = this.listeners.get(id);
    if (!c) this.listeners.set(id, (c = { connections: 0, refused: 0, active: 0, requests: {}, bytesIn: 0, bytesOut: 0 }));
    return c;
  }

  member(id: string): MemberCounters {
    let c = this.members.get(id);
    if (!c) this.members.set(id, (c = { requests: 0, connectFailures: 0, active: 0, up: 1, redispatched: 0 }));
    return c;
  }

  /** A request an L7 policy decided. */
  policy(listener: ListenerCounters, policyId: string): void {
    const p = (listener.policies ??= {});
    p[policyId] = (p[policyId] ?? 0) + 1;
  }

  response(listener: ListenerCounters, status: number): void {
    const cls = CLASSES[Math.floor(status / 100)] ?? 'other';
    listener.requests[cls] = (listener.requests[cls] ?? 0) + 1;
  }

  snapshot(): { listeners: Record<string, ListenerCounters>; members: Record<string, MemberCounters> } {
    return { listeners: Object.fromEntries(this.listeners), members: Object.fromEntries(this.members) };
  }
}

/** The last `n` records of an access log: its file and, before its last rotation, the rotated one. */
export function readAccessLog(file: string, n: number): AccessRecord[] {
  const one = (f: string) => {
    const recent = tailJsonLines(f, n);
    return ((recent.length < n ? [...tailJsonLines(rotated(f), n - recent.length), ...recent] : recent) as AccessRecord[]).map(fromHaproxy);
  };
  // A load balancer with several workers: one file each (workerLogFile), merged by time.
  const files = [file, ...Array.from({ length: MAX_WORKERS }, (_, i) => workerLogFile(file, i)).filter((f) => existsSync(f))];
  if (files.length === 1) return one(file);
  return files
    .flatMap(one)
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
    .slice(-n);
}

/**
 * A line HAProxy wrote (the haproxy engine's log-format, haproxy/render.ts) in the built-in
 * engine's terms: no member is `<NOSRV>` there (a TCP connection then ended for want of one),
 * and a time not measured is -1.
 */
export function fromHaproxy(r: AccessRecord): AccessRecord {
  const noPolicy = r.policy === '' || r.policy === '-'; // HAProxy's log-format writes an absent variable as '-'
  if (r.member !== '<NOSRV>' && r.upstreamMs !== -1 && r.status !== -1 && !noPolicy) return r;
  const out: AccessRecord = { ...r, member: r.member === '<NOSRV>' ? null : r.member, upstreamMs: r.upstreamMs === -1 ? null : r.upstreamMs };
  if (noPolicy) delete out.policy;
  if (r.status === -1) out.status = null;
  if (r.result === 'closed' && out.member === null) out.result = 'no member';
  return out;
}

/** The most workers a load balancer may have. */
export const MAX_WORKERS = 16;

/** The access log of worker `slot` of a load balancer with several: each writes its own, so none rotates another's. */
export function workerLogFile(file: string, slot: number): string {
  return `${file}.w${slot}`;
}

/** The last `n` JSON lines of a file, read from its end (a log may be large); lines that do not parse are skipped. */
export function tailJsonLines(file: string, n: number): unknown[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    let want = Math.min(size, n * 512 + 1);
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const got = readSync(fd, buf, 0, want, size - want);
      let lines = buf.toString('utf8', 0, got).split('\n');
      lines.pop(); // after the last newline: nothing, or a line still being written
      if (want < size) lines = lines.slice(1); // the first is cut
      lines = lines.filter(Boolean);
      if (lines.length >= n || want === size) {
        const out: unknown[] = [];
        for (const l of lines.slice(-n)) {
          try {
            out.push(JSON.parse(l));
          } catch {
            // a line being written, or not ours
          }
        }
        return out;
      }
      want = Math.min(size, want * 4);
    }
  } finally {
    closeSync(fd);
  }
}
