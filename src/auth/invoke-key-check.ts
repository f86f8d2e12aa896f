import { NimbusError } from '../core/errors.js';
import { INVOKE_KEY_HEADER, type InvokeAuth } from '../core/invoke-auth.js';
import type { InvokeKeyRepository } from '../store/auth-types.js';
import type { FunctionRecord } from '../store/types.js';
import { hashSecret, INVOKE_KEY_PREFIX, isWellFormed } from './credentials.js';

/**
 * The gateway's check of invoke keys. It reads the hashes of a function's valid keys from memory:
 * they are loaded once per function and dropped (`forget`) whenever the change feed says its keys
 * changed or the function was removed.
 */
export class InvokeKeyCheck {
  private readonly valid = new Map<string, Set<string>>();
  /** Bumped on every change of a function's keys, so a load that raced with one is not kept. */
  private readonly changes = new Map<string, number>();

  constructor(private readonly deps: { keys: Pick<InvokeKeyRepository, 'listInvokeKeys'>; defaultAuth: InvokeAuth }) {}

  /** The auth a function has: its own setting, else the platform's default. */
  modeOf(record: FunctionRecord): InvokeAuth {
    return record.spec.auth ?? this.deps.defaultAuth;
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
    const keys = await this.deps.keys.listInvokeKeys(functionName);
    const hashes = new Set(keys.filter((k) => k.revokedAt === undefined).map((k) => k.hash));
    if ((this.changes.get(functionName) ?? 0) === seen) this.valid.set(functionName, hashes);
    return hashes;
  }
}
