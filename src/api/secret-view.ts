import type { SecretUsage } from '../control/secret-service.js';

/** A secret as the API shows it: metadata and who uses it, never the value. */
export interface SecretView {
  name: string;
  /** Starts at 1; grows by one each time the value is replaced. */
  version: number;
  /** Functions whose current version uses the secret, ordered by name. */
  functions: string[];
  createdAt: string;
  updatedAt: string;
}

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
