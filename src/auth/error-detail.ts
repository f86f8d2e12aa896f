import type { IncomingMessage } from 'node:http';
import { CALLER_TOKEN_HEADER } from '../core/invoke-auth.js';
import { scopeAllows } from './scopes.js';
import type { TokenService } from './token-service.js';

/** Decides whether an invocation's caller may see the function's own error text. */
export type ErrorDetailPolicy = (req: IncomingMessage) => Promise<boolean>;

/**
 * Callers that present a valid API token with `read` scope (which can read the function's logs
 * anyway) see the full reason of a failure; everybody does with `exposeErrors` (development).
 * The token is only looked up when an invocation failed, never on the hot path.
 */
export function errorDetailPolicy(tokens: Pick<TokenService, 'authenticate'>, exposeErrors: boolean): ErrorDetailPolicy {
  return async (req) => {
    if (exposeErrors) return true;
    const presented = req.headers[CALLER_TOKEN_HEADER];
    if (typeof presented !== 'string' || presented === '') return false;
    const token = await tokens.authenticate(presented.trim());
    return token !== undefined && scopeAllows(token.scope, 'read');
  };
}
