import { isIP } from 'node:net';

/**
 * Who may invoke a function: `public` (anyone who can reach the gateway) or `key` (callers that
 * send one of the function's invoke keys in the `x-nimbus-key` header).
 */
export const INVOKE_AUTH_MODES = ['public', 'key'] as const;
export type InvokeAuth = (typeof INVOKE_AUTH_MODES)[number];

/** The request header that carries an invoke key. */
export const INVOKE_KEY_HEADER = 'x-nimbus-key';

/**
 * The request header in which an invocation's caller may present an API token, to get the full
 * reason of a failure in the response. A header of its own rather than `Authorization`, which
 * belongs to the function: client `x-nimbus-*` headers are never forwarded, so the token never
 * reaches the function's code.
 */
export const CALLER_TOKEN_HEADER = 'x-nimbus-token';

/** True when `host` can only be reached from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

/**
 * The invoke auth of functions deployed without an explicit `auth`: `public` while the platform
 * listens on loopback only, `key` as soon as it listens where other machines can reach it, so
 * exposing the platform never silently exposes every function.
 */
export function defaultInvokeAuth(host: string): InvokeAuth {
  return isLoopbackHost(host) ? 'public' : 'key';
}
