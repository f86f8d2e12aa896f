import type { IncomingMessage } from 'node:http';
import { CALLER_TOKEN_HEADER } from '../core/invoke-auth.js';
import { clientAddress, type FailureLimiter } from './failure-limiter.js';
import { scopeAllows } from '../core/scope.js';
import type { TokenService } from './token-service.js';

/** Decides whether an invocation's caller may see the function's own error text. */
export type ErrorDetailPolicy = (req: IncomingMessage) => Promise<boolean>;

/**
 * Callers that present a valid API token with `read` scope (which can read the function's logs
 * anyway) see the full reason of a failure; everybody does with `exposeErrors` (development).
 * The token is only looked up when an invocation failed, never on the hot path; unknown tokens
 * count against the caller's address in `failures`.
 */
export function errorDetailPolicy(tokens: Pick<TokenService, 'authenticate'>, exposeErrors: boolean, failures?: FailureLimiter): ErrorDetailPolicy {
  return async (req) => {
    if (exposeErrors) return true;
    const presented = req.headers[CALLER_TOKEN_HEADER];
    if (typeof presented !== 'string' || presented === '') return false;
    // The same failure budget as the management API, or a failing function would be a way to
    // try tokens unlimited. A limited address only loses the detail, never the answer.
    const client = clientAddress(req.socket.remoteAddress);
    if (failures?.limited(client)) return false;
    const token = await tokens.authenticate(presented.trim());
    if (!token) failures?.fail(client);
    return token !== undefined && scopeAllows(token.scope, 'read');
  };
}
