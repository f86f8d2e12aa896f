import { isIP } from 'node:net';
import type { InvokeAuth } from '../api/wire.js';

// The modes and headers are part of the API: declared with its wire types, re-exported here.
export { CALLER_TOKEN_HEADER, INVOKE_AUTH_MODES, type InvokeAuth, INVOKE_KEY_HEADER } from '../api/wire.js';

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
