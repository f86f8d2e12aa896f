/**
 * Target (a): a bare node:http server answering "hello", the reference every other figure is
 * compared with. Run as its own process: `node dist/bench/bare-server.js <socket-path>`.
 *
 * It listens on 127.0.0.1 (a free port, for the load generator) and on a unix socket (for the
 * minimal proxy, which reaches it the way Nimbus reaches an instance). When both listen it
 * prints one line, `ready {"port":<port>}`.
 */
import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';

const socketPath = process.argv[2];
if (!socketPath) {
  console.error('usage: bare-server.js <socket-path>');
  process.exit(2);
}

/** The same handler serves both listeners, so both paths measure the same work. */
function hello(): Server {
  return createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
    res.end('hello');
  });
}

const tcp = hello();
const unix = hello();
// A stale socket file from a killed run would make listen() fail with EADDRINUSE.
rmSync(socketPath, { force: true });

await Promise.all([
  new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve)),
  new Promise<void>((resolve) => unix.listen(socketPath, resolve)),
]);
const address = tcp.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;
console.log(`ready ${JSON.stringify({ port })}`);

process.on('SIGTERM', () => {
  tcp.close();
  unix.close();
  rmSync(socketPath, { force: true });
  process.exit(0);
});
