import { NimbusError } from '../core/errors.js';
import { type FunctionConfig, type FunctionSpec, LIMITS } from '../core/spec.js';
import type { FunctionRepository } from '../store/types.js';

/** The async settings a function version stores. */
export type AsyncSettings = Pick<FunctionSpec, 'asyncConcurrency' | 'maxRetries' | 'retryDelayMs' | 'maxEventAgeMs' | 'onSuccess' | 'onFailure'>;

/**
 * The async settings of a new version: those the deploy gives, else the previous version's, else
 * the defaults. asyncConcurrency is stored only once a deploy sets it, so its default (half the
 * capacity, see asyncPolicyOf) follows later changes of concurrency and maxInstances. A
 * destination given as null is removed.
 */
export function resolveAsyncSettings(config: FunctionConfig, previous: FunctionSpec | undefined): AsyncSettings {
  const settings: AsyncSettings = {
    maxRetries: config.maxRetries ?? previous?.maxRetries ?? LIMITS.maxRetries.default,
    retryDelayMs: config.retryDelay ?? previous?.retryDelayMs ?? LIMITS.retryDelayMs.default,
    maxEventAgeMs: config.maxEventAge ?? previous?.maxEventAgeMs ?? LIMITS.maxEventAgeMs.default,
  };
  const asyncConcurrency = config.asyncConcurrency ?? previous?.asyncConcurrency;
  if (asyncConcurrency !== undefined) settings.asyncConcurrency = asyncConcurrency;
  // undefined (left out) keeps the previous destination; null removes it.
  const onSuccess = config.onSuccess === undefined ? previous?.onSuccess : config.onSuccess;
  const onFailure = config.onFailure === undefined ? previous?.onFailure : config.onFailure;
  if (typeof onSuccess === 'string') settings.onSuccess = onSuccess;
  if (typeof onFailure === 'string') settings.onFailure = onFailure;
  return settings;
}

/**
 * Refuses destinations the deploy names that could never receive: the function itself (each
 * outcome would invoke it again, without end) or a function that is not deployed. Destinations
 * kept from the previous version are not checked again: the deploy did not ask for them, and the
 * workers deal with a destination removed since.
 *
 * @throws INVALID_REQUEST with `details.field` the offending field.
 */
export async function checkDestinations(name: string, config: FunctionConfig, functions: Pick<FunctionRepository, 'getFunction'>): Promise<void> {
  for (const field of ['onSuccess', 'onFailure'] as const) {
    const destination = config[field];
    if (typeof destination !== 'string') continue;
    if (destination === name) {
      throw new NimbusError('INVALID_REQUEST', `${field}: "${name}" cannot be its own destination (each outcome would invoke it again, without end); name another function, or null for none.`, {
        details: { field },
      });
    }
    if ((await functions.getFunction(destination)) === undefined) {
      throw new NimbusError('INVALID_REQUEST', `${field}: no function named "${destination}" is deployed; deploy it first, then name it as a destination.`, {
        details: { field },
      });
    }
  }
}
