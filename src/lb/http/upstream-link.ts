/**
 * A keep-alive connection to a member, reading into its own buffer (own-buffer.ts), with the
 * session that uses it now (null while idle in its pool). Listeners are attached once, for its
 * whole life, and dispatch to the owner: no listener churn per request.
 */
import type { Socket } from 'node:net';
import { OwnBufferConnection } from '../own-buffer.js';
import type { MemberRuntime } from '../pool.js';
import type { ListenerTimeouts } from '../config.js';

/** What a link reports to the session using it. */
export interface LinkOwner {
  readonly client: Socket;
  onUpstreamConnect(link: Link): void;
  onUpstreamData(link: Link, buf: Buffer, n: number): void;
  onUpstreamEnd(link: Link): void;
  onUpstreamError(link: Link, err: Error): void;
}

export class Link extends OwnBufferConnection {
  owner: LinkOwner | null = null;

  constructor(m: MemberRuntime, timeouts: Pick<ListenerTimeouts, 'memberConnect' | 'memberData'>) {
    super(m.host, m.port, (buf, n) => {
      if (this.owner !== null) this.owner.onUpstreamData(this, buf, n);
      else this.socket.destroy(); // an idle member connection must not speak
    });
    const s = this.socket;
    s.setTimeout(timeouts.memberConnect);
    s.on('connect', () => {
      s.setTimeout(timeouts.memberData);
      this.owner?.onUpstreamConnect(this);
    });
    s.on('end', () => {
      if (this.owner) this.owner.onUpstreamEnd(this);
      else s.destroy();
    });
    s.on('error', (e: Error) => {
      if (this.owner) this.owner.onUpstreamError(this, e);
      else s.destroy();
    });
    s.on('close', () => {
      m.forget(this);
      this.owner?.onUpstreamError(this, new Error('closed'));
    });
    s.on('drain', () => this.owner?.client.resume());
    s.on('timeout', () => s.destroy(new Error(s.connecting ? 'connect timeout' : 'response timeout')));
  }
}
