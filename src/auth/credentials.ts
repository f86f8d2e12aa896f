import { createHash, randomBytes } from 'node:crypto';

/**
 * Secrets the platform hands out: API tokens (`nmb_…`) and invoke keys (`nmk_…`). The prefixes
 * make a leaked value recognisable (secret scanners, logs) and tell the two kinds apart.
 */
export const TOKEN_PREFIX = 'nmb_';
export const INVOKE_KEY_PREFIX = 'nmk_';

/** 32 random bytes in base64url: 43 characters. */
const SECRET_BYTES = 32;
const SECRET_BODY = /^[A-Za-z0-9_-]{43}$/;

/** A new API token: `nmb_` and 256 random bits. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

/** A new invoke key: `nmk_` and 256 random bits. */
export function newInvokeKey(): string {
  return INVOKE_KEY_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

/** True when `value` has the shape of a secret with this prefix (not whether it is valid). */
export function isWellFormed(value: string, prefix: string): boolean {
  return value.startsWith(prefix) && SECRET_BODY.test(value.slice(prefix.length));
}

/**
 * The stored form of a token or key: hex sha256. The secrets are 256 random bits, so a fast hash
 * is enough: a slow KDF (bcrypt, scrypt) protects guessable passwords, and nothing here can be
 * guessed. Looking a secret up by its hash is also what keeps the check constant-time with respect
 * to the secret: what an index comparison could leak is about the hash, which does not help to
 * find a preimage.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A short public id such as `tok_3f9a0c1d2b4e` (not secret: shown in lists, used to revoke). */
export function newId(prefix: 'tok' | 'key'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
