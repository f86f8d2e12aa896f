import { z } from 'zod';
import { NimbusError } from '../core/errors.js';

/** Names of tokens and keys: short, printable, safe in a terminal table. */
export const credentialName = (what: string) =>
  z
    .string({ error: `${what} name must be a string` })
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:@/-]{0,63}$/, `${what} name must be 1-64 letters, digits, spaces or . _ : @ / -, starting with a letter or digit`);

/** Validates an API body with `schema`, or throws INVALID_REQUEST naming the field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw new NimbusError('INVALID_REQUEST', `Unknown field(s): ${issue.keys.join(', ')}.`, { details: { field: issue.keys[0] } });
  }
  const field = issue?.path.join('.') || undefined;
  throw new NimbusError('INVALID_REQUEST', `${field ? `${field}: ` : ''}${issue?.message ?? 'invalid request'}`, { details: { field } });
}

/** Epoch milliseconds as the API shows times: ISO strings, null when unset. */
export function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
