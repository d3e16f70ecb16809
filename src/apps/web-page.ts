/**
 * What the built-in web app answers, for one server: every request gets the server's name and
 * private IP, and one JSON line in its request log (client address as seen, method, path,
 * time), which `nimbus server logs` prints. Shared by the web app run as a process of its own
 * (web.ts, the virtual plane) and by the app host that serves many servers' apps (app-host.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface LogSink {
  write(line: string): unknown;
}

export function webApp(name: string, ip: string, log: LogSink | null): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const client = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    log?.write(
      JSON.stringify({
        time: new Date().toISOString(),
        client,
        method: req.method,
        path: req.url,
        forwardedFor: req.headers['x-forwarded-for'] ?? null,
        forwardedProto: req.headers['x-forwarded-proto'] ?? null,
        userAgent: req.headers['user-agent'] ?? null,
      }) + '\n',
    );
    req.resume();
    const body = `Hello from ${name} (${ip})\npath: ${req.url ?? '/'}\n`;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-served-by': name });
    res.end(body);
  };
}

/** How long an idle kept-alive connection stays open (longer than the load balancers' 60 s, so they close first). */
export const KEEP_ALIVE_MS = 65_000;
