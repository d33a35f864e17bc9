/**
 * The baseline: the least a reverse proxy can do here. node-http-proxy forwards every request to
 * the upstream unchanged except for an injected `Authorization: Bearer` header, over keep-alive
 * connections (as tokenpool's undici agent does), and streams the answer back.
 *   node --import tsx bench/baseline-proxy.ts --target http://127.0.0.1:PORT
 * prints "bench baseline listening on http://127.0.0.1:PORT".
 */
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';

const i = process.argv.indexOf('--target');
const target = i >= 0 ? process.argv[i + 1] : undefined;
if (!target) {
  console.error('usage: baseline-proxy.ts --target URL');
  process.exit(2);
}

const proxy = httpProxy.createProxyServer({ target, agent: new Agent({ keepAlive: true }), xfwd: false });
proxy.on('proxyReq', (proxyReq) => proxyReq.setHeader('authorization', 'Bearer ya29.bench-baseline'));
proxy.on('error', (err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: err.message } }));
});

const server = createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => proxy.web(req, res));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`bench baseline listening on http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
