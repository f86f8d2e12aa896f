import type { IncomingMessage, ServerResponse } from 'node:http';
import { authRoutes } from '../api/auth-routes.js';
import { FunctionViews } from '../api/function-view.js';
import { invocationRoutes } from '../api/invocation-routes.js';
import { createApi } from '../api/routes.js';
import { apiAuthorizer } from '../auth/api-guard.js';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import type { CompiledServerOptions } from '../config/server-options.js';
import { FunctionService } from '../control/function-service.js';
import { SecretService } from '../control/secret-service.js';
import { isLoopbackHost } from '../core/invoke-auth.js';
import type { NetworkPolicy } from '../core/spec.js';
import type { FunctionRecord } from '../store/types.js';
import type { FunctionStatus } from '../scaling/instance-manager.js';
import type { AsyncRole } from './async.js';
import type { Foundation } from './foundation.js';

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
}

/**
 * Starts the API role: the control plane (deploys, secrets; they publish on the change feed) and
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
): ApiRole {
  const { clock, host, domain } = options;
  const { store, feed, access, cipher, logs, packages, builder } = foundation;
  const secrets = new SecretService({ secrets: store.secrets, functions: store.functions, cipher, clock, feed });
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
  const views = new FunctionViews({ status: (name) => instances.status(name), instanceLimits: options.instanceLimits, defaultAuth: access.defaultAuth, domain });
  const extraRoutes = [
    ...authRoutes({ tokens: access.tokens, keys: access.keys, service }),
    ...invocationRoutes({ invocations: store.invocations, deadLetters: asyncRole.deadLetters, service, logs }),
  ];
  const authorize = apiAuthorizer(access.tokens, authFailures);
  const handle = createApi({ service, views, packages, packageLimits: options.packageLimits, maxBodyBytes: options.maxBodyBytes, logs, secrets, clock, serverUrl, onInternalError, authorize, extraRoutes });
  return { handle, service, secrets };
}

/** Why network `host` is refused on a platform listening on `host`; undefined when it is allowed. */
function hostNetworkRefusal(host: string, allowed: boolean): string | undefined {
  if (allowed || isLoopbackHost(host)) return undefined;
  return `network "host" is refused: this platform listens on ${host}, and a function on the host's network reaches every service on this machine's loopback. Start it with --allow-host-network to allow it, or deploy with network "outbound".`;
}
