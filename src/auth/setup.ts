import type { ChangeFeed } from '../control/change-feed.js';
import type { Clock } from '../core/clock.js';
import { defaultInvokeAuth, type InvokeAuth } from '../core/invoke-auth.js';
import type { AuthRepository } from '../store/auth-types.js';
import { type AdminToken, ensureAdminToken } from './admin-token.js';
import { InvokeKeyCheck } from './invoke-key-check.js';
import { InvokeKeys } from './invoke-keys.js';
import { TokenService } from './token-service.js';

/** The access control parts the composition root wires in. */
export interface AccessControl {
  tokens: TokenService;
  /** Invoke keys as the API manages them. */
  keys: InvokeKeys;
  /** The gateway's check of invoke keys; follows `keys.changed` and `function.removed` on the change feed. */
  keyCheck: InvokeKeyCheck;
  adminToken: AdminToken;
  /** Auth of functions deployed without one. */
  defaultAuth: InvokeAuth;
}

/**
 * Sets up access control for a platform listening on `host`: the admin token file (created on
 * first start), API tokens, and invoke keys with the default auth for that host unless given.
 * Key changes are published on `feed`.
 */
export async function setupAccessControl(options: {
  auth: AuthRepository;
  feed: Pick<ChangeFeed, 'publish'>;
  clock: Clock;
  dataDir: string;
  host: string;
  defaultAuth?: InvokeAuth | undefined;
}): Promise<AccessControl> {
  const { auth, feed, clock } = options;
  const defaultAuth = options.defaultAuth ?? defaultInvokeAuth(options.host);
  return {
    tokens: new TokenService({ tokens: auth, clock }),
    keys: new InvokeKeys({ keys: auth, clock, feed }),
    keyCheck: new InvokeKeyCheck({ keys: auth, defaultAuth }),
    adminToken: await ensureAdminToken(options.dataDir, auth, clock.now()),
    defaultAuth,
  };
}
