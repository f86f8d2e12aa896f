import { z } from 'zod';
import type { CreatedInvokeKey, InvokeKeyView } from '../api/wire.js';
import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import type { ChangeFeed } from '../control/change-feed.js';
import type { InvokeKeyRecord, InvokeKeyRepository } from '../store/auth-types.js';
import { hashSecret, newId, newInvokeKey } from './credentials.js';
import { credentialName, isoOrNull, parseBody } from './validation.js';

export type { CreatedInvokeKey, InvokeKeyView } from '../api/wire.js';

/** The body of `POST /api/v1/functions/{name}/keys`. */
const createKeySchema = z.object({ name: credentialName('key').optional() }).strict();

/**
 * Invoke keys as the API manages them: create (the key shown once), list, revoke. Each change is
 * published as `keys.changed`, so whatever keeps the function's keys (src/auth/invoke-key-check.ts)
 * drops them, in this process or another.
 */
export class InvokeKeys {
  constructor(private readonly deps: { keys: InvokeKeyRepository; clock: Clock; feed: Pick<ChangeFeed, 'publish'> }) {}

  /** Creates a key for an existing function; the answer is the only time the key is shown. */
  async create(functionName: string, body: unknown): Promise<CreatedInvokeKey> {
    const { name } = parseBody(createKeySchema, body);
    const key = newInvokeKey();
    const record: InvokeKeyRecord = { id: newId('key'), function: functionName, name: name ?? 'default', hash: hashSecret(key), createdAt: this.deps.clock.now() };
    await this.deps.keys.createInvokeKey(record);
    await this.deps.feed.publish({ type: 'keys.changed', function: functionName });
    return { ...view(record), key };
  }

  async list(functionName: string): Promise<InvokeKeyView[]> {
    return (await this.deps.keys.listInvokeKeys(functionName)).map(view);
  }

  /** Revokes a key: every invocation that starts after this returns is refused with it. */
  async revoke(functionName: string, id: string): Promise<void> {
    const found = await this.deps.keys.revokeInvokeKey(functionName, id, this.deps.clock.now());
    if (!found) {
      throw new NimbusError('INVOKE_KEY_NOT_FOUND', `"${functionName}" has no invoke key with id "${id.slice(0, 80)}". See its keys with: nimbus keys ls ${functionName}`);
    }
    await this.deps.feed.publish({ type: 'keys.changed', function: functionName });
  }
}

function view(record: InvokeKeyRecord): InvokeKeyView {
  return {
    id: record.id,
    function: record.function,
    name: record.name,
    createdAt: new Date(record.createdAt).toISOString(),
    revoked: record.revokedAt !== undefined,
    revokedAt: isoOrNull(record.revokedAt),
  };
}
