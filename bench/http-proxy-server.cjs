// The typical Node proxy for comparison: http-proxy with a keep-alive agent, round robin.
const http = require('node:http');
const httpProxy = require('http-proxy');
const [port, b1, b2] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const proxy = httpProxy.createProxyServer({ agent });
const targets = [`http://127.0.0.1:${b1}`, `http://127.0.0.1:${b2}`];
let i = 0;
proxy.on('error', (_e, _req, res) => {
  res.writeHead(502);
  res.end();
});
http.createServer((req, res) => proxy.web(req, res, { target: targets[i++ % 2] })).listen(port, '127.0.0.1');
