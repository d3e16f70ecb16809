/**
 * The last step of opening servers' listening sockets (workloads/socket-opener.ts): a small
 * program, run as root, that inherits sockets already opened inside servers' network namespaces
 * (as descriptors) and sends each one to the daemon on the IPC channel, the public way Node
 * hands a listening socket to another process. Then it exits.
 *
 *   node hand-over.js '[{"id":"ecs-...","fd":5,"ino":4026532000}, {"id":"ecs-...","error":"..."}]'
 */
import { createServer } from 'node:net';
import type { Handed } from './app-host-ipc.js';

const list = JSON.parse(process.argv[2] ?? '[]') as ({ id: string; fd: number; ino: number } | { id: string; error: string })[];
let left = list.length;
const sent = () => {
  if (--left === 0) process.disconnect();
};
if (left === 0) process.disconnect();
for (const e of list) {
  if ('error' in e) {
    process.send!({ id: e.id, error: e.error } satisfies Handed, undefined, undefined, sent);
    continue;
  }
  const server = createServer({ pauseOnConnect: true });
  // A connection that comes while the socket is ours (a new app host's socket listens beside
  // the old one's) goes on with it, unread, to be served by the app host.
  server.on('connection', (s) => {
    s.on('error', () => undefined);
    left++;
    process.send!({ id: e.id, conn: true } satisfies Handed, s, undefined, sent);
  });
  server.on('error', (err) => process.send!({ id: e.id, error: err.message } satisfies Handed, undefined, undefined, sent));
  server.listen({ fd: e.fd }, () => process.send!({ id: e.id, ino: e.ino } satisfies Handed, server, undefined, () => (server.close(), sent())));
}
