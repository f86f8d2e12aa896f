import type { Clock } from '../core/clock.js';
import type { SecretView } from '../api/wire.js';
import { NimbusError } from '../core/errors.js';
import { assertSecretName, checkSecretValue } from '../core/secret-rules.js';
import type { FunctionRecord, SecretRecord, Store } from '../store/types.js';
import type { SecretCipher } from './cipher.js';

export type { SecretView } from '../api/wire.js';

export interface SecretServiceDeps {
  store: Store;
  cipher: SecretCipher;
  clock: Clock;
  /**
   * Replaces the running instances of a function: they finish what they serve and stop, and new
   * requests start instances that read the secrets afresh.
   */
  recycle(functionName: string): void;
}

/**
 * The control plane's secret operations. Values go in once, are sealed before they reach the
 * store, and come out only as environment variables of starting instances (`envFor`): nothing
 * here answers, logs or puts a value into an error message.
 */
export class SecretService {
  constructor(private readonly deps: SecretServiceDeps) {}

  /**
   * Creates the secret or replaces its value. Running instances of the functions using it are
   * replaced, so the new value takes effect for the next request rather than the next cold start.
   */
  async set(name: string, value: Uint8Array): Promise<{ view: SecretView; created: boolean }> {
    assertSecretName(name);
    checkSecretValue(value);
    const sealed = this.deps.cipher.seal(name, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    const record = await this.deps.store.putSecret(name, sealed, this.deps.clock.now());
    const users = (await this.usage()).get(name) ?? [];
    for (const fn of users) this.deps.recycle(fn);
    return { view: toView(record, users), created: record.version === 1 };
  }

  /** All secrets, ordered by name. */
  async list(): Promise<SecretView[]> {
    const usage = await this.usage();
    return (await this.deps.store.listSecrets()).map((record) => toView(record, usage.get(record.name) ?? []));
  }

  async get(name: string): Promise<SecretView> {
    assertSecretName(name);
    const stored = await this.deps.store.getSecret(name);
    if (!stored) throw notFound(name);
    const { sealed: _sealed, ...record } = stored;
    return toView(record, (await this.usage()).get(name) ?? []);
  }

  /**
   * Removes the secret. Refused with SECRET_IN_USE while a function's current version uses it:
   * its next instance could not start. Deploy those functions without it first.
   */
  async remove(name: string): Promise<void> {
    assertSecretName(name);
    const users = (await this.usage()).get(name) ?? [];
    if (users.length > 0) {
      throw new NimbusError(
        'SECRET_IN_USE',
        `The secret ${name} is used by ${users.join(', ')}. First deploy ${users.length === 1 ? 'that function' : 'those functions'} with a list of secrets that leaves it out (nimbus deploy … --secret OTHER, or --no-secrets), or remove ${users.length === 1 ? 'it' : 'them'}.`,
        { details: { functions: users } },
      );
    }
    if (!(await this.deps.store.deleteSecret(name))) throw notFound(name);
  }

  /**
   * The decrypted secrets of a function version, as environment variables, for an instance that
   * is starting. Rejects with SECRET_DECRYPT_FAILED, or FUNCTION_START_FAILED when a secret is gone.
   */
  async envFor(record: FunctionRecord): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const name of record.spec.secrets ?? []) {
      const stored = await this.deps.store.getSecret(name);
      if (!stored) {
        throw new NimbusError('FUNCTION_START_FAILED', `"${record.spec.name}" uses the secret ${name}, which no longer exists. Set it with: nimbus secret set ${name}`);
      }
      env[name] = this.deps.cipher.open(name, stored.sealed).toString('utf8');
    }
    return env;
  }

  /** Secret name → names of the functions whose current version uses it. */
  private async usage(): Promise<Map<string, string[]>> {
    const usage = new Map<string, string[]>();
    for (const fn of await this.deps.store.listFunctions()) {
      for (const name of fn.spec.secrets ?? []) usage.set(name, [...(usage.get(name) ?? []), fn.spec.name]);
    }
    return usage;
  }
}

function toView(record: SecretRecord, functions: string[]): SecretView {
  return {
    name: record.name,
    version: record.version,
    functions,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}

function notFound(name: string): NimbusError {
  return new NimbusError('SECRET_NOT_FOUND', `No secret named ${name} exists. See the list with: nimbus secret ls`);
}
