/**
 * The part of the runtime protocol every Node-based shim serves the same way: the control channel
 * (fd 3), listening on NIMBUS_SOCKET (or, in a cluster pod, on TCP: NIMBUS_LISTEN_PORT), the
 * ready message, and a graceful drain on SIGTERM.
 */
import { unlinkSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { CONTROL_FD, HEALTH_PATH, INIT_PATH } from './constants.cjs';
import { describeError, sendJson } from './http-util.cjs';
import { shimLog } from './log-capture.cjs';

/** What the shim does at each step of its life. */
export interface ProtocolHooks {
  /** SIGTERM or SIGINT: the server no longer accepts; finish in-flight work, then exit. */
  onDrain(): void;
  /** Listening, and the platform was told (e.g. start warming up while waiting for init). */
  onReady?(): void;
  /** The platform is gone (its end of the control channel closed): exit now. @default exit 0 */
  onPlatformGone?(): void;
}

/**
 * Opens the control channel. Its EOF means the platform is gone (even if it was SIGKILLed: the
 * kernel closes its end), and an instance must never outlive the platform.
 */
function openControl(onGone: () => void): Socket | undefined {
  try {
    const control = new Socket({ fd: CONTROL_FD, readable: true, writable: true });
    control.on('end', onGone);
    control.on('close', onGone);
    control.on('error', onGone);
    control.resume();
    return control;
  } catch (err) {
    // Started by hand without fd 3: serve anyway, for debugging.
    shimLog(`no control channel on fd ${CONTROL_FD} (${(err as Error).message}); running without one`);
    return undefined;
  }
}

/** What serveProtocol needs of a node:http server (any request and response classes). */
interface ProtocolServer {
  keepAliveTimeout: number;
  close(): unknown;
  closeIdleConnections(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  listen(path: string, listening: () => void): unknown;
  listen(port: number, host: string, listening: () => void): unknown;
}

/** Where to listen: the unix socket of a local instance, or the TCP port of a cluster pod. */
type ListenAddress = { socketPath: string } | { port: number; host: string };

/**
 * Reads the listen address out of the environment (and takes it out of what user code sees):
 * NIMBUS_SOCKET for local instances; NIMBUS_LISTEN_PORT (and NIMBUS_LISTEN_HOST, default every
 * interface) for a pod, which has a network namespace of its own but no socket the platform shares.
 */
function listenAddress(): ListenAddress | undefined {
  const { NIMBUS_SOCKET: socketPath, NIMBUS_LISTEN_PORT: port, NIMBUS_LISTEN_HOST: host } = process.env;
  delete process.env.NIMBUS_SOCKET;
  delete process.env.NIMBUS_LISTEN_PORT;
  delete process.env.NIMBUS_LISTEN_HOST;
  if (socketPath) return { socketPath };
  if (port && /^\d+$/.test(port)) return { port: Number(port), host: host || '0.0.0.0' };
  return undefined;
}

/** Serves `server` on the address the environment names (see {@link listenAddress}). */
export function serveProtocol(server: ProtocolServer, hooks: ProtocolHooks): void {
  const address = listenAddress();
  if (!address) {
    shimLog('neither NIMBUS_SOCKET nor NIMBUS_LISTEN_PORT is set: nowhere to listen');
    process.exit(2);
  }
  const where = 'socketPath' in address ? address.socketPath : `${address.host}:${address.port}`;
  const control = openControl(hooks.onPlatformGone ?? (() => process.exit(0)));
  // The platform enforces the invocation deadline; the shim never cuts a request short.
  // The platform pools its connections and closes idle ones itself, so the shim never times them
  // out (0), which also spares every response its `Keep-Alive: timeout=` header and the platform
  // parsing it.
  server.keepAliveTimeout = 0;
  server.on('error', (err) => {
    shimLog(`cannot listen on ${where}: ${err.message}`);
    process.exit(1);
  });
  let draining = false;
  const drain = (): void => {
    if (draining) return;
    draining = true;
    server.close();
    server.closeIdleConnections();
    hooks.onDrain();
  };
  process.on('SIGTERM', drain);
  process.on('SIGINT', drain);
  const listening = (): void => {
    control?.write('{"type":"ready"}\n');
    hooks.onReady?.();
  };
  if ('port' in address) {
    server.listen(address.port, address.host, listening);
    return;
  }
  try {
    unlinkSync(address.socketPath); // a stale socket file from an earlier instance would make listen fail
  } catch {
    // none there
  }
  server.listen(address.socketPath, listening);
}

/** How a shim answers the protocol's own requests (see {@link answerProtocol}). */
export interface ProtocolState {
  /** For the health probe: invocations in flight, and whether a handler is loaded. */
  health(): { inflight: number; initialised: boolean };
  /** Runs `POST /__nimbus/init`; a rejection is answered 500 HANDLER_LOAD_FAILED. */
  init(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/**
 * Answers the health probe and init, and answers the path of any other request (without its
 * query) for the shim to route; undefined when the request was answered here. Sits on every
 * invocation's path, so it allocates nothing but the path.
 */
export function answerProtocol(req: IncomingMessage, res: ServerResponse, shim: ProtocolState): string | undefined {
  // The gateway dates the response it sends; one made here would only be parsed and passed on.
  res.sendDate = false;
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path === HEALTH_PATH) return void sendJson(res, 200, shim.health());
  if (path === INIT_PATH && req.method === 'POST') {
    shim.init(req, res).catch((err: unknown) => {
      shimLog(`init crashed: ${describeError(err).stack}`);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'HANDLER_LOAD_FAILED', message: describeError(err).message } });
    });
    return undefined;
  }
  return path;
}
