import { FailureLimiter } from './auth/failure-limiter.js';
import { compileServerOptions, type CompiledServerOptions, type ServerOptions } from './config/server-options.js';
import { ServerOptionsError } from './config/server-options-schema.js';
import { followChanges } from './control/followers.js';
import { CleanupStack } from './core/cleanup-stack.js';
import type { InvokeAuth } from './core/invoke-auth.js';
import type { NetworkPolicy } from './core/spec.js';
import { readFile } from 'node:fs/promises';
import { createEventsIngress, parseIngressKey } from './edges/events-ingress.js';
import { startApiRole } from './roles/api.js';
import { startAsyncRole } from './roles/async.js';
import { openFoundation } from './roles/foundation.js';
import { startGatewayRole } from './roles/gateway.js';
import { startHistoryRole } from './roles/history.js';
import { listenHttp } from './roles/http-server.js';
import { startMetricsRole } from './roles/metrics.js';
import { startTriggersRole, type TriggersRole } from './roles/triggers.js';
import { startUiRole } from './roles/ui.js';
import type { HostCheck } from './sandbox/probe.js';
import type { Protection } from './sandbox/types.js';

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
  /** Writes the invocation records still buffered (they are written every ~150 ms anyway; tests). */
  flushRecords(): Promise<void>;
  /** Stops accepting, drains instances, closes the store. */
  close(): Promise<void>;
}

/**
 * The composition root: compiles the options, picks the implementations (SQLite store, in-process
 * change feed, file package repository, esbuild builder, sandbox, local provider) and starts every
 * role in this process (src/roles), serving the API and the gateway on one port.
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
  const { logger, dataDir } = options;
  const onInternalError = (err: unknown) => logger.error({ err }, 'internal error');
  const foundation = await openFoundation(options, started);
  // One budget of failed token checks per client address, for the API and the invoke path.
  const authFailures = new FailureLimiter(options.clock);
  const asyncRole = await startAsyncRole(options, foundation, started);
  const gateway = await startGatewayRole(options, foundation, authFailures, onInternalError, started, {
    acceptor: asyncRole.acceptor,
    callbackAllowed: options.callbackHosts,
  });
  const { instances, sandbox, probe } = gateway;
  const history = await startHistoryRole(options, foundation, gateway, started);
  let url = '';
  const api = startApiRole(
    options,
    foundation,
    { status: (name) => instances.status(name), check: (candidate) => instances.check(candidate), networkPolicies: sandbox.networkPolicies, sandboxName: sandbox.name },
    authFailures,
    onInternalError,
    () => url,
    asyncRole,
    { history: history.history, stats: history.stats, functionNames: () => gateway.functions.names() },
  );
  let triggersRole: TriggersRole | undefined;
  const metrics = startMetricsRole(options, foundation, gateway, asyncRole, authFailures, onInternalError, { triggers: () => triggersRole?.manager.activity() ?? [] });
  // Deploys, removals, secret and key changes reach the caches, the logs and the instances.
  followChanges(foundation.feed, { functions: gateway.functions, invokeKeys: foundation.access.keyCheck, logs: foundation.logs, instances, asyncWork: asyncRole });

  const ui = await startUiRole();
  let closing = false;
  const events = createEventsIngress({
    ...(options.ingressKeyFile === undefined ? {} : { ingressKey: await readIngressKey(options.ingressKeyFile) }),
    routing: {
      triggersMatching: (type, source) => triggersRole?.manager.triggersMatching(type, source) ?? [],
      sinkFor: (trigger) => triggersRole?.manager.sinkFor(trigger),
    },
    maxBodyBytes: options.maxBodyBytes,
    authorize: api.authorize,
    onInternalError,
    clock: options.clock,
  });
  const listening = await listenHttp(options.host, options.port, { invoke: gateway.edge, api: api.handle, metrics: metrics.handle, ui: ui.handle, events, domain: options.domain, onInternalError, closing: () => closing });
  const { server } = listening;
  started.defer(() => new Promise((closed) => server.close(closed)));
  url = listening.url;
  // Functions that must keep instances running get them from the start.
  for (const record of await foundation.store.functions.listFunctions()) {
    gateway.functions.set(record);
    instances.configure(record);
  }
  // Queued async work (some of it accepted before a restart) runs from now on.
  asyncRole.run(gateway.invoker);
  // Trigger sources deliver into the async queue; none waits for its broker here.
  const triggers = await startTriggersRole(options, foundation, asyncRole, started);
  triggersRole = triggers;
  logger.info({ url, dataDir }, 'nimbus serving');

  return {
    url,
    sandbox: sandbox.name,
    protections: sandbox.protections(),
    hostChecks: probe.checks,
    sandboxProblem: sandbox.name === 'bubblewrap' ? undefined : probe.bwrapProblem,
    adminTokenFile: foundation.access.adminToken.path,
    defaultAuth: foundation.access.defaultAuth,
    defaultNetwork: api.service.defaultNetwork,
    instancePids: (name) => gateway.provider.list(name).flatMap((i) => (i.pid !== undefined && i.pid > 0 ? [i.pid] : [])),
    flushRecords: () => history.flush(),
    async close() {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      // No new events: every source stops (deliveries in progress are stored first).
      await triggers.close();
      // No new async work; what runs finishes as the instances drain, then the queue closes.
      asyncRole.stop();
      await instances.shutdown();
      await asyncRole.close();
      // After the last invocation ended: its record is in the last batch.
      await history.close();
      // Every invocation has ended: its spans are sent before the platform stops.
      await gateway.tracing.shutdown().catch((err: unknown) => logger.warn({ err }, 'could not export the last spans'));
      // Whatever is still open now (log followers, clients mid-request) is cut.
      server.closeAllConnections();
      await stopped;
      await sandbox.close();
      // The instances have stopped: their last output is written before the platform exits.
      await foundation.logs.close();
      await foundation.store.close();
    },
  };
}

/** The ingress key in `file`. @throws ServerOptionsError when it cannot be read or is not a usable key. */
async function readIngressKey(file: string): Promise<string> {
  try {
    return parseIngressKey(await readFile(file, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ServerOptionsError('ingressKeyFile', file, `${file}: ${reason}`);
  }
}
