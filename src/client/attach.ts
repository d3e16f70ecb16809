/**
 * The client side of an attached exec (api/attach-route.ts): an HTTP upgrade to the daemon,
 * then frames. Resolves with the connection once the daemon has started the command; a
 * refusal arrives as an ApiError with the catalogue's code.
 */
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { EXEC_PROTOCOL } from '../core/exec-frames.js';
import { ApiError } from './client.js';

export interface AttachRequest {
  url: string;
  project?: string;
  token?: string;
  server: string;
  argv: string[];
  tty: boolean;
  rows?: number;
  cols?: number;
  term?: string;
  timeoutS?: number;
}

export function attach(r: AttachRequest): Promise<Socket> {
  const q = new URLSearchParams();
  for (const a of r.argv) q.append('argv', a);
  if (r.tty) q.set('tty', '1');
  if (r.rows) q.set('rows', String(r.rows));
  if (r.cols) q.set('cols', String(r.cols));
  if (r.term) q.set('term', r.term);
  if (r.timeoutS) q.set('timeout', String(r.timeoutS));
  const headers: Record<string, string> = { connection: 'Upgrade', upgrade: EXEC_PROTOCOL };
  if (r.project) headers['x-nimbus-project'] = r.project;
  if (r.token) headers.authorization = `Bearer ${r.token}`;
  return new Promise((resolve, reject) => {
    const req = request(`${r.url}/v1/servers/${encodeURIComponent(r.server)}/attach?${q}`, { headers });
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: { code?: string; message?: string } = {};
        try {
          body = JSON.parse(text);
        } catch {
          // not ours
        }
        reject(new ApiError(body.code ?? 'InternalError', body.message ?? `HTTP ${res.statusCode}`, res.statusCode ?? 0));
      });
    });
    req.on('error', (err) =>
      reject(
        new ApiError('DaemonUnreachable', `cannot reach the Nimbus daemon at ${r.url} (${err.message}); start it with 'nimbus serve' or set NIMBUS_URL`, 0),
      ),
    );
    req.end();
  });
}
