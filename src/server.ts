import { mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { authRoutes } from './api/auth-routes.js';
import { FunctionService } from './api/function-service.js';
import { createApi } from './api/routes.js';
import { guardApi } from './auth/api-guard.js';
import { errorDetailPolicy } from './auth/error-detail.js';
import { FailureLimiter } from './auth/failure-limiter.js';
import { setupAccessControl } from './auth/setup.js';
import { CleanupStack } from './core/cleanup-stack.js';
import { type Clock, systemClock } from './core/clock.js';
import { isNimbusError, NimbusError } from './core/errors.js';
import { isLoopbackHost, type InvokeAuth } from './core/invoke-auth.js';
import { FunctionCache } from './gateway/function-cache.js';
import { Gateway } from './gateway/gateway.js';
import { answerClientError, refuseConnect, refuseExpectation } from './http/client-error.js';
import { functionFromHost } from './http/function-host.js';
import { sendError, sendJson } from './http/respond.js';
import { EsbuildBuilder } from './packages/builder.js';
import { FsPackageRepository } from './packages/repository.js';
import { DEFAULT_PACKAGE_LIMITS, type PackageLimits } from './packages/types.js';
import { runtimeAdapters } from './runtime-adapters/index.js';
import type { RuntimeAdapter } from './runtime-adapters/types.js';
import { checkRuntimeStarts } from './backends/local/runtime-check.js';
import { createSandbox, type HostCheck, type SandboxMode } from './sandbox/probe.js';
import type { Protection } from './sandbox/types.js';
import { LocalBackend } from './backends/local/backend.js';
import { removeStaleRunDirs } from './backends/local/run-dir.js';
import { DEFAULT_INSTANCE_LIMITS, type InstanceLimits, type NetworkPolicy, type RuntimeName } from './core/spec.js';
import { SecretCipher } from './secrets/cipher.js';
import { loadSecretsKey } from './secrets/key.js';
import { SecretService } from './secrets/service.js';
import { prepareDataDir } from './store/data-dir.js';
import { SqliteStore } from './store/sqlite.js';
import { LogBuffer } from './telemetry/logs.js';

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Interface to listen on. @default 127.0.0.1 */
  host?: string;
  /** Port; 0 picks a free one. @default 8080 */
  port?: number;
  /** Where the store, packages and builds live. @default ./.nimbus */
  dataDir?: string;
  /** Largest invocation request body in bytes. @default 6 MB */
  maxBodyBytes?: number;
  /** Upload limits. */
  packageLimits?: Partial<PackageLimits>;
  /** The autoscaler decides this often (ms). @default 1000 */
  scaleIntervalMs?: number;
  /** Requests allowed to wait for capacity per function. @default 1000 */
  maxQueue?: number;
  /**
   * Longest a request waits for capacity before 503 FUNCTION_OVERLOADED (ms); the function's own
   * timeout ends the wait sooner when it is shorter. @default 10000
   */
  maxQueueWaitMs?: number;
  /** Generic runtime processes kept ready per runtime. @default 1 */
  warmPoolSize?: number;
  /** Which sandbox runs instances: the best this host offers, or exactly one. @default auto */
  sandbox?: SandboxMode;
  /** Instance limits (processes, open files, /tmp size) of functions that set none of their own. */
  instanceLimits?: Partial<InstanceLimits>;
  /** Auth of functions deployed without one. @default 'public' on a loopback host, else 'key' */
  defaultAuth?: InvokeAuth;
  /**
   * Requests to `<function>.<domain>[:port]` invoke that function at its own root; an empty string
   * turns this off. @default localhost
   */
  domain?: string;
  /**
   * Accept functions with network `host` although the platform listens beyond loopback (they
   * share the host's network, loopback services included). @default false
   */
  allowHostNetwork?: boolean;
  /** Runtime adapters replacing the built-in ones (tests inject runtimes that fail to start). */
  runtimes?: Partial<Record<RuntimeName, RuntimeAdapter>>;
  /**
   * Show every invocation's caller the function's own error text (development only); otherwise
   * only callers presenting an API token of scope `read` see it. @default false
   */
  exposeErrors?: boolean;
  clock?: Clock;
  logger?: Logger;
}

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

export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

/**
 * The composition root: picks the implementations (SQLite store, file package repository,
 * esbuild builder, process sandbox, local backend) and serves the API and gateway on one port.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const started = new CleanupStack();
  try {
    return await startSteps(options, started);
  } catch (err) {
    // A failed start releases what it started (warm processes, cgroups, the run directory, the
    // store), so `nimbus up` exits instead of holding them, and a supervisor's retries do not pile up.
    await started.releaseAll((releaseErr) => (options.logger ?? pino({ base: undefined })).warn({ err: releaseErr }, 'could not release after a failed start'));
    throw err;
  }
}

/** The steps of {@link startServer}; each registers in `started` how to undo it. */
async function startSteps(options: ServerOptions, started: CleanupStack): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const domain = options.domain ?? 'localhost';
  const dataDir = resolve(options.dataDir ?? '.nimbus');
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? pino({ level: process.env.NIMBUS_LOG_LEVEL ?? 'info', base: undefined });
  const packageLimits = { ...DEFAULT_PACKAGE_LIMITS, ...options.packageLimits };
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
  const access = await setupAccessControl({ store, clock, dataDir, host, defaultAuth: options.defaultAuth });
  if (access.adminToken.exposed) logger.warn({ file: access.adminToken.path }, 'the admin token file is readable by other users: chmod 600 it');
  const packages = new FsPackageRepository(dataDir, packageLimits);
  const builder = new EsbuildBuilder(dataDir, packages);
  const logs = new LogBuffer();
  const runtimes = { ...runtimeAdapters, ...options.runtimes };
  // Bubblewrap is only taken when a real node instance starts in it (see checkRuntimeStarts).
  const { sandbox, probe } = await createSandbox(options.sandbox ?? 'auto', (candidate, host) => checkRuntimeStarts(candidate, runtimes.node, host.instanceUids?.first));
  started.defer(() => sandbox.close());
  if (options.sandbox !== 'process' && sandbox.name !== 'bubblewrap' && probe.bwrapProblem) logger.warn({ reason: probe.bwrapProblem }, 'instances run without the bubblewrap sandbox');
  const backend = new LocalBackend({
    sandbox,
    runtimes,
    logs,
    clock,
    codeDir: (record) => builder.buildDir(record.build.buildId),
    secretEnv: (record) =>
      secrets.envFor(record).catch((err: unknown) => {
        // The invocation gets the error; the operator needs to hear about a key problem too.
        if (isNimbusError(err)) logger.error({ code: err.code, function: record.spec.name }, err.message);
        throw err;
      }),
    ...(options.scaleIntervalMs !== undefined ? { scaleIntervalMs: options.scaleIntervalMs } : {}),
    ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
    ...(options.maxQueueWaitMs !== undefined ? { maxQueueWaitMs: options.maxQueueWaitMs } : {}),
    ...(options.warmPoolSize !== undefined ? { warmPoolSize: options.warmPoolSize } : {}),
    ...(options.instanceLimits ? { limits: options.instanceLimits } : {}),
    onWarmPoolError: (err) => logger.warn({ err }, 'a warm runtime process could not start'),
  });
  started.defer(() => backend.shutdown());
  const secrets = new SecretService({ store, cipher: new SecretCipher(secretsKey.key), clock, recycle: (name) => backend.recycle(name) });
  const cache = new FunctionCache(store);
  const instanceLimits: InstanceLimits = { ...DEFAULT_INSTANCE_LIMITS, ...options.instanceLimits };
  const service = new FunctionService({
    store,
    packages,
    builder,
    backend,
    cache,
    logs,
    clock,
    networkPolicies: sandbox.networkPolicies,
    hostNetworkRefusal: hostNetworkRefusal(host, options.allowHostNetwork ?? false),
    sandboxName: sandbox.name,
    instanceLimits,
    defaultAuth: access.defaultAuth,
    invokeKeys: access.keys,
    domain,
  });
  const onInternalError = (err: unknown) => logger.error({ err }, 'internal error');
  // One budget of failed token checks per client address, for the API and the invoke path.
  const authFailures = new FailureLimiter(clock);
  const gateway = new Gateway({ functions: cache, backend, clock, maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, onInternalError, invokeAuth: access.keys, revealFunctionErrors: errorDetailPolicy(access.tokens, options.exposeErrors ?? false, authFailures) });

  let url = '';
  const extraRoutes = authRoutes({ tokens: access.tokens, keys: access.keys, service });
  const api = guardApi(createApi({ service, packages, packageLimits, logs, secrets, clock, serverUrl: () => url, onInternalError, extraRoutes }), access.tokens, onInternalError, authFailures);
  let closing = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const ownHost = functionFromHost(req.headers.host, domain);
    if (ownHost !== undefined) {
      gateway.invoke(req, res, ownHost, path.startsWith('/') ? path : `/${path}`).catch((err: unknown) => sendError(res, err, onInternalError));
    } else if (path.startsWith('/fn/')) {
      const end = path.slice(4).search(/[/?]/);
      const name = end === -1 ? path.slice(4) : path.slice(4, 4 + end);
      gateway.invoke(req, res, name).catch((err: unknown) => sendError(res, err, onInternalError));
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
    server.listen(options.port ?? 8080, host, () => resolveListen());
  });
  started.defer(() => new Promise((closed) => server.close(closed)));
  // Functions that must keep instances running get them from the start.
  for (const record of await store.listFunctions()) backend.configure(record);
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
    instancePids: (name) => backend.pids(name),
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
