/**
 * The shim of the `exec` runtime: runs any program as a function. It serves the runtime protocol
 * on NIMBUS_SOCKET like the Node shim, and on init starts the function's command in its code
 * directory, the way its protocol (the init's `export`) says:
 *
 * - `http`: the command is a long-running program that serves HTTP on 127.0.0.1:$PORT (OpenFaaS
 *   of-watchdog's http mode, Knative's container contract), or on the unix socket at
 *   $NIMBUS_HTTP_SOCKET; invocations are proxied to it.
 * - `stdio`: the command runs once per invocation, request body on stdin, response body from
 *   stdout (OpenFaaS's classic watchdog); see exec-stdio.
 *
 * The init's `entry` is the command line, run with /bin/sh. It runs with node: builtins only (it
 * runs in the sandbox, like the Node shim).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { INVOCATION_ID_HEADER, type InitRequest } from './constants.cjs';
import { ExecHttpProgram } from './exec-http.cjs';
import { runStdio } from './exec-stdio.cjs';
import { describeError, failInternally, headerValue, readBody, sendJson } from './http-util.cjs';
import { flushAll, shimLog } from './log-capture.cjs';
import { answerProtocol, type ProtocolState, serveProtocol } from './protocol-server.cjs';

let state: 'waiting' | 'loading' | 'ready' | 'failed' = 'waiting';
let init: InitRequest | undefined;
let program: ExecHttpProgram | undefined;
let inflight = 0;
let draining = false;
let localIds = 0;
/**
 * The unix socket an http program may serve on: beside the shim's own, in the instance's private
 * socket folder (writable by the instance alone, and a short path, under the 108-byte limit).
 * Read before serveProtocol takes NIMBUS_SOCKET out of the environment.
 */
const programSocket = join(dirname(process.env.NIMBUS_SOCKET ?? join(tmpdir(), 'nimbus-exec', 'fn.sock')), 'http.sock');

/** The program's environment: a clean base (what the platform gave the shim) plus the function's own. */
function programEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, ...extra };
}

async function handleInit(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (state !== 'waiting') return sendJson(res, 409, { error: { code: 'ALREADY_INITIALISED', message: `init was already requested (state: ${state})` } });
  state = 'loading';
  let request: InitRequest;
  try {
    request = JSON.parse((await readBody(req)).toString('utf8')) as InitRequest;
    if (typeof request?.codeDir !== 'string' || typeof request.entry !== 'string' || request.entry.trim() === '') throw new Error('init needs codeDir and entry (the command) strings');
  } catch (err) {
    state = 'waiting';
    return sendJson(res, 400, { error: { code: 'INVALID_INIT', message: (err as Error).message } });
  }
  const started = performance.now();
  const protocol = request.export === 'stdio' ? 'stdio' : 'http';
  try {
    process.chdir(request.codeDir);
    if (protocol === 'http') {
      program = await ExecHttpProgram.start(request.entry, request.codeDir, programEnv(request.env ?? {}), {
        timeoutMs: Math.min(request.timeoutMs || 10_000, 10_000),
        socketPath: programSocket,
      });
      // The program is the function: when it ends, so does the instance (the platform replaces it).
      void program.exited.then((reason) => {
        shimLog(`the program ${reason}`);
        flushAll();
        process.exit(draining ? 0 : 1);
      });
    }
  } catch (err) {
    state = 'failed';
    shimLog(`init failed: ${(err as Error).message}`);
    return sendJson(res, 500, { error: { code: 'HANDLER_LOAD_FAILED', message: (err as Error).message } });
  }
  init = { ...request, env: request.env ?? {} };
  state = 'ready';
  sendJson(res, 200, { form: protocol, loadMs: Math.round((performance.now() - started) * 100) / 100 });
}

function invoke(req: IncomingMessage, res: ServerResponse, current: InitRequest): void {
  const id = headerValue(req, INVOCATION_ID_HEADER) ?? `local-${process.pid}-${++localIds}`;
  inflight++;
  if (draining) res.shouldKeepAlive = false;
  res.once('close', () => {
    inflight--;
    exitIfDrained();
  });
  const running = program ? program.forward(req, res, id) : runStdio(current.entry, current.codeDir, programEnv(current.env), req, res, id);
  running.catch((err: unknown) => failInternally(res, err, id));
}

function exitIfDrained(): void {
  if (!draining || inflight > 0) return;
  flushAll();
  if (program) void program.stop().then(() => process.exit(0));
  else process.exit(0);
}

const PROTOCOL: ProtocolState = { health: () => ({ inflight, initialised: state === 'ready' }), init: handleInit };

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  if (answerProtocol(req, res, PROTOCOL) === undefined) return;
  if (state !== 'ready' || !init) return sendJson(res, 503, { error: { code: 'NOT_INITIALISED', message: 'The instance has not started its program yet.' } });
  invoke(req, res, init);
}

function main(): void {
  process.on('uncaughtException', (err) => {
    shimLog(`uncaught exception, exiting: ${describeError(err).stack}`);
    program?.kill();
    flushAll();
    process.exit(1);
  });
  const server = createServer({ maxHeaderSize: 64 * 1024, requestTimeout: 0 }, onRequest);
  serveProtocol(server, {
    onDrain: () => {
      draining = true;
      exitIfDrained();
    },
    onPlatformGone: () => {
      program?.kill();
      process.exit(0);
    },
  });
}

main();
