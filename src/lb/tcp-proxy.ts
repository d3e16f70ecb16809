/**
 * The TCP listener's path: choose a member (source IP is the client key), connect, retrying
 * on another member when one refuses, then relay both ways with backpressure: the member
 * socket reads into its own buffer (own-buffer.ts), the client socket through 'data'
 * events; each side's 'drain' resumes the other, and an end is passed on. One access-log
 * line per connection when it closes.
 *
 * Timeouts as HAProxy's mode tcp: a client or member side with no traffic either way for
 * its timeout (client data, member data: the pool's own over the listener's) closes the
 * connection; with an inspect delay, the member is chosen once the client has sent its first
 * bytes or the delay has passed (they wait in the client socket meanwhile).
 */
import type { Socket } from 'node:net';
import { OwnBufferConnection, relay } from './own-buffer.js';
import type { MemberRuntime } from './pool.js';
import type { ListenerContext } from './listener-context.js';
import { AccessLog } from './observe.js';
import { withPool } from './config.js';

export function tcpSession(client: Socket, ctx: ListenerContext): void {
  const clientIp = client.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  const lc = ctx.counters.listener(ctx.id);
  lc.connections++;
  lc.active++;
  const t0 = performance.now();
  const pool = ctx.pool();
  const timeouts = withPool(ctx.timeouts(), pool);
  const tried: MemberRuntime[] = [];
  let member: MemberRuntime | null = null;
  let upstream: Socket | null = null;
  let done = false;
  client.pause();
  client.on('error', () => finish());
  client.on('close', () => finish());

  /** The member is gone: the connection closes now (finish runs once). */
  const gone = { memberGone: () => finish() };
  const finish = () => {
    if (done) return;
    done = true;
    lc.active--;
    lc.bytesIn += client.bytesRead;
    lc.bytesOut += client.bytesWritten;
    if (member) {
      member.inFlight.delete(gone);
      member.active--;
      ctx.counters.member(member.id).active--;
    }
    ctx.log.write({
      time: AccessLog.now(),
      client: `${clientIp}:${client.remotePort}`,
      listener: ctx.id,
      pool: pool?.id ?? null,
      member: member?.id ?? null,
      status: null,
      result: member && upstream ? 'closed' : 'no member',
      bytesIn: client.bytesRead,
      bytesOut: client.bytesWritten,
      durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
      upstreamMs: null,
    });
    ctx.counters.response(lc, member && upstream ? 200 : 503);
    upstream?.destroy();
    client.destroy();
  };

  const attempt = () => {
    if (done) return;
    const choice = pool?.choose(clientIp, undefined, tried.length ? tried : null);
    if (!choice) return finish();
    const m = choice.member;
    tried.push(m);
    member = m;
    m.inFlight.add(gone);
    m.active++;
    ctx.counters.member(m.id).active++;
    // Half-open both ways: each side's FIN is passed on, and the connection closes when both have ended.
    const link: OwnBufferConnection = new OwnBufferConnection(
      m.host,
      m.port,
      (buf, n) => {
        if (!relay(client, n === buf.length ? buf : buf.subarray(0, n), link)) s.pause();
      },
      true,
    );
    const s = link.socket;
    s.setTimeout(timeouts.memberConnect, () => s.destroy(new Error('connect timeout')));
    s.once('error', () => {
      if (upstream === s) return finish();
      ctx.counters.member(m.id).connectFailures++;
      m.inFlight.delete(gone);
      m.active--;
      ctx.counters.member(m.id).active--;
      member = null;
      attempt();
    });
    s.once('connect', () => {
      // Idle in both directions for its timeout: the connection is over.
      s.setTimeout(timeouts.memberData, () => finish());
      client.setTimeout(timeouts.clientData, () => finish());
      upstream = s;
      ctx.counters.member(m.id).requests++;
      s.on('error', () => finish());
      s.on('close', () => finish());
      s.on('end', () => client.end());
      s.on('drain', () => client.resume());
      client.on('data', (d: Buffer) => {
        if (!s.write(d)) client.pause();
      });
      client.on('end', () => s.end());
      client.on('drain', () => s.resume());
      client.resume();
    });
  };
  const inspect = timeouts.tcpInspect ?? 0;
  if (inspect <= 0) return attempt();
  // The first bytes (or the delay) decide when: they stay in the socket's buffer until then.
  const timer = setTimeout(go, inspect);
  client.once('readable', go);
  function go() {
    clearTimeout(timer);
    client.off('readable', go);
    attempt();
  }
}
