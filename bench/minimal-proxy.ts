/**
 * Target (b): the smallest useful reverse proxy, node:http in front and an undici Pool over a
 * unix socket behind, in its own process. It does what any one-hop, process-isolated FaaS design
 * must do at the least (accept, forward with keep-alive, stream the answer back), so its figures
 * are the floor cost of such a design: Nimbus can approach them, not beat them.
 *
 * Usage: `node dist/bench/minimal-proxy.js <upstream-socket-path>`; prints `ready {"port":<port>}`.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const socketPath = process.argv[2];
if (!socketPath) {
  console.error('usage: minimal-proxy.js <upstream-socket-path>');
  process.exit(2);
}

// The origin is only used for the Host header: the connection itself goes to the socket.
const upstream = new Pool('http://localhost', { socketPath, connections: 128, pipelining: 1 });

/** Hop-by-hop headers describe one connection, not the message: a proxy must not forward them. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const server = createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  upstream
    .request({
      method: req.method as 'GET',
      path: req.url ?? '/',
      headers: endToEnd(req.headers),
      body: hasBody ? req : null,
    })
    .then(({ statusCode, headers, body }) => {
      res.writeHead(statusCode, endToEnd(headers));
      body.pipe(res);
    })
    .catch((err: Error) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy error: ${err.message}`);
    });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  console.log(`ready ${JSON.stringify({ port })}`);
});

process.on('SIGTERM', () => {
  server.close();
  void upstream.close().finally(() => process.exit(0));
  // Keep-alive connections from the load generator would hold close() open: do not wait for them.
  setTimeout(() => process.exit(0), 500).unref();
});
