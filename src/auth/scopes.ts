import type { Scope } from '../core/scope.js';

/**
 * Kept for src/cli/commands/tokens.ts, which imports SCOPES from here: the CLI moves to the public
 * wire types (issue 11, item 7), then this re-export goes.
 */
export { SCOPES, type Scope, scopeAllows } from '../core/scope.js';

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
