/**
 * One HTTP exchange's access-log record: its timings and byte counts, and the line written
 * straight into the log's chunk as bytes (log-line.ts), the same JSON as formatRecord
 * (observe.ts) makes. The parts that do not change are Buffers made once: per connection
 * (client, listener, pool) and per member; the method and the path are copied from the
 * request's own bytes. One per session, reset for every exchange.
 */
import type { MemberRuntime, PoolRuntime } from './pool.js';
import type { RequestHead } from './http/parser.js';
import { ascii, put, putEscaped, putInt, putMillis, putSlice } from './log-line.js';
import { AccessLog, asciiJson } from './observe.js';

// The fixed parts of a line.
const TIME_OPEN = ascii('{"time":"');
const NO_MEMBER = ascii(',"member":null,"method":"');
const PATH_OPEN = ascii('","path":"');
const STATUS_OPEN = ascii('","status":');
const BYTES_IN = ascii(',"bytesIn":');
const BYTES_OUT = ascii(',"bytesOut":');
const DURATION = ascii(',"durationMs":');
const UPSTREAM = ascii(',"upstreamMs":');
const NULL = ascii('null');

export class HttpRecord {
  /** When the exchange began, the request went to the member, its first answer byte came (0: not yet); 0 while the log is off. */
  t0 = 0;
  tSent = 0;
  tFirst = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** The L7 policy that decided this exchange, or null. */
  policy: string | null = null;
  /** This connection's part of its lines, and the pool it was made for. */
  private head: Buffer | null = null;
  private headPool: PoolRuntime | null = null;

  constructor(
    private readonly clientAddr: string,
    private readonly listenerId: string,
    private readonly log: AccessLog,
  ) {}

  /** A new exchange whose request head is `headBytes` long. */
  begin(headBytes: number): void {
    this.t0 = this.log.enabled ? performance.now() : 0;
    this.tFirst = 0;
    this.bytesIn = headBytes;
    this.bytesOut = 0;
  }

  sent(): void {
    if (this.log.enabled) this.tSent = performance.now();
  }

  firstByte(): void {
    if (!this.tFirst && this.log.enabled) this.tFirst = performance.now();
  }

  /** Writes the exchange's line (when the log is on). */
  write(pool: PoolRuntime | null, m: MemberRuntime | null, req: RequestHead, status: number): void {
    const log = this.log;
    if (!log.enabled) return;
    const now = performance.now();
    if (this.head === null || this.headPool !== pool) {
      this.headPool = pool; // a reconfiguration may put another pool behind the listener
      this.head = ascii(`,"client":${asciiJson(this.clientAddr)},"listener":${asciiJson(this.listenerId)},"pool":${pool ? asciiJson(pool.id) : 'null'}`);
    }
    const head = this.head;
    const memberPart = m ? (m.logPart ??= ascii(`,"member":${asciiJson(m.id)},"method":"`)) : NO_MEMBER;
    const pathEnd = req.pathEnd;
    const buf = log.room(240 + head.length + memberPart.length + req.methodEnd + 2 * (pathEnd - req.targetStart));
    let at = put(buf, log.at, TIME_OPEN);
    at = put(buf, at, AccessLog.nowBytes());
    buf[at++] = 34;
    at = put(buf, at, head);
    at = put(buf, at, memberPart);
    at = putSlice(buf, at, req.buf, 0, req.methodEnd); // a token: nothing to escape
    at = put(buf, at, PATH_OPEN);
    at = putEscaped(buf, at, req.buf, req.targetStart, pathEnd);
    at = put(buf, at, STATUS_OPEN);
    at = putInt(buf, at, status);
    at = put(buf, at, BYTES_IN);
    at = putInt(buf, at, this.bytesIn);
    at = put(buf, at, BYTES_OUT);
    at = putInt(buf, at, this.bytesOut);
    at = put(buf, at, DURATION);
    at = putMillis(buf, at, now - this.t0);
    at = put(buf, at, UPSTREAM);
    if (this.tFirst) at = putMillis(buf, at, this.tFirst - this.tSent);
    else at = put(buf, at, NULL);
    if (this.policy !== null) at = put(buf, at, ascii(`,"policy":${asciiJson(this.policy)}`));
    buf[at++] = 125; // '}'
    log.end(at);
  }
}
