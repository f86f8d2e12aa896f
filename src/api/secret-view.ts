import type { SecretUsage } from '../control/secret-service.js';
import type { SecretView } from './wire.js';

export type { SecretView } from './wire.js';

/** The API representation of a secret and the functions using it. */
export function secretView({ record, functions }: SecretUsage): SecretView {
  return {
    name: record.name,
    version: record.version,
    functions,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}
