/**
 * What the engine tells about itself: one JSON access-log line per request (or per TCP
 * connection), written through a buffered stream, and counters per listener and member
 * that the daemon renders as Prometheus metrics.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

export interface AccessRecord {
  time: string;
  client: string;
  listener: string;
  pool: string | null;
  member: string | null;
  method?: string;
  path?: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  /** From the first byte of the request to the last of the response. */
  durationMs: number;
  /** From sending the request to the first byte of the response. */
  upstreamMs: number | null;
}

export class AccessLog {
  private readonly stream: WriteStream | null;
  private lines: string[] = [];
  private scheduled = false;
  /** Callers skip building records when nothing is logged. */
  readonly enabled: boolean;

  constructor(file: string | null) {
    this.stream = file ? createWriteStream(file, { flags: 'a', highWaterMark: 256 * 1024 }) : null;
    this.stream?.on('error', () => undefined);
    this.enabled = this.stream !== null;
  }

  /** Lines are written together once per turn of the event loop: one write call, not one per request. */
  write(r: AccessRecord): void {
    if (!this.stream) return;
    this.lines.push(JSON.stringify(r));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.lines.length === 0 || !this.stream) return;
    this.stream.write(this.lines.join('\n') + '\n');
    this.lines = [];
  }

  close(): Promise<void> {
    this.flush();
    return new Promise((resolve) => (this.stream ? this.stream.end(resolve) : resolve()));
  }
}

export interface ListenerCounters {
  connections: number;
  active: number;
  requests: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
}

export interface MemberCounters {
  requests: number;
  connectFailures: number;
  active: number;
  up: number;
}

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export class Counters {
  readonly listeners = new Map<string, ListenerCounters>();
  readonly members = new Map<string, MemberCounters>();

  listener(id: string): ListenerCounters {
    let c = this.listeners.get(id);
    if (!c) this.listeners.set(id, (c = { connections: 0, active: 0, requests: {}, bytesIn: 0, bytesOut: 0 }));
    return c;
  }

  member(id: string): MemberCounters {
    let c = this.members.get(id);
    if (!c) this.members.set(id, (c = { requests: 0, connectFailures: 0, active: 0, up: 1 }));
    return c;
  }

  response(listener: ListenerCounters, status: number): void {
    const cls = CLASSES[Math.floor(status / 100)] ?? 'other';
    listener.requests[cls] = (listener.requests[cls] ?? 0) + 1;
  }

  snapshot(): { listeners: Record<string, ListenerCounters>; members: Record<string, MemberCounters> } {
    return { listeners: Object.fromEntries(this.listeners), members: Object.fromEntries(this.members) };
  }
}
