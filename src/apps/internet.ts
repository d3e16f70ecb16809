/**
 * The built-in app of an internet host: HTTP on port 80 answers with the source address it saw
 * (so NAT can be seen: a server behind a NAT gateway shows up as the gateway's elastic IP), and
 * TCP and UDP echo on port 7.
 *
 *   node dist/runtime/internet.js --name web --ip 203.0.113.10
 */
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { name: { type: 'string', default: 'web' }, ip: { type: 'string', default: '' } } });

const http = createServer((req, res) => {
  const client = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  req.resume();
  const body = `Hello from internet host ${values.name} (${values.ip})\nyour address: ${client}\n`;
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-client-address': client });
  res.end(body);
});
http.keepAliveTimeout = 5_000;
http.listen(80, '0.0.0.0');

const echo = createTcpServer((socket) => {
  socket.on('error', () => socket.destroy());
  socket.setTimeout(60_000, () => socket.destroy());
  socket.pipe(socket);
});
echo.listen(7, '0.0.0.0');

const udp = createSocket('udp4');
udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
udp.bind(7, '0.0.0.0', () => process.stdout.write(`internet host ${values.name} listening on ${values.ip}: http 80, echo 7 (tcp, udp)\n`));

const stop = () => {
  udp.close();
  echo.close();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
