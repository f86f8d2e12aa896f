import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { HOP_BY_HOP } from '../gateway/headers.js';

/**
 * Headers for the function from an HTTP request: the client's, minus hop-by-hop ones, any
 * `x-nimbus-*` (clients must not set platform headers, e.g. a later deadline) and `omit` (a
 * header the platform acted on, such as an async request's `prefer`), plus forwarding headers.
 * The invoker adds the platform's own.
 *
 * `omit` is skipped here rather than deleted after: a `delete` turns the object into a slow
 * dictionary, on the path of every async accept.
 */
export function forwardedHeaders(req: IncomingMessage, functionName: string, omit?: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const source: IncomingHttpHeaders = req.headers;
  for (const name in source) {
    const value = source[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('x-nimbus-') || name === omit) continue;
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
