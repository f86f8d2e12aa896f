import type { Clock } from '../core/clock.js';
import { defaultInvokeAuth, type InvokeAuth } from '../core/invoke-auth.js';
import type { AuthRepository } from '../store/auth-types.js';
import { type AdminToken, ensureAdminToken } from './admin-token.js';
import { InvokeKeys } from './invoke-keys.js';
import { TokenService } from './token-service.js';

/** The access control parts the composition root wires in. */
export interface AccessControl {
  tokens: TokenService;
  keys: InvokeKeys;
  adminToken: AdminToken;
  /** Auth of functions deployed without one. */
  defaultAuth: InvokeAuth;
}

/**
 * Sets up access control for a platform listening on `host`: the admin token file (created on
 * first start), API tokens, and invoke keys with the default auth for that host unless given.
 */
export async function setupAccessControl(options: { auth: AuthRepository; clock: Clock; dataDir: string; host: string; defaultAuth?: InvokeAuth | undefined }): Promise<AccessControl> {
  const { auth, clock } = options;
  const defaultAuth = options.defaultAuth ?? defaultInvokeAuth(options.host);
  return {
    tokens: new TokenService({ tokens: auth, clock }),
    keys: new InvokeKeys({ keys: auth, clock, defaultAuth }),
    adminToken: await ensureAdminToken(options.dataDir, auth, clock.now()),
    defaultAuth,
  };
}
