import { NimbusError } from './errors.js';

/**
 * What a secret may be called and hold. A secret reaches its functions as an environment
 * variable of the same name, so names follow the upper-case environment variable convention and
 * values must be text an environment can carry.
 */
export const SECRET_LIMITS = {
  /** Longest name, in characters. */
  nameLength: 128,
  /** Largest value, in bytes (UTF-8). */
  valueBytes: 64 * 1024,
  /** Most secrets one function may use. */
  perFunction: 100,
} as const;

/** Upper-case letters, digits and `_`, not starting with a digit. */
export const SECRET_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

/** Names the runtime uses itself (the shim's socket, and any future platform variable). */
const RESERVED_PREFIX = 'NIMBUS_';

/**
 * Why `name` is not a valid secret name, or undefined when it is. An invalid name is not quoted:
 * it may well be a value pasted where the name goes (`--secret "$TOKEN"`).
 */
export function secretNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > SECRET_LIMITS.nameLength || !SECRET_NAME_PATTERN.test(name)) {
    return `Invalid secret name: use 1-${SECRET_LIMITS.nameLength} upper-case letters, digits or '_', not starting with a digit (e.g. DB_PASSWORD).`;
  }
  if (name.startsWith(RESERVED_PREFIX)) return `Invalid secret name ${name}: names starting with ${RESERVED_PREFIX} are reserved by the platform.`;
  return undefined;
}

/** Throws INVALID_SECRET_NAME (details.field `name`) unless `name` is a valid secret name. */
export function assertSecretName(name: string): void {
  const problem = secretNameProblem(name);
  if (problem) throw new NimbusError('INVALID_SECRET_NAME', problem, { details: { field: 'name' } });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a secret value and answers it as text. Refuses (details.field `value`) an empty value,
 * one over the size limit (413), invalid UTF-8 and NUL bytes, none of which an environment variable
 * can carry. The messages never quote the value.
 */
export function checkSecretValue(value: Uint8Array): string {
  const refuse = (why: string) => new NimbusError('INVALID_REQUEST', `value: ${why}`, { details: { field: 'value' } });
  if (value.length === 0) throw refuse('the value is empty; send the secret as the request body.');
  if (value.length > SECRET_LIMITS.valueBytes) {
    throw new NimbusError('PAYLOAD_TOO_LARGE', `value: a secret is at most ${SECRET_LIMITS.valueBytes} bytes; this one is ${value.length}.`, {
      details: { field: 'value' },
    });
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    throw refuse('the value is not UTF-8 text; environment variables hold text (encode binary data, e.g. as base64).');
  }
  if (text.includes('\0')) throw refuse('the value contains a NUL byte, which an environment variable cannot hold.');
  return text;
}
