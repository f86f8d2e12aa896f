import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiAuthorizer } from '../auth/api-guard.js';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import type { CompiledServerOptions } from '../config/server-options.js';
import { NimbusError } from '../core/errors.js';
import { sendError } from '../http/respond.js';
import { PlatformMetrics } from '../telemetry/metrics.js';
import { metricsRoute } from '../telemetry/metrics-route.js';
import type { TriggerMetricsSource } from '../telemetry/trigger-metrics.js';
import type { AsyncRole } from './async.js';
import type { Foundation } from './foundation.js';
import type { GatewayRole } from './gateway.js';

/** The platform's Prometheus metrics and the `/metrics` handler serving them. */
export interface MetricsRole {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Undefined when metrics are off (`metrics: false`). */
  metrics: PlatformMetrics | undefined;
}

/**
 * Starts the metrics role: subscribes the invocation metrics to the gateway's invocation-ended
 * events and the removal of functions (their series are dropped), reads the gauges from the
 * gateway's instance manager and function cache and from the async role's queue and records, the
 * trigger metrics from `triggers` (the trigger manager, which starts later: read at scrape time), and
 * serves `/metrics` to API tokens of scope `read` (checked by the API's authorizer, so failures
 * count against the same budget), or to anyone with `metricsPublic`.
 */
export function startMetricsRole(
  options: CompiledServerOptions,
  foundation: Foundation,
  gateway: Pick<GatewayRole, 'invocations' | 'instances' | 'functions'>,
  asyncRole: Pick<AsyncRole, 'queue'>,
  authFailures: FailureLimiter,
  onInternalError: (err: unknown) => void,
  triggers: TriggerMetricsSource,
): MetricsRole {
  if (!options.metrics) {
    // Off: nothing subscribes to the invocations, and /metrics is a route that does not exist.
    return {
      handle: async (_req, res) => sendError(res, new NimbusError('NOT_FOUND', 'Metrics are off on this platform (nimbus up --no-metrics).')),
      metrics: undefined,
    };
  }
  const { instances, functions } = gateway;
  const invocationRecords = foundation.store.invocations;
  const metrics = new PlatformMetrics({
    functionNames: () => functions.names(),
    status: (name) => instances.status(name),
    instanceStates: (name) => instances.instances(name).map((instance) => instance.state),
    backlog: (name) => asyncRole.queue.depth(name),
    deadLetters: async (name) => (await invocationRecords.countByStatus(name)).dead,
  }, triggers);
  gateway.invocations.on(metrics.invocations.record);
  foundation.feed.subscribe('function.removed', ({ name }) => metrics.forget(name));
  const authorize = apiAuthorizer(foundation.access.tokens, authFailures);
  const handle = metricsRoute({
    metrics,
    ...(options.metricsPublic ? {} : { authorize: (req: IncomingMessage) => authorize(req, 'read') }),
    onInternalError,
  });
  return { handle, metrics };
}
