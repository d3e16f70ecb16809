/**
 * The built-in web app a server can run (`--app web[:PORT]`): it answers every request with
 * the server's name and private IP, and appends one JSON line per request to its request
 * log (client address as seen, method, path, time), which `nimbus server logs` prints.
 *
 *   node --import tsx src/apps/web.ts --name ecs-a --ip 192.168.6.76 --port 8080 --bind 0.0.0.0 --log FILE
 *   (or --log-fd N: a descriptor opened for appending by whoever started it)
 */
import { createServer } from 'node:http';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'server' },
    ip: { type: 'string', default: '' },
    port: { type: 'string', default: '8080' },
    bind: { type: 'string', default: '0.0.0.0' },
    log: { type: 'string' },
    'log-fd': { type: 'string' },
  },
});

// The daemon opens the log for a workload that runs unprivileged and passes it as a descriptor.
const log = values['log-fd'] ? createWriteStream('', { fd: Number(values['log-fd']) }) : values.log ? createWriteStream(values.log, { flags: 'a' }) : null;
const page = (path: string) => `Hello from ${values.name} (${values.ip})\npath: ${path}\n`;

const server = createServer((req, res) => {
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
  const body = page(req.url ?? '/');
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-served-by': values.name! });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), values.bind, () => {
  process.stdout.write(`web app of ${values.name} listening on ${values.bind}:${values.port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
