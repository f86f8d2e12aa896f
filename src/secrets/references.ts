import { NimbusError } from '../core/errors.js';
import type { SecretRepository } from '../store/types.js';

/**
 * Checks the secrets a deploy asks for: each must exist (UNKNOWN_SECRET), and none may share its
 * name with an env variable of the same function (INVALID_REQUEST), since both become environment
 * variables and one would silently win. `env` and `secrets` are the merged settings the new
 * version will have. Both errors name the field `secrets`.
 */
export async function checkSecretReferences(store: Pick<SecretRepository, 'listSecrets'>, env: Record<string, string>, secrets: string[]): Promise<void> {
  if (secrets.length === 0) return;
  const clash = secrets.find((name) => Object.hasOwn(env, name));
  if (clash !== undefined) {
    throw new NimbusError('INVALID_REQUEST', `secrets: ${clash} is also set in env; a variable comes either from env or from a secret. Remove one of them.`, {
      details: { field: 'secrets' },
    });
  }
  const existing = new Set((await store.listSecrets()).map((s) => s.name));
  const missing = secrets.find((name) => !existing.has(name));
  if (missing !== undefined) {
    throw new NimbusError('UNKNOWN_SECRET', `secrets: no secret named ${missing} exists. Set it first with: nimbus secret set ${missing}`, {
      details: { field: 'secrets', secret: missing },
    });
  }
}
