import { errorDetailPolicy } from '../auth/error-detail.js';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import type { CompiledServerOptions } from '../config/server-options.js';
import type { CleanupStack } from '../core/cleanup-stack.js';
import { isNimbusError } from '../core/errors.js';
import { type AsyncIntake, HttpInvokeEdge } from '../edges/http-invoke.js';
import { FunctionCache } from '../gateway/function-cache.js';
import { InvocationEvents } from '../gateway/invocation-events.js';
import { Invoker } from '../gateway/invoker.js';
import { LocalProvider } from '../providers/local/provider.js';
import type { InstanceProvider } from '../providers/types.js';
import type { FunctionRecord } from '../store/types.js';
import { createKubernetesProvider } from './kubernetes-backend.js';
import { checkRuntimeStarts } from '../providers/local/runtime-check.js';
import { runtimeAdapters } from '../runtime-adapters/index.js';
import { createSandbox, type HostProbe } from '../sandbox/probe.js';
import type { Sandbox } from '../sandbox/types.js';
import { InstanceManager } from '../scaling/instance-manager.js';
import { SecretEnv } from '../secrets/secret-env.js';
import { createTracing } from '../telemetry/create-tracing.js';
import type { Tracing } from '../telemetry/tracing.js';
import type { Foundation } from './foundation.js';

/** The invocation side of a platform: edges, invoker, instance manager, provider, sandbox. */
export interface GatewayRole {
  /** The HTTP edge: `/fn/<name>` and function hosts. */
  edge: HttpInvokeEdge;
  invoker: Invoker;
  /** Told of every invocation that ended. */
  invocations: InvocationEvents;
  /** Admission and scaling; the control plane's changes reach it through the feed. */
  instances: InstanceManager;
  /** Local processes, or Kubernetes pods (`backend`). */
  provider: InstanceProvider;
  /** The deployed functions as the invoker sees them. */
  functions: FunctionCache;
  sandbox: Sandbox;
  probe: HostProbe;
  /** Spans of invocations (off without an OTLP endpoint); shut down last, to flush them. */
  tracing: Tracing;
}

/**
 * Starts the gateway role: chooses the sandbox (bubblewrap only when a real node instance starts
 * in it), the local provider with its warm pool, the instance manager above it, the invoker and
 * the HTTP edge (queueing async invocations into `asyncIntake`). `authFailures` is the budget of failed token checks it shares with the API;
 * `onInternalError` reports unexpected platform errors.
 */
export async function startGatewayRole(
  options: CompiledServerOptions,
  foundation: Foundation,
  authFailures: FailureLimiter,
  onInternalError: (err: unknown) => void,
  started: CleanupStack,
  asyncIntake?: AsyncIntake,
): Promise<GatewayRole> {
  const { clock, logger } = options;
  const { store, access, logs, builder, cipher } = foundation;
  const runtimes = { ...runtimeAdapters, ...options.runtimes };
  const { sandbox, probe } = await createSandbox(options.sandbox, (candidate, host) => checkRuntimeStarts(candidate, runtimes.node, host.instanceUids?.first));
  started.defer(() => sandbox.close());
  if (options.sandbox !== 'process' && sandbox.name !== 'bubblewrap' && probe.bwrapProblem) logger.warn({ reason: probe.bwrapProblem }, 'instances run without the bubblewrap sandbox');
  const secretEnv = new SecretEnv({ secrets: store.secrets, cipher });
  const codeDir = (record: FunctionRecord) => builder.buildDir(record.build.buildId);
  const envOf = (record: FunctionRecord) =>
    secretEnv.envFor(record).catch((err: unknown) => {
      // The invocation gets the error; the operator needs to hear about a key problem too.
      if (isNimbusError(err)) logger.error({ code: err.code, function: record.spec.name }, err.message);
      throw err;
    });
  // Functions run as local processes in the sandbox, or as pods of a Kubernetes cluster.
  const provider: InstanceProvider =
    options.backend === 'kubernetes'
      ? await createKubernetesProvider(options, { codeDir, secretEnv: envOf, logs })
      : new LocalProvider({
          sandbox,
          runtimes,
          logs,
          clock,
          codeDir,
          secretEnv: envOf,
          warmPoolSize: options.warmPoolSize,
          startTimeoutMs: options.startTimeoutMs,
          stopGraceMs: options.stopGraceMs,
          limits: options.instanceLimits,
          meterCpu: options.records,
          onWarmPoolError: (err) => logger.warn({ err }, 'a warm runtime process could not start'),
        });
  started.defer(() => provider.shutdown());
  const instances = new InstanceManager({ provider, clock, scaleIntervalMs: options.scaleIntervalMs, maxQueue: options.maxQueue, maxQueueWaitMs: options.maxQueueWaitMs });
  started.defer(() => instances.shutdown());
  const functions = new FunctionCache(store.functions);
  const invocations = new InvocationEvents((err) => logger.error({ err }, 'an invocation-ended listener failed'));
  const tracing = await createTracing(options);
  started.defer(() => tracing.shutdown());
  const invoker = new Invoker({ functions, admission: instances, clock, events: invocations, tracing });
  const edge = new HttpInvokeEdge({
    invoker,
    maxBodyBytes: options.maxBodyBytes,
    onInternalError,
    tracing,
    clock,
    invokeAuth: access.keyCheck,
    revealFunctionErrors: errorDetailPolicy(access.tokens, options.exposeErrors, authFailures),
    ...(asyncIntake ? { async: asyncIntake } : {}),
  });
  return { edge, invoker, invocations, instances, provider, functions, sandbox, probe, tracing };
}
