/**
 * Apps written to run as servers (`app.listen(PORT)`: Express, Fastify, Koa, plain node:http) run
 * unmodified: from the moment user code loads, `listen()` on any server binds nothing and reports
 * success, and the first HTTP server that "listened" receives the invocations as 'request' events.
 * So no function ever opens a port, on the host or in its sandbox.
 */
import { Server as HttpServer } from 'node:http';
import { Server as NetServer } from 'node:net';

/** The port apps are told they listen on (and find in $PORT when it was not set). */
export const VIRTUAL_PORT = 8080;

type Listen = NetServer['listen'];

let captured: HttpServer | undefined;
const waiters: Array<(server: HttpServer) => void> = [];

/** Replaces `listen()` for every server created from now on, or existing but not yet listening. */
export function captureListen(): void {
  NetServer.prototype.listen = function listen(this: NetServer, ...args: unknown[]): NetServer {
    const port = requestedPort(args[0]);
    // What address() answers from now on: where the app believes it listens.
    this.address = () => ({ address: '0.0.0.0', family: 'IPv4', port });
    const callback = args.findLast((arg) => typeof arg === 'function') as (() => void) | undefined;
    process.nextTick(() => {
      this.emit('listening');
      callback?.call(this);
    });
    if (this instanceof HttpServer && captured === undefined) {
      captured = this;
      for (const resolve of waiters.splice(0)) resolve(this);
    }
    return this;
  } as Listen;
}

/** The server the app "listened" with, waiting up to `timeoutMs` for it; undefined if none came. */
export function listenedServer(timeoutMs: number): Promise<HttpServer | undefined> {
  if (captured) return Promise.resolve(captured);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    waiters.push((server) => {
      clearTimeout(timer);
      resolve(server);
    });
  });
}

/** The port a listen() call asks for (a number, a numeric string, or `{ port }`); the virtual one otherwise. */
function requestedPort(first: unknown): number {
  const value = typeof first === 'object' && first !== null ? (first as { port?: unknown }).port : first;
  const port = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : 0;
  return port > 0 && port < 65536 ? port : VIRTUAL_PORT;
}
