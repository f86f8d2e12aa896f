import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import { assertSecretName, checkSecretValue } from '../core/secret-rules.js';
import type { SecretCipher } from '../secrets/cipher.js';
import type { FunctionRepository, SecretRecord, SecretRepository } from '../store/types.js';
import type { ChangeFeed } from './change-feed.js';

/** A secret's metadata and the functions whose current version uses it (ordered by name). */
export interface SecretUsage {
  record: SecretRecord;
  functions: string[];
}

/** What {@link SecretService} needs. */
export interface SecretServiceDeps {
  secrets: SecretRepository;
  /** Read to tell which functions use a secret. */
  functions: Pick<FunctionRepository, 'listFunctions'>;
  cipher: Pick<SecretCipher, 'seal'>;
  clock: Clock;
  /** Where changed secrets are told (the instances holding the old value follow it). */
  feed: Pick<ChangeFeed, 'publish'>;
  /** Names of the triggers whose settings name the secret (a broker URL); optional. */
  triggersUsing?(secret: string): Promise<string[]>;
}

/**
 * The control plane's secret operations. Values go in once and are sealed before they reach the
 * store; nothing here answers, logs or puts a value into an error message. (Instances get them
 * from src/secrets/secret-env.ts.)
 */
export class SecretService {
  constructor(private readonly deps: SecretServiceDeps) {}

  /**
   * Creates the secret or replaces its value, then publishes `secret.changed`: running instances of
   * the functions using it are replaced, so the new value takes effect for the next request rather
   * than the next cold start.
   */
  async set(name: string, value: Uint8Array): Promise<{ secret: SecretUsage; created: boolean }> {
    assertSecretName(name);
    checkSecretValue(value);
    const sealed = this.deps.cipher.seal(name, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    const record = await this.deps.secrets.putSecret(name, sealed, this.deps.clock.now());
    const functions = (await this.usage()).get(name) ?? [];
    await this.deps.feed.publish({ type: 'secret.changed', name, functions });
    return { secret: { record, functions }, created: record.version === 1 };
  }

  /** All secrets, ordered by name. */
  async list(): Promise<SecretUsage[]> {
    const usage = await this.usage();
    return (await this.deps.secrets.listSecrets()).map((record) => ({ record, functions: usage.get(record.name) ?? [] }));
  }

  async get(name: string): Promise<SecretUsage> {
    assertSecretName(name);
    const stored = await this.deps.secrets.getSecret(name);
    if (!stored) throw notFound(name);
    const { sealed: _sealed, ...record } = stored;
    return { record, functions: (await this.usage()).get(name) ?? [] };
  }

  /**
   * Removes the secret. Refused with SECRET_IN_USE while a function's current version or a
   * trigger uses it: its next instance, or the trigger's source, could not start. Deploy those
   * functions without it (change those triggers) first.
   */
  async remove(name: string): Promise<void> {
    assertSecretName(name);
    const users = (await this.usage()).get(name) ?? [];
    const triggers = (await this.deps.triggersUsing?.(name)) ?? [];
    if (triggers.length > 0) {
      throw new NimbusError(
        'SECRET_IN_USE',
        `The secret ${name} is used by the trigger${triggers.length === 1 ? '' : 's'} ${triggers.join(', ')} (settings.urlSecret). Point ${triggers.length === 1 ? 'it' : 'them'} at another secret or remove ${triggers.length === 1 ? 'it' : 'them'} first (nimbus trigger rm).`,
        { details: { functions: users, triggers } },
      );
    }
    if (users.length > 0) {
      throw new NimbusError(
        'SECRET_IN_USE',
        `The secret ${name} is used by ${users.join(', ')}. First deploy ${users.length === 1 ? 'that function' : 'those functions'} with a list of secrets that leaves it out (nimbus deploy … --secret OTHER, or --no-secrets), or remove ${users.length === 1 ? 'it' : 'them'}.`,
        { details: { functions: users } },
      );
    }
    if (!(await this.deps.secrets.deleteSecret(name))) throw notFound(name);
    await this.deps.feed.publish({ type: 'secret.changed', name, functions: [] });
  }

  /** Secret name → names of the functions whose current version uses it. */
  private async usage(): Promise<Map<string, string[]>> {
    const usage = new Map<string, string[]>();
    for (const fn of await this.deps.functions.listFunctions()) {
      for (const name of fn.spec.secrets ?? []) usage.set(name, [...(usage.get(name) ?? []), fn.spec.name]);
    }
    return usage;
  }
}

function notFound(name: string): NimbusError {
  return new NimbusError('SECRET_NOT_FOUND', `No secret named ${name} exists. See the list with: nimbus secret ls`);
}
