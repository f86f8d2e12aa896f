/**
 * Loads the user's module and works out which handler form it uses.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InitRequest } from './constants.cjs';
import { listenedServer } from './listen-capture.cjs';
import type { NodeHttpHandler } from './node-http.cjs';
import type { OpenFaasHandler } from './openfaas.cjs';
import { looksLikeNodeHttp, looksLikeOpenFaas } from './params.cjs';
import { mapStack, mapStacksOf, userLocation } from './stack-map.cjs';

/** The `ctx` argument of a Web-standard handler (the Cloudflare Workers shape). */
export interface WebContext {
  waitUntil(promise: unknown): void;
  passThroughOnException(): void;
  invocationId: string;
}

/** Calls a Web-standard handler, with the right `this`. */
export type WebCall = (request: Request, env: Record<string, string>, ctx: WebContext) => unknown;

/** A Lambda-style handler: `(event, context)` async, or `(event, context, callback)`. */
export type LambdaHandler = (event: unknown, context: unknown, callback?: (err?: unknown, result?: unknown) => void) => unknown;

/** The loaded handler. */
export type LoadedHandler =
  | { form: 'web'; call: WebCall }
  | { form: 'lambda'; fn: LambdaHandler }
  | { form: 'node'; handle: NodeHttpHandler }
  | { form: 'openfaas'; fn: OpenFaasHandler };

/** How long a module that exports nothing may take to call `listen()` (e.g. after connecting to a database). */
const LISTEN_WAIT_MS = 2000;

/** Init failure, answered as `{"error":{"code","message"}}`. */
export class LoadError extends Error {
  constructor(
    readonly code: 'HANDLER_NOT_FOUND' | 'HANDLER_LOAD_FAILED' | 'HANDLER_SYNTAX_ERROR',
    message: string,
    readonly causeStack?: string,
  ) {
    super(message);
  }
}

type Exports = Record<string, unknown>;

function isObject(value: unknown): value is Exports {
  return (typeof value === 'object' || typeof value === 'function') && value !== null;
}

/**
 * require() first: it is synchronous and fast for the CJS bundles the builder produces (and loads
 * ESM too on Node >= 20.19). import() covers .mjs, ESM with top-level await and older Node 20.
 */
async function loadModule(file: string): Promise<unknown> {
  if (file.endsWith('.mjs')) return import(pathToFileURL(file).href);
  try {
    return require(file) as unknown;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return import(pathToFileURL(file).href);
    throw err;
  }
}

/** A named export, also looked for one level down (import() of CJS puts module.exports in `default`). */
function named(mod: unknown, name: string): unknown {
  if (!isObject(mod)) return undefined;
  if (mod[name] !== undefined) return mod[name];
  const inner = mod.default;
  return isObject(inner) ? inner[name] : undefined;
}

/** The default export: `exports.default`, or module.exports itself when it is a function. */
function defaultExport(mod: unknown): unknown {
  if (typeof mod === 'function') return mod;
  if (!isObject(mod)) return undefined;
  let value = mod.default;
  // import() of an esbuild CJS bundle: default is module.exports, which has its own default.
  if (isObject(value) && value.__esModule === true && 'default' in value) value = value.default;
  // CJS `module.exports = app` where app is an object with fetch (Hono), or a Koa or Fastify app:
  // module.exports is the default.
  if (value === undefined && mod.__esModule !== true && ['fetch', 'callback', 'routing'].some((method) => typeof mod[method] === 'function')) value = mod;
  return value;
}

/**
 * Loads `codeDir/entry` and picks the handler:
 * `export` set and not `default` -> that named export, Lambda style; else a default export that is
 * a node:http app or `(req, res)` function (node form), an `(event, context)` function (OpenFaaS
 * form), another function (Web style) or an object with `fetch` (called with this = the object);
 * else a `handler` export, Lambda style; else the server the module started with `listen()`.
 */
export async function loadHandler(init: InitRequest): Promise<LoadedHandler> {
  const file = resolve(init.codeDir, init.entry);
  // Messages name the user's file, never the bundle built from it.
  const shown = init.source ?? init.entry;
  if (!existsSync(file)) throw new LoadError('HANDLER_NOT_FOUND', `Entry file ${init.entry} does not exist in the function's code.`);
  mapStacksOf(init.codeDir, file);
  let mod: unknown;
  try {
    mod = await loadModule(file);
  } catch (err) {
    throw loadFailed(shown, err);
  }

  const wanted = init.export;
  if (wanted && wanted !== 'default') {
    const fn = named(mod, wanted);
    if (typeof fn !== 'function') throw new LoadError('HANDLER_NOT_FOUND', `${shown} has no exported function named "${wanted}".`);
    return { form: 'lambda', fn: fn as LambdaHandler };
  }

  const def = defaultExport(mod);
  const app = await nodeHttpApp(def);
  if (app) return { form: 'node', handle: app };
  if (typeof def === 'function') {
    if (looksLikeOpenFaas(def as () => unknown)) return { form: 'openfaas', fn: def as OpenFaasHandler };
    const fn = def as WebCall;
    return { form: 'web', call: (request, env, ctx) => fn(request, env, ctx) };
  }
  if (isObject(def) && typeof def.fetch === 'function') {
    const fetch = def.fetch as (this: unknown, ...args: unknown[]) => unknown;
    return { form: 'web', call: (request, env, ctx) => fetch.call(def, request, env, ctx) };
  }
  if (wanted === 'default') {
    throw new LoadError('HANDLER_NOT_FOUND', `The default export of ${shown} is neither a function nor an object with a fetch method.`);
  }
  const handler = named(mod, 'handler');
  if (typeof handler === 'function') return { form: 'lambda', fn: handler as LambdaHandler };
  // An app that starts its own server instead of exporting a handler.
  const server = await listenedServer(LISTEN_WAIT_MS);
  if (server) return { form: 'node', handle: (req, res) => server.emit('request', req, res) };
  throw new LoadError(
    'HANDLER_NOT_FOUND',
    `${shown} exports no handler and starts no server: export default a fetch handler (function or object with fetch), ` +
      'a (req, res) function or app (Express, Koa, Fastify), or export a function named "handler"; or call app.listen().',
  );
}

/**
 * The error of a module that threw while loading, naming where in the user's code (the bundle's
 * name means nothing to its author): `Loading index.js failed: Error: no database (at index.js:3:9)`.
 */
function loadFailed(entry: string, err: unknown): LoadError {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const code = err instanceof SyntaxError ? 'HANDLER_SYNTAX_ERROR' : 'HANDLER_LOAD_FAILED';
  const stack = err instanceof Error && typeof err.stack === 'string' ? mapStack(err.stack) : undefined;
  const at = stack === undefined ? undefined : userLocation(stack);
  return new LoadError(code, `Loading ${entry} failed: ${message}${at === undefined ? '' : ` (at ${at})`}`, stack);
}

/**
 * The node:http handler of `value`, when it is one: an Express app (a function with `handle` and
 * `use`), a Koa app (`callback()`), a Fastify instance (`routing`, after `ready()`), or a function
 * whose second parameter is named `res`/`response`.
 */
async function nodeHttpApp(value: unknown): Promise<NodeHttpHandler | undefined> {
  if (!isObject(value)) return undefined;
  const isFunction = typeof (value as unknown) === 'function';
  if (isFunction && typeof value.handle === 'function' && typeof value.use === 'function') return value as unknown as NodeHttpHandler;
  if (typeof value.callback === 'function' && typeof value.use === 'function' && typeof value.fetch !== 'function') {
    return (value.callback as () => NodeHttpHandler).call(value);
  }
  if (typeof value.routing === 'function' && typeof value.ready === 'function') {
    await (value.ready as () => Promise<unknown>).call(value);
    return (value.routing as NodeHttpHandler).bind(value);
  }
  if (isFunction && looksLikeNodeHttp(value as unknown as () => unknown)) return value as unknown as NodeHttpHandler;
  return undefined;
}
