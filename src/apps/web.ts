/**
 * The built-in web app a server can run (`--app web[:PORT]`) as a process of its own (on the
 * virtual plane; on the linux plane one app host serves every server's, app-host.ts). What it
 * answers is web-page.ts.
 *
 *   node --import tsx src/apps/web.ts --name ecs-a --ip 192.168.6.76 --port 8080 --bind 0.0.0.0 --log FILE
 *   (or --log-fd N: a descriptor opened for appending by whoever started it)
 */
import { createServer } from 'node:http';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { KEEP_ALIVE_MS, webApp } from './web-page.js';

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
const server = createServer(webApp(values.name!, values.ip!, log));
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.listen(Number(values.port), values.bind, () => {
  process.stdout.write(`web app of ${values.name} listening on ${values.bind}:${values.port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
