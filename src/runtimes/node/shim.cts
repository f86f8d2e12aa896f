/**
 * The Node runtime shim: the program every Node function instance runs. It serves the runtime
 * protocol (docs/runtime-protocol.md) over HTTP/1.1 on the unix socket named by NIMBUS_SOCKET (or a
 * TCP port in a cluster pod),
 * loads the user's code on `POST /__nimbus/init`, and calls it for every other request.
 *
 * It imports only node: builtins because it runs inside the sandbox, where the platform's
 * dependencies are not available, and keeps module-load work small because it is on the cold
 * start path.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { CPU_TIME_HEADER, INVOCATION_ID_HEADER, type InitRequest, WARM_UP_PATH } from './constants.cjs';
import { cpuSpanMicros, type CpuSpanStart, startCpuSpan } from './cpu-meter.cjs';
import { describeError, failInternally, headerValue, readBody, sendJson } from './http-util.cjs';
import { invokeLambda } from './lambda.cjs';
import { captureListen, VIRTUAL_PORT } from './listen-capture.cjs';
import { invokeNodeHttp } from './node-http.cjs';
import { invokeOpenFaas } from './openfaas.cjs';
import { fetchPackage } from './package-fetch.cjs';
import { LoadError, loadHandler, type LoadedHandler } from './loader.cjs';
import { flushAll, flushInvocation, installLogCapture, invocationStore, shimLog } from './log-capture.cjs';
import { installLightRequest } from './light-request.cjs';
import { installLightResponse } from './light-response.cjs';
import { answerProtocol, type ProtocolState, serveProtocol } from './protocol-server.cjs';
import { invokeWeb, warmUpWeb } from './web.cjs';

/**
 * An instance still waiting for init this long after ready is sitting in a prewarmed pool: use the
 * idle time to load the fetch classes (see warmUpWeb). An init arriving sooner (a cold start
 * without a pool) cancels the warm-up, so Lambda-style functions never pay for it.
 */
const WARM_UP_DELAY_MS = 25;
let warmUpTimer: NodeJS.Timeout | undefined;

let state: 'waiting' | 'loading' | 'ready' | 'failed' = 'waiting';
let handler: LoadedHandler | undefined;
let initRequest: InitRequest | undefined;
let userEnv: Record<string, string> = {};
let inflight = 0;
let draining = false;
/** Promises handed to ctx.waitUntil(): drain waits for them too. */
const background = new Set<Promise<unknown>>();

function exitIfDrained(): void {
  if (draining && inflight === 0 && background.size === 0) {
    flushAll();
    process.exit(0);
  }
}

function parseInit(body: Buffer): InitRequest {
  const init = JSON.parse(body.toString('utf8')) as Partial<InitRequest> | null;
  const ok =
    typeof init === 'object' &&
    init !== null &&
    typeof init.codeDir === 'string' &&
    typeof init.entry === 'string' &&
    typeof init.function === 'string' &&
    (init.env === undefined || (typeof init.env === 'object' && init.env !== null)) &&
    (init.export === undefined || init.export === null || typeof init.export === 'string') &&
    (init.source === undefined || typeof init.source === 'string') &&
    (init.package === undefined || (typeof init.package === 'object' && init.package !== null && typeof init.package.url === 'string')) &&
    (init.meterCpu === undefined || typeof init.meterCpu === 'boolean');
  if (!ok) throw new Error('init needs function, codeDir and entry strings, and env as an object of strings');
  return {
    function: init.function!,
    version: Number(init.version ?? 0),
    codeDir: init.codeDir!,
    entry: init.entry!,
    ...(init.source !== undefined ? { source: init.source } : {}),
    export: init.export ?? undefined,
    env: init.env ?? {},
    timeoutMs: Number(init.timeoutMs ?? 30_000),
    memoryMb: Number(init.memoryMb ?? 0),
    ...(init.package ? { package: init.package } : {}),
    ...(init.meterCpu !== undefined ? { meterCpu: init.meterCpu } : {}),
  };
}

async function handleInit(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (state !== 'waiting') {
    // An instance is specialised once; a second init is a platform bug, refused loudly.
    return sendJson(res, 409, { error: { code: 'ALREADY_INITIALISED', message: `init was already requested (state: ${state})` } });
  }
  state = 'loading';
  clearTimeout(warmUpTimer);
  let init: InitRequest;
  try {
    init = parseInit(await readBody(req));
  } catch (err) {
    state = 'waiting';
    return sendJson(res, 400, { error: { code: 'INVALID_INIT', message: (err as Error).message } });
  }
  const started = performance.now();
  if (init.package) {
    try {
      init.codeDir = await fetchPackage(init.package);
    } catch (err) {
      state = 'failed';
      shimLog(`init failed: PACKAGE_FETCH_FAILED: ${(err as Error).message}`);
      return sendJson(res, 500, { error: { code: 'PACKAGE_FETCH_FAILED', message: `The function's code could not be fetched: ${(err as Error).message}` } });
    }
  }
  try {
    for (const [key, value] of Object.entries(init.env)) process.env[key] = String(value);
    // Apps written as servers read their port from $PORT and call listen(): they get a port that
    // binds nothing (see listen-capture).
    process.env.PORT ??= String(VIRTUAL_PORT);
    captureListen();
    try {
      process.chdir(init.codeDir);
    } catch (err) {
      throw new LoadError('HANDLER_NOT_FOUND', `The code directory cannot be entered: ${(err as Error).message}`);
    }
    handler = await loadHandler(init);
  } catch (err) {
    state = 'failed';
    const code = err instanceof LoadError ? err.code : 'HANDLER_LOAD_FAILED';
    const message = (err as Error).message;
    shimLog(`init failed: ${code}: ${err instanceof LoadError && err.causeStack ? err.causeStack : message}`);
    return sendJson(res, 500, { error: { code, message } });
  }
  initRequest = init;
  userEnv = { ...init.env };
  state = 'ready';
  const loadMs = Math.round((performance.now() - started) * 100) / 100;
  sendJson(res, 200, { form: handler.form, loadMs });
}

function waitUntilFor(id: string): (promise: unknown) => void {
  return (promise) => {
    const tracked: Promise<unknown> = Promise.resolve(promise)
      .catch((err: unknown) => shimLog(`waitUntil promise rejected: ${describeError(err).stack}`, id))
      .finally(() => {
        background.delete(tracked);
        flushInvocation(id);
        exitIfDrained();
      });
    background.add(tracked);
  };
}

let fallbackIds = 0;

/** The built-in handler of warm-up invocations (see WARM_UP_PATH): what the smallest function does. */
const WARM_UP_HANDLER: LoadedHandler = { form: 'web', call: async (request) => new Response(await request.text()) };
const WARM_UP_INIT: InitRequest = { function: '', version: 0, codeDir: '', entry: '', env: {}, timeoutMs: 1000, memoryMb: 0 };

/** Called once per invocation, when its response has closed (sent, or cut off). */
function invocationClosed(id: string): void {
  inflight--;
  flushInvocation(id);
  exitIfDrained();
}

/**
 * The server's response class: it reports the end of the invocation it carries from its own
 * 'close' event. This replaces a 'close' listener per response, which cost ~3% of the shim's
 * instructions per request (callgrind).
 */
const writeHead = ServerResponse.prototype.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;

class InvocationResponse extends ServerResponse {
  /** Set for invocations; undefined for protocol requests (init, health). */
  invocationId: string | undefined;
  /** Where the invocation's CPU span started (invocations only, when CPU time is metered). */
  cpuAtStart: CpuSpanStart | undefined;

  // Every way of answering (writeHead, setHeader + end, flushHeaders) ends in writeHead, so the
  // process's CPU time since the request arrived is reported here, in the head (CPU_TIME_HEADER).
  override writeHead(statusCode: number, statusMessage?: string, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  override writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  override writeHead(statusCode: number, reasonOrHeaders?: unknown, headers?: unknown): this {
    const start = this.cpuAtStart;
    if (start !== undefined) {
      this.cpuAtStart = undefined;
      this.setHeader(CPU_TIME_HEADER, String(cpuSpanMicros(start)));
    }
    return writeHead.call(this, statusCode, reasonOrHeaders, headers) as this;
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'close' && this.invocationId !== undefined) {
      const id = this.invocationId;
      this.invocationId = undefined;
      invocationClosed(id);
    }
    return super.emit(event, ...args);
  }
}

function invoke(req: IncomingMessage, res: ServerResponse, loaded: LoadedHandler, init: InitRequest): void {
  // The platform always sends an id; requests made by hand get a local one.
  const id = headerValue(req, INVOCATION_ID_HEADER) ?? `local-${process.pid}-${++fallbackIds}`;
  inflight++;
  if (draining) res.shouldKeepAlive = false;
  // Frameworks that swap the response's prototype (Express) lose the report: their CPU time is unknown.
  if (init.meterCpu !== false) (res as InvocationResponse).cpuAtStart = startCpuSpan();
  if (loaded.form === 'node') {
    // Frameworks swap the response's prototype (Express does), which drops InvocationResponse's
    // own accounting: this form pays for a listener instead.
    res.once('close', () => invocationClosed(id));
  } else {
    (res as InvocationResponse).invocationId = id;
  }
  invocationStore.run(id, () => {
    // Only the shim's own failures land in these catches (the invokers report handler failures).
    try {
      // Fire and forget: invokeWeb's promise never rejects (it answers every failure on res).
      if (loaded.form === 'web') void invokeWeb(loaded.call, req, res, { id, env: userEnv, waitUntil: waitUntilFor(id) });
      else if (loaded.form === 'node') invokeNodeHttp(loaded.handle, req, res, id);
      else if (loaded.form === 'openfaas') invokeOpenFaas(loaded.fn, req, res, id).catch((err: unknown) => failInternally(res, err, id));
      else invokeLambda(loaded.fn, init, req, res, id).catch((err: unknown) => failInternally(res, err, id));
    } catch (err) {
      failInternally(res, err, id);
    }
  });
}

const PROTOCOL: ProtocolState = { health: () => ({ inflight, initialised: state === 'ready' }), init: handleInit };

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const path = answerProtocol(req, res, PROTOCOL);
  if (path === undefined) return;
  if (path === WARM_UP_PATH && state === 'waiting') return invoke(req, res, WARM_UP_HANDLER, WARM_UP_INIT);
  if (!handler || !initRequest) {
    return sendJson(res, 503, { error: { code: 'NOT_INITIALISED', message: 'The instance has not loaded a handler yet.' } });
  }
  invoke(req, res, handler, initRequest);
}

function main(): void {
  installLogCapture();
  // Before any user code loads, so `new Response()` in handlers makes the lightweight kind.
  installLightResponse();
  installLightRequest();
  process.on('uncaughtException', (err) => {
    // The ALS store may be lost here; with a single invocation running, it is that one.
    shimLog(`uncaught exception, exiting: ${describeError(err).stack}`, invocationStore.getStore() ?? null);
    flushAll();
    process.exit(1);
  });

  const server = createServer({ maxHeaderSize: 64 * 1024, requestTimeout: 0, ServerResponse: InvocationResponse }, onRequest);
  serveProtocol(server, {
    onDrain: () => {
      draining = true;
      exitIfDrained();
    },
    onReady: () => {
      warmUpTimer = setTimeout(() => {
        warmUpWeb().catch((err: unknown) => shimLog(`warm-up failed: ${describeError(err).message}`));
      }, WARM_UP_DELAY_MS);
    },
  });
}

main();
