import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { DEADLINE_HEADER, INVOCATION_ID_HEADER } from '../core/runtime-protocol.js';

/** Connection-scoped headers that a proxy must not forward (RFC 9110 section 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** Headers for the instance: the client's, minus hop-by-hop ones, plus forwarding and platform headers. */
export function upstreamHeaders(
  req: IncomingMessage,
  context: { invocationId: string; deadline: number; functionName: string },
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const source: IncomingHttpHeaders = req.headers;
  for (const name in source) {
    const value = source[name];
    // Clients must not be able to set platform headers (e.g. a later deadline).
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('x-nimbus-')) continue;
    headers[name] = value;
  }
  const client = req.socket.remoteAddress ?? '';
  const forwardedFor = source['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${client}` : client;
  headers['x-forwarded-proto'] ??= 'http';
  // Host is passed on unchanged, so it needs no x-forwarded-host copy.
  headers['x-forwarded-prefix'] = `/fn/${context.functionName}`;
  headers[INVOCATION_ID_HEADER] = context.invocationId;
  headers[DEADLINE_HEADER] = String(context.deadline);
  return headers;
}

/** The instance's response headers minus hop-by-hop ones, ready for `writeHead`. */
export function downstreamHeaders(source: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name in source) {
    const value = source[name];
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers[name] = value;
  }
  return headers;
}
