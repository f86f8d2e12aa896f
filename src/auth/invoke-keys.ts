import { z } from 'zod';
import type { CreatedInvokeKey, InvokeKeyView } from '../api/wire.js';
import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import { INVOKE_KEY_HEADER, type InvokeAuth } from '../core/invoke-auth.js';
import type { InvokeKeyRecord } from '../store/auth-types.js';
import type { FunctionRecord, Store } from '../store/types.js';
import { hashSecret, INVOKE_KEY_PREFIX, isWellFormed, newId, newInvokeKey } from './credentials.js';
import { credentialName, isoOrNull, parseBody } from './validation.js';

export type { CreatedInvokeKey, InvokeKeyView } from '../api/wire.js';

/** The body of `POST /api/v1/functions/{name}/keys`. */
const createKeySchema = z.object({ name: credentialName('key').optional() }).strict();

/**
 * Invoke keys: managed through the API, checked by the gateway. The gateway's check reads the
 * hashes of a function's valid keys from memory; they are loaded once per function and dropped
 * whenever its keys change or the function is removed (same process; a clustered control plane
 * will push the same invalidations).
 */
export class InvokeKeys {
  private readonly valid = new Map<string, Set<string>>();
  /** Bumped on every change of a function's keys, so a load that raced with one is not kept. */
  private readonly changes = new Map<string, number>();

  constructor(private readonly deps: { store: Store; clock: Clock; defaultAuth: InvokeAuth }) {}

  /** The auth a function has: its own setting, else the platform's default. */
  modeOf(record: FunctionRecord): InvokeAuth {
    return record.spec.auth ?? this.deps.defaultAuth;
  }

  /** Creates a key for an existing function; the answer is the only time the key is shown. */
  async create(functionName: string, body: unknown): Promise<CreatedInvokeKey> {
    const { name } = parseBody(createKeySchema, body);
    const key = newInvokeKey();
    const record: InvokeKeyRecord = { id: newId('key'), function: functionName, name: name ?? 'default', hash: hashSecret(key), createdAt: this.deps.clock.now() };
    await this.deps.store.createInvokeKey(record);
    this.forget(functionName);
    return { ...view(record), key };
  }

  async list(functionName: string): Promise<InvokeKeyView[]> {
    return (await this.deps.store.listInvokeKeys(functionName)).map(view);
  }

  /** Revokes a key: every invocation that starts after this returns is refused with it. */
  async revoke(functionName: string, id: string): Promise<void> {
    const found = await this.deps.store.revokeInvokeKey(functionName, id, this.deps.clock.now());
    this.forget(functionName);
    if (!found) {
      throw new NimbusError('INVOKE_KEY_NOT_FOUND', `"${functionName}" has no invoke key with id "${id.slice(0, 80)}". See its keys with: nimbus keys ls ${functionName}`);
    }
  }

  /** Drops what is cached about a function's keys (its keys changed, or it was removed). */
  forget(functionName: string): void {
    this.valid.delete(functionName);
    this.changes.set(functionName, (this.changes.get(functionName) ?? 0) + 1);
  }

  /**
   * Checks the key a caller sent for a function with auth `key`: answers the error to send, or
   * undefined when the key opens the function. The key is compared by its hash (see hashSecret).
   */
  async verify(functionName: string, presented: string | string[] | undefined): Promise<NimbusError | undefined> {
    if (presented === undefined || presented === '') {
      return new NimbusError(
        'INVOKE_KEY_REQUIRED',
        `"${functionName}" requires an invoke key: send it in the ${INVOKE_KEY_HEADER} header (create one with: nimbus keys create ${functionName}).`,
        { headers: { 'www-authenticate': `NimbusKey header="${INVOKE_KEY_HEADER}"` } },
      );
    }
    const key = Array.isArray(presented) ? '' : presented.trim();
    if (isWellFormed(key, INVOKE_KEY_PREFIX) && (await this.validHashes(functionName)).has(hashSecret(key))) return undefined;
    return new NimbusError('INVOKE_KEY_INVALID', `The key in ${INVOKE_KEY_HEADER} does not open "${functionName}": it is unknown, revoked, or a key of another function.`);
  }

  private async validHashes(functionName: string): Promise<Set<string>> {
    const cached = this.valid.get(functionName);
    if (cached) return cached;
    const seen = this.changes.get(functionName) ?? 0;
    const keys = await this.deps.store.listInvokeKeys(functionName);
    const hashes = new Set(keys.filter((k) => k.revokedAt === undefined).map((k) => k.hash));
    if ((this.changes.get(functionName) ?? 0) === seen) this.valid.set(functionName, hashes);
    return hashes;
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
