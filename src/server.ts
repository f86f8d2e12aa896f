import { mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { authRoutes } from './api/auth-routes.js';
import { FunctionViews } from './api/function-view.js';
import { createApi } from './api/routes.js';
import { apiAuthorizer } from './auth/api-guard.js';
import { errorDetailPolicy } from './auth/error-detail.js';
import { FailureLimiter } from './auth/failure-limiter.js';
import { setupAccessControl } from './auth/setup.js';
import { followChanges } from './control/followers.js';
import { FunctionService } from './control/function-service.js';
import { InProcessChangeFeed } from './control/in-process-feed.js';
import { SecretService } from './control/secret-service.js';
import { CleanupStack } from './core/cleanup-stack.js';
import { isNimbusError, NimbusError } from './core/errors.js';
import { isLoopbackHost, type InvokeAuth } from './core/invoke-auth.js';
import { SERVER_DEFAULTS } from './config/server-defaults.js';
import { compileServerOptions, type CompiledServerOptions, type ServerOptions } from './config/server-options.js';
import { FunctionCache } from './gateway/function-cache.js';
import { InvocationEvents } from './gateway/invocation-events.js';
import { Invoker } from './gateway/invoker.js';
import { HttpInvokeEdge } from './edges/http-invoke.js';
import { answerClientError, refuseConnect, refuseExpectation } from './http/client-error.js';
import { functionFromHost } from './http/function-host.js';
import { sendError, sendJson } from './http/respond.js';
import { EsbuildBuilder } from './packages/builder.js';
import { FsPackageRepository } from './packages/repository.js';
import { runtimeAdapters } from './runtimes/index.js';
import { checkRuntimeStarts } from './providers/local/runtime-check.js';
import { createSandbox, type HostCheck } from './sandbox/probe.js';
import type { Protection } from './sandbox/types.js';
import { LocalProvider } from './providers/local/provider.js';
import { InstanceManager } from './scaling/instance-manager.js';
import { removeStaleRunDirs } from './providers/local/run-dir.js';
import type { NetworkPolicy } from './core/spec.js';
import { SecretCipher } from './secrets/cipher.js';
import { loadSecretsKey } from './secrets/key.js';
import { SecretEnv } from './secrets/secret-env.js';
import { prepareDataDir } from './store/data-dir.js';
import { SqliteStore } from './store/sqlite.js';
import { LogBuffer } from './telemetry/logs.js';

/** Options of {@link startServer}: every default and allowed range is in src/config/. */
export type { ServerOptions } from './config/server-options.js';

/** A running platform. */
export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The sandbox in use (`bubblewrap` or `process`). */
  sandbox: string;
  /** What the sandbox enforces on this host. */
  protections: Protection[];
  /** What was found on the host (bubblewrap, cgroups, rlimits, a sandboxed runtime start). */
  hostChecks: HostCheck[];
  /** Why the bubblewrap sandbox is not in use, in one sentence; undefined when it is. */
  sandboxProblem: string | undefined;
  /** The network of functions deployed without one (`outbound` unless this host cannot isolate it). */
  defaultNetwork: NetworkPolicy;
  /** The file holding the admin token of the management API (mode 0600). */
  adminTokenFile: string;
  /** Auth of functions deployed without one. */
  defaultAuth: InvokeAuth;
  /** Instance process ids of a function (diagnostics and tests). */
  instancePids(name: string): number[];
  /** Stops accepting, drains instances, closes the store. */
  close(): Promise<void>;
}

/** The default of `maxBodyBytes`; kept for callers that imported it from here. */
export const DEFAULT_MAX_BODY_BYTES = SERVER_DEFAULTS.maxBodyBytes;

/**
 * The composition root: picks the implementations (SQLite store, file package repository,
 * esbuild builder, process sandbox, local backend) and serves the API and gateway on one port.
 */
export async function startServer(raw: ServerOptions = {}): Promise<RunningServer> {
  // Compiled once: from here on every value is defaulted, checked and frozen.
  const options = compileServerOptions(raw);
  const started = new CleanupStack();
  try {
    return await startSteps(options, started);
  } catch (err) {
    // A failed start releases what it started (warm processes, cgroups, the run directory, the
    // store), so `nimbus up` exits instead of holding them, and a supervisor's retries do not pile up.
    await started.releaseAll((releaseErr) => options.logger.warn({ err: releaseErr }, 'could not release after a failed start'));
    throw err;
  }
}

/** The steps of {@link startServer}; each registers in `started` how to undo it. */
async function startSteps(options: CompiledServerOptions, started: CleanupStack): Promise<RunningServer> {
  const { host, domain, dataDir, clock, logger, packageLimits } = options;
  const dataDirState = await prepareDataDir(dataDir);
  if (dataDirState.openToOthers !== undefined) {
    logger.warn({ dataDir, mode: dataDirState.openToOthers.toString(8) }, 'the data dir is open to other users (it holds every function\'s code and the store): chmod 700 it');
  }
  // Stale run directories of platforms that were killed (kill -9) hold sockets and code.
  await removeStaleRunDirs();
  // Uploads and builds interrupted by a crash leave work files here; nothing in it is referenced.
  await rm(join(dataDir, 'tmp'), { recursive: true, force: true });

  const secretsKey = await loadSecretsKey(dataDir);
  if (secretsKey.readableByOthers) logger.warn({ path: secretsKey.path }, 'the secrets key file is readable by other users; chmod 600 it');
  const store = await SqliteStore.open(dataDir);
  started.defer(() => store.close());
  const feed = new InProcessChangeFeed();
  const access = await setupAccessControl({ auth: store.auth, feed, clock, dataDir, host, defaultAuth: options.defaultAuth });
  if (access.adminToken.exposed) logger.warn({ file: access.adminToken.path }, 'the admin token file is readable by other users: chmod 600 it');
  const packages = new FsPackageRepository(dataDir, packageLimits);
  const builder = new EsbuildBuilder(dataDir, packages);
  const logs = new LogBuffer();
  const runtimes = { ...runtimeAdapters, ...options.runtimes };
  // Bubblewrap is only taken when a real node instance starts in it (see checkRuntimeStarts).
  const { sandbox, probe } = await createSandbox(options.sandbox, (candidate, host) => checkRuntimeStarts(candidate, runtimes.node, host.instanceUids?.first));
  started.defer(() => sandbox.close());
  if (options.sandbox !== 'process' && sandbox.name !== 'bubblewrap' && probe.bwrapProblem) logger.warn({ reason: probe.bwrapProblem }, 'instances run without the bubblewrap sandbox');
  const provider = new LocalProvider({
    sandbox,
    runtimes,
    logs,
    clock,
    codeDir: (record) => builder.buildDir(record.build.buildId),
    secretEnv: (record) =>
      secretEnv.envFor(record).catch((err: unknown) => {
        // The invocation gets the error; the operator needs to hear about a key problem too.
        if (isNimbusError(err)) logger.error({ code: err.code, function: record.spec.name }, err.message);
        throw err;
      }),
    warmPoolSize: options.warmPoolSize,
    startTimeoutMs: options.startTimeoutMs,
    stopGraceMs: options.stopGraceMs,
    limits: options.instanceLimits,
    onWarmPoolError: (err) => logger.warn({ err }, 'a warm runtime process could not start'),
  });
  started.defer(() => provider.shutdown());
  // Admission and scaling for every function, above the provider (the instance manager).
  const backend = new InstanceManager({
    provider,
    clock,
    scaleIntervalMs: options.scaleIntervalMs,
    maxQueue: options.maxQueue,
    maxQueueWaitMs: options.maxQueueWaitMs,
  });
  started.defer(() => backend.shutdown());
  const cipher = new SecretCipher(secretsKey.key);
  const secretEnv = new SecretEnv({ secrets: store.secrets, cipher });
  const secrets = new SecretService({ secrets: store.secrets, functions: store.functions, cipher, clock, feed });
  const cache = new FunctionCache(store.functions);
  followChanges(feed, { functions: cache, invokeKeys: access.keyCheck, logs, instances: backend });
  const service = new FunctionService({
    functions: store.functions,
    secrets: store.secrets,
    packages,
    builder,
    feed,
    clock,
    check: (candidate) => backend.check(candidate),
    networkPolicies: sandbox.networkPolicies,
    hostNetworkRefusal: hostNetworkRefusal(host, options.allowHostNetwork),
    sandboxName: sandbox.name,
  });
  const views = new FunctionViews({ status: (name) => backend.status(name), instanceLimits: options.instanceLimits, defaultAuth: access.defaultAuth, domain });
  const onInternalError = (err: unknown) => logger.error({ err }, 'internal error');
  // One budget of failed token checks per client address, for the API and the invoke path.
  const authFailures = new FailureLimiter(clock);
  const invocations = new InvocationEvents((err) => logger.error({ err }, 'an invocation-ended listener failed'));
  const invoker = new Invoker({ functions: cache, admission: backend, clock, events: invocations });
  const gateway = new HttpInvokeEdge({ invoker, maxBodyBytes: options.maxBodyBytes, onInternalError, invokeAuth: access.keyCheck, revealFunctionErrors: errorDetailPolicy(access.tokens, options.exposeErrors, authFailures) });

  let url = '';
  const extraRoutes = authRoutes({ tokens: access.tokens, keys: access.keys, service });
  const authorize = apiAuthorizer(access.tokens, authFailures);
  const api = createApi({ service, views, packages, packageLimits, logs, secrets, clock, serverUrl: () => url, onInternalError, authorize, extraRoutes });
  let closing = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const ownHost = functionFromHost(req.headers.host, domain);
    if (ownHost !== undefined) {
      gateway.handle(req, res, ownHost, path.startsWith('/') ? path : `/${path}`).catch((err: unknown) => sendError(res, err, onInternalError));
    } else if (path.startsWith('/fn/')) {
      const end = path.slice(4).search(/[/?]/);
      const name = end === -1 ? path.slice(4) : path.slice(4, 4 + end);
      gateway.handle(req, res, name).catch((err: unknown) => sendError(res, err, onInternalError));
    } else if (path.startsWith('/api/')) {
      void api(req, res);
    } else if (path === '/healthz') {
      if (closing) sendError(res, new NimbusError('SHUTTING_DOWN', 'Nimbus is shutting down.'));
      else sendJson(res, 200, { status: 'ok' });
    } else if (path === '/') {
      sendJson(res, 200, { name: 'nimbus', api: '/api/v1', openapi: '/api/v1/openapi.json', invoke: '/fn/{name}' });
    } else {
      sendError(res, new NimbusError('NOT_FOUND', `Nothing at ${path.slice(0, 200)}. Functions are under /fn/<name>, the API under /api/v1.`));
    }
  });
  // Invocations carry their own deadline and log follows stay open: no server-wide request timeout.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  // Malformed requests get catalogue errors with a JSON body, like everything else.
  server.on('clientError', answerClientError);
  server.on('connect', refuseConnect);
  server.on('checkExpectation', refuseExpectation);

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolveListen());
  });
  started.defer(() => new Promise((closed) => server.close(closed)));
  // Functions that must keep instances running get them from the start.
  for (const record of await store.functions.listFunctions()) backend.configure(record);
  const { port } = server.address() as AddressInfo;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, dataDir }, 'nimbus serving');

  return {
    url,
    sandbox: sandbox.name,
    protections: sandbox.protections(),
    hostChecks: probe.checks,
    sandboxProblem: sandbox.name === 'bubblewrap' ? undefined : probe.bwrapProblem,
    adminTokenFile: access.adminToken.path,
    defaultAuth: access.defaultAuth,
    defaultNetwork: service.defaultNetwork,
    instancePids: (name) => provider.list(name).flatMap((i) => (i.pid !== undefined && i.pid > 0 ? [i.pid] : [])),
    async close() {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      await backend.shutdown();
      // Whatever is still open now (log followers, clients mid-request) is cut.
      server.closeAllConnections();
      await stopped;
      await sandbox.close();
      await store.close();
    },
  };
}

/** Why network `host` is refused on a platform listening on `host`; undefined when it is allowed. */
function hostNetworkRefusal(host: string, allowed: boolean): string | undefined {
  if (allowed || isLoopbackHost(host)) return undefined;
  return `network "host" is refused: this platform listens on ${host}, and a function on the host's network reaches every service on this machine's loopback. Start it with --allow-host-network to allow it, or deploy with network "outbound".`;
}
