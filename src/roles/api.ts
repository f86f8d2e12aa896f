import type { Scope } from '../core/scope.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authRoutes } from '../api/auth-routes.js';
import { FunctionViews } from '../api/function-view.js';
import { invocationRoutes } from '../api/invocation-routes.js';
import { createApi } from '../api/routes.js';
import { statsRoutes } from '../api/stats-routes.js';
import { usageRoutes } from '../api/usage-routes.js';
import { apiAuthorizer } from '../auth/api-guard.js';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import type { CompiledServerOptions } from '../config/server-options.js';
import { FunctionService } from '../control/function-service.js';
import { SecretService } from '../control/secret-service.js';
import { TriggerService } from '../control/trigger-service.js';
import { SecretEnv } from '../secrets/secret-env.js';
import { triggerRoutes } from '../api/trigger-routes.js';
import { SOURCE_KINDS } from '../triggers/sources/index.js';
import { isLoopbackHost } from '../core/invoke-auth.js';
import type { NetworkPolicy } from '../core/spec.js';
import type { FunctionRecord } from '../store/types.js';
import type { FunctionStatus } from '../scaling/instance-manager.js';
import type { AsyncRole } from './async.js';
import type { Foundation } from './foundation.js';
import type { HistoryRole } from './history.js';

/** What the API role needs to know of the instances (from the gateway role, or a cluster's). */
export interface InstanceFacts {
  /** How a function's instances are doing now. */
  status(name: string): FunctionStatus;
  /** Starts a candidate version once before it is stored (the deploy-time check). */
  check(candidate: FunctionRecord): Promise<void>;
  /** Network policies the sandbox enforces. */
  networkPolicies: readonly NetworkPolicy[];
  /** The sandbox in use, for messages. */
  sandboxName: string;
}

/** The management side of a platform: the `/api/v1` handler and the control plane behind it. */
export interface ApiRole {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  service: FunctionService;
  secrets: SecretService;
  triggers: TriggerService;
  /** The API's token check, for routes served outside /api (POST /events). */
  authorize(req: IncomingMessage, scope: Scope): Promise<void>;
}

/**
 * Starts the API role: the control plane (deploys, secrets, triggers; they publish on the change feed) and
 * the management API in front of it, with each route's scope checked against API tokens.
 */
export function startApiRole(
  options: CompiledServerOptions,
  foundation: Foundation,
  instances: InstanceFacts,
  authFailures: FailureLimiter,
  onInternalError: (err: unknown) => void,
  serverUrl: () => string,
  asyncRole: Pick<AsyncRole, 'deadLetters'>,
  historyRole: Pick<HistoryRole, 'history' | 'stats'> & { functionNames(): string[] },
): ApiRole {
  const { clock, host, domain } = options;
  const { store, feed, access, cipher, logs, packages, builder } = foundation;
  const secrets = new SecretService({
    secrets: store.secrets,
    functions: store.functions,
    cipher,
    clock,
    feed,
    triggersUsing: async (secret) =>
      (await store.triggers.listTriggers()).filter((t) => SOURCE_KINDS.get(t.type)?.secretNames(t.settings).includes(secret)).map((t) => t.name),
  });
  const service = new FunctionService({
    functions: store.functions,
    secrets: store.secrets,
    packages,
    builder,
    feed,
    clock,
    check: (candidate) => instances.check(candidate),
    networkPolicies: instances.networkPolicies,
    hostNetworkRefusal: hostNetworkRefusal(host, options.allowHostNetwork),
    sandboxName: instances.sandboxName,
  });
  const secretEnv = new SecretEnv({ secrets: store.secrets, cipher });
  const triggers = new TriggerService({
    triggers: store.triggers,
    functions: store.functions,
    secrets: store.secrets,
    secretValues: (names) => secretEnv.values(names),
    kinds: SOURCE_KINDS,
    feed,
    clock,
  });
  const views = new FunctionViews({ status: (name) => instances.status(name), instanceLimits: options.instanceLimits, defaultAuth: access.defaultAuth, domain });
  const extraRoutes = [
    ...authRoutes({ tokens: access.tokens, keys: access.keys, service }),
    ...invocationRoutes({ invocations: store.invocations, deadLetters: asyncRole.deadLetters, service, history: historyRole.history, clock, logs }),
    ...usageRoutes({ history: historyRole.history, prices: options.prices, clock }),
    ...statsRoutes({ stats: historyRole.stats, functionNames: historyRole.functionNames, clock }),
    ...triggerRoutes(triggers),
  ];
  const authorize = apiAuthorizer(access.tokens, authFailures);
  const handle = createApi({ service, views, packages, packageLimits: options.packageLimits, maxBodyBytes: options.maxBodyBytes, logs, secrets, clock, serverUrl, onInternalError, authorize, extraRoutes });
  return { handle, service, secrets, triggers, authorize };
}

/** Why network `host` is refused on a platform listening on `host`; undefined when it is allowed. */
function hostNetworkRefusal(host: string, allowed: boolean): string | undefined {
  if (allowed || isLoopbackHost(host)) return undefined;
  return `network "host" is refused: this platform listens on ${host}, and a function on the host's network reaches every service on this machine's loopback. Start it with --allow-host-network to allow it, or deploy with network "outbound".`;
}
