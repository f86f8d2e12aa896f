import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { HOP_BY_HOP } from '../gateway/headers.js';

/**
 * Headers for the function from an HTTP request: the client's, minus hop-by-hop ones and any
 * `x-nimbus-*` (clients must not set platform headers, e.g. a later deadline), plus forwarding
 * headers. The invoker adds the platform's own.
 */
export function forwardedHeaders(req: IncomingMessage, functionName: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const source: IncomingHttpHeaders = req.headers;
  for (const name in source) {
    const value = source[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('x-nimbus-')) continue;
    headers[name] = value;
  }
  const client = req.socket.remoteAddress ?? '';
  const forwardedFor = source['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${client}` : client;
  headers['x-forwarded-proto'] ??= 'http';
  // Host is passed on unchanged, so it needs no x-forwarded-host copy.
  headers['x-forwarded-prefix'] = `/fn/${functionName}`;
  return headers;
}
