import { CPU_TIME_HEADER } from '../core/runtime-protocol.js';

/** Connection-scoped headers that a proxy must not forward (RFC 9110 section 7.6.1). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * The instance's response headers minus hop-by-hop ones and the runtime's CPU report (read by the
 * invoker, never shown to the caller), ready for `writeHead`.
 */
export function downstreamHeaders(source: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name in source) {
    const value = source[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name === CPU_TIME_HEADER) continue;
    headers[name] = value;
  }
  return headers;
}
