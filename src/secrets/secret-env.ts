import { NimbusError } from '../core/errors.js';
import type { FunctionRecord, SecretRepository } from '../store/types.js';
import type { SecretCipher } from './cipher.js';

/**
 * Opens the secrets of starting instances: the one place a value leaves the store in the clear,
 * as environment variables of an instance, never in an answer, a log line or an error message.
 */
export class SecretEnv {
  constructor(private readonly deps: { secrets: Pick<SecretRepository, 'getSecret'>; cipher: Pick<SecretCipher, 'open'> }) {}

  /**
   * The decrypted secrets of a function version, as environment variables, for an instance that
   * is starting. Rejects with SECRET_DECRYPT_FAILED, or FUNCTION_START_FAILED when a secret is gone.
   */
  async envFor(record: FunctionRecord): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const name of record.spec.secrets ?? []) {
      const stored = await this.deps.secrets.getSecret(name);
      if (!stored) {
        throw new NimbusError('FUNCTION_START_FAILED', `"${record.spec.name}" uses the secret ${name}, which no longer exists. Set it with: nimbus secret set ${name}`);
      }
      env[name] = this.deps.cipher.open(name, stored.sealed).toString('utf8');
    }
    return env;
  }

  /**
   * The decrypted values of the named secrets, for a trigger's source (its broker URL), which
   * keeps them in memory only. Rejects with SECRET_NOT_FOUND when one is gone.
   */
  async values(names: readonly string[]): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const name of names) {
      const stored = await this.deps.secrets.getSecret(name);
      if (!stored) throw new NimbusError('SECRET_NOT_FOUND', `The secret ${name} no longer exists. Set it with: nimbus secret set ${name}`);
      values[name] = this.deps.cipher.open(name, stored.sealed).toString('utf8');
    }
    return values;
  }
}
