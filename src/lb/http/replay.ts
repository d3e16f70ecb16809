/**
 * The request bytes kept while a retry may still need them: a member that refuses the
 * connection, or a kept connection that turns out stale, gets the request again on another
 * connection. Up to REPLAY_LIMIT bytes; past that a live connection just streams on, and a
 * connecting one makes the client wait.
 */
import type { Socket } from 'node:net';

const REPLAY_LIMIT = 1024 * 1024;

export class Replay {
  private parts: Buffer[] | null = null;
  private bytes = 0;

  /** Whether the bytes are still kept (a retry is still possible). */
  get kept(): boolean {
    return this.parts !== null;
  }

  /** A new request, starting with its head. */
  start(head: Buffer): void {
    this.parts = [head];
    this.bytes = head.length;
  }

  /** Keeps a part of the body; false when the client must wait (over the limit, not connected yet). */
  add(part: Buffer, connected: boolean): boolean {
    if (this.parts === null) return true;
    this.parts.push(part);
    this.bytes += part.length;
    if (this.bytes <= REPLAY_LIMIT) return true;
    if (connected) this.parts = null;
    return connected;
  }

  /** Writes everything kept to `s`. */
  sendTo(s: Socket): void {
    const parts = this.parts!;
    for (let i = 0; i < parts.length; i++) s.write(parts[i]);
  }

  drop(): void {
    this.parts = null;
  }
}
