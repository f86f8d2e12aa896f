/**
 * What an API token may do. Each scope includes the ones before it:
 * - `read`: GET on the API (functions, logs);
 * - `deploy`: read, plus uploading packages, deploying and removing functions, and managing
 *   the functions' invoke keys;
 * - `admin`: everything, including API token management and setting or removing secrets
 *   (their names and metadata are readable with `read`; values never are).
 */
export const SCOPES = ['read', 'deploy', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** True when a token of scope `have` may do what needs `need`. */
export function scopeAllows(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

/** API paths that need no token: the API description (it holds nothing about this platform). */
const OPEN_PATHS = new Set(['/api/v1/openapi.json']);

/** Writes a deploy token may make; any other write needs admin. */
const DEPLOY_WRITES: Array<{ methods: string[]; pattern: RegExp }> = [
  { methods: ['POST'], pattern: /^\/api\/v1\/packages$/ },
  { methods: ['PUT', 'DELETE'], pattern: /^\/api\/v1\/functions\/[^/]+$/ },
];

/** Invoke keys are credentials: even listing them (without their values) needs deploy. */
const INVOKE_KEYS = /^\/api\/v1\/functions\/[^/]+\/keys(?:\/[^/]+)?$/;

/**
 * The scope an API request needs, or `null` for the open paths. Writes not listed here need
 * admin, so a route added later is closed until it is given a scope on purpose.
 */
export function requiredScope(method: string, pathname: string): Scope | null {
  if (OPEN_PATHS.has(pathname)) return null;
  if (pathname === '/api/v1/tokens' || pathname.startsWith('/api/v1/tokens/')) return 'admin';
  if (INVOKE_KEYS.test(pathname)) return 'deploy';
  if (method === 'GET' || method === 'HEAD') return 'read';
  if (DEPLOY_WRITES.some((w) => w.methods.includes(method) && w.pattern.test(pathname))) return 'deploy';
  return 'admin';
}
