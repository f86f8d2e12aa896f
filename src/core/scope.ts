/**
 * What an API token may do. Each scope includes the ones before it:
 * - `read`: GET on the API (functions, logs);
 * - `deploy`: read, plus uploading packages, deploying and removing functions, and managing
 *   the functions' invoke keys;
 * - `admin`: everything, including API token management and setting or removing secrets
 *   (their names and metadata are readable with `read`; values never are).
 *
 * In core because the store keeps a token's scope and the API routes declare the scope they
 * need: neither should depend on the other, nor on auth.
 */
export const SCOPES = ['read', 'deploy', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** True when a token of scope `have` may do what needs `need`. */
export function scopeAllows(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}
