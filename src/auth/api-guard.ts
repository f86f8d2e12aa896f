import type { IncomingMessage } from 'node:http';
import { NimbusError } from '../core/errors.js';
import { type Scope, scopeAllows } from '../core/scope.js';
import type { TokenRecord } from '../store/auth-types.js';
import { clientAddress, type FailureLimiter } from './failure-limiter.js';
import type { TokenService } from './token-service.js';

/** The token each authenticated request came with (for `GET /api/v1/whoami`). */
const callers = new WeakMap<IncomingMessage, TokenRecord>();

/** The token an API request was authenticated with; undefined on open paths. */
export function callerOf(req: IncomingMessage): TokenRecord | undefined {
  return callers.get(req);
}

const REALM = 'Bearer realm="nimbus"';

/** Lets an API request through when its caller may do what needs `scope`; throws the error to answer otherwise. */
export type ApiAuthorizer = (req: IncomingMessage, scope: Scope) => Promise<void>;

/**
 * Puts the management API behind bearer tokens: no token is 401 UNAUTHENTICATED, an unknown or
 * revoked one 401 INVALID_TOKEN, a token whose scope is too small 403 FORBIDDEN naming the scope
 * needed (the `www-authenticate` headers follow RFC 6750). The scope each request needs is the one
 * its route declares (src/api/route-table.ts). Tokens are looked up on every request, so a revoke
 * is immediate. With `failures`, a client address past its allowance of unknown tokens gets 429
 * AUTH_RATE_LIMITED with `Retry-After` instead of 401 INVALID_TOKEN.
 */
export function apiAuthorizer(tokens: TokenService, failures?: FailureLimiter): ApiAuthorizer {
  return async (req, needed) => {
    const presented = bearerToken(req.headers.authorization);
    if (presented === undefined) {
      throw new NimbusError('UNAUTHENTICATED', 'The management API needs a token: send "Authorization: Bearer <token>". The admin token is in <data-dir>/admin.token on the machine running Nimbus.', {
        headers: { 'www-authenticate': REALM },
      });
    }
    const token = await tokens.authenticate(presented);
    if (!token) {
      // Counted only on failure, after the lookup: a correct token is never slowed or refused.
      const retryAfter = failures?.fail(clientAddress(req.socket.remoteAddress)) ?? 0;
      if (retryAfter > 0) {
        throw new NimbusError('AUTH_RATE_LIMITED', `Too many failed authentication attempts from this address; retry in ${retryAfter} s with a valid token.`, {
          headers: { 'retry-after': String(retryAfter) },
        });
      }
      throw new NimbusError('INVALID_TOKEN', 'The bearer token is unknown or was revoked. Ask an admin for a new one (nimbus tokens create), or use <data-dir>/admin.token.', {
        headers: { 'www-authenticate': `${REALM}, error="invalid_token"` },
      });
    }
    if (!scopeAllows(token.scope, needed)) {
      const { pathname } = new URL(req.url ?? '/', 'http://nimbus.invalid');
      throw new NimbusError('FORBIDDEN', `${req.method ?? 'GET'} ${pathname} needs a token with scope "${needed}"; this token ("${token.name}") has scope "${token.scope}".`, {
        details: { requiredScope: needed, scope: token.scope },
        headers: { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="${needed}"` },
      });
    }
    callers.set(req, token);
  };
}

/** The token of an `Authorization: Bearer <token>` header; undefined for none or another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}
