import { z } from 'zod';
import type { CreatedToken, TokenView } from '../api/wire.js';
import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import type { TokenRecord, TokenRepository } from '../store/auth-types.js';
import { hashSecret, isWellFormed, newId, newToken, TOKEN_PREFIX } from './credentials.js';
import { type Scope, SCOPES } from '../core/scope.js';
import { credentialName, isoOrNull, parseBody } from './validation.js';

export type { CreatedToken, TokenView } from '../api/wire.js';

/** The body of `POST /api/v1/tokens`. */
const createTokenSchema = z
  .object({
    name: credentialName('token'),
    scope: z.enum(SCOPES, { error: `scope must be one of ${SCOPES.join(', ')}` }),
  })
  .strict();

/** Uses closer together than this are not recorded, so reads do not each cost a write. */
const TOUCH_INTERVAL_MS = 60_000;

/** Management API tokens: create (value shown once), list, revoke, and check a presented one. */
export class TokenService {
  constructor(private readonly deps: { tokens: TokenRepository; clock: Clock }) {}

  async create(body: unknown): Promise<CreatedToken> {
    const { name, scope } = parseBody(createTokenSchema, body);
    const token = newToken();
    const record: TokenRecord = { id: newId('tok'), name, scope, hash: hashSecret(token), createdAt: this.deps.clock.now() };
    await this.deps.tokens.createToken(record);
    return { ...view(record), token };
  }

  async list(): Promise<TokenView[]> {
    return (await this.deps.tokens.listTokens()).map(view);
  }

  /** Revokes a token; requests already authenticated finish, every later one is refused. */
  async revoke(id: string): Promise<void> {
    if (!(await this.deps.tokens.revokeToken(id, this.deps.clock.now()))) {
      throw new NimbusError('TOKEN_NOT_FOUND', `No API token with id "${id.slice(0, 80)}". See the ids with: nimbus tokens ls`);
    }
  }

  /** The valid (known, not revoked) token with this value, or undefined. */
  async authenticate(token: string): Promise<TokenRecord | undefined> {
    if (!isWellFormed(token, TOKEN_PREFIX)) return undefined;
    const record = await this.deps.tokens.findTokenByHash(hashSecret(token));
    if (!record || record.revokedAt !== undefined) return undefined;
    const now = this.deps.clock.now();
    if (record.lastUsedAt === undefined || now - record.lastUsedAt >= TOUCH_INTERVAL_MS) await this.deps.tokens.touchToken(record.id, now);
    return record;
  }
}

function view(record: TokenRecord): TokenView {
  return {
    id: record.id,
    name: record.name,
    scope: record.scope,
    createdAt: new Date(record.createdAt).toISOString(),
    lastUsedAt: isoOrNull(record.lastUsedAt),
    revoked: record.revokedAt !== undefined,
    revokedAt: isoOrNull(record.revokedAt),
  };
}
