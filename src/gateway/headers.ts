import { ATTEMPT_HEADER } from '../api/wire.js';
import { CPU_TIME_HEADER, DEADLINE_HEADER, INVOCATION_ID_HEADER } from '../core/runtime-protocol.js';

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

/**
 * The head of a request to an instance as one flat list of names and values (undici's array
 * form): the function's headers, a repeated one as a pair per value, then the platform's (the
 * invocation id, the deadline in epoch ms, and the attempt of an async invocation), which replace
 * any the function's headers held. The function's headers are read, never changed.
 *
 * A list rather than the headers object with the platform's fields added: adding fields to
 * objects of many shapes (every caller's set of headers is one) sent V8 to its slow runtime path
 * for each field, and undici then listed the object's keys the slow way too (a drain's profile).
 */
export function instanceHeaders(headers: Readonly<Record<string, string | string[]>>, invocationId: string, deadline: number, attempt: number | undefined): string[] {
  const list: string[] = [];
  for (const name in headers) {
    if (name === INVOCATION_ID_HEADER || name === DEADLINE_HEADER || name === ATTEMPT_HEADER) continue;
    const value = headers[name]!;
    if (typeof value === 'string') list.push(name, value);
    else for (const each of value) list.push(name, each);
  }
  list.push(INVOCATION_ID_HEADER, invocationId, DEADLINE_HEADER, String(deadline));
  if (attempt !== undefined) list.push(ATTEMPT_HEADER, String(attempt));
  return list;
}
