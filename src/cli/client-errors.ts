import { ERROR_HEADER, type ErrorBody } from '../api/wire.js';
import type { RawResponse } from './client.js';

/**
 * The errors the CLI's client raises, and how low-level failures are explained: the platform's
 * own errors decoded, unreachable platforms, broken connections and TLS problems in one sentence.
 */

/** An error the platform answered with: `{"error":{"code","message"}}` (or an undecodable body). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The platform could not be reached at all (refused, unknown host, reset before answering). */
export class UnreachableError extends Error {
  readonly url: string;
  readonly reason: string | undefined;

  constructor(url: string, reason?: string, options?: { cause?: unknown }) {
    const why = reason && reason !== 'ECONNREFUSED' ? ` (${reason})` : '';
    super(`Cannot reach Nimbus at ${url}${why}. Start it with \`nimbus up\` or set --url/NIMBUS_URL.`, options);
    this.name = 'UnreachableError';
    this.url = url;
    this.reason = reason;
  }
}

/** The connection dropped after the request was sent (the platform stopped or a proxy cut it). */
export class ConnectionLostError extends Error {
  readonly url: string;
  readonly reason: string | undefined;

  constructor(url: string, reason?: string, options?: { cause?: unknown }) {
    super(`Lost the connection to Nimbus at ${url} before the answer was complete${reason ? ` (${reason})` : ''}.`, options);
    this.name = 'ConnectionLostError';
    this.url = url;
    this.reason = reason;
  }
}

/** TLS went wrong: an https URL for an http server, or a certificate this machine does not trust. */
export class TlsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsError';
  }
}

/** Certificate errors of Node's TLS, by code. */
const CERT_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** One plain sentence for a TLS failure, or undefined when `err` is none. */
function tlsProblem(err: unknown, baseUrl: string): string | undefined {
  const code = (err as { code?: unknown } | null)?.code ?? (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code !== 'string') return undefined;
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return `The server at ${baseUrl} does not speak HTTPS: use ${baseUrl.replace(/^https:/, 'http:')} instead (nimbus up serves plain HTTP; TLS is for a proxy in front of it).`;
  }
  if (CERT_ERRORS.has(code)) {
    return `The TLS certificate of ${baseUrl} is not trusted here (${code}): add its CA with NODE_EXTRA_CA_CERTS=<ca.pem>, or reach the platform by the name its certificate is for.`;
  }
  return undefined;
}

/** Codes meaning the platform was never reached. */
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Codes meaning an open connection broke. */
const LOST_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function networkCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof e.code === 'string' && (CONNECT_ERRORS.has(e.code) || LOST_ERRORS.has(e.code))) return e.code;
    if (Array.isArray(e.errors)) {
      for (const inner of e.errors) {
        const code = networkCode(inner);
        if (code) return code;
      }
    }
    current = e.cause;
  }
  return undefined;
}

/**
 * Turns a low-level network error into one that says what happened (platform unreachable, or
 * connection lost); other errors are returned as they are.
 */
export function explainNetworkError(err: unknown, baseUrl: string): unknown {
  if (err instanceof UnreachableError || err instanceof ConnectionLostError || err instanceof TlsError) return err;
  const tls = tlsProblem(err, baseUrl);
  if (tls) return new TlsError(tls, { cause: err });
  const code = networkCode(err);
  if (code === undefined) return err;
  if (CONNECT_ERRORS.has(code)) return new UnreachableError(baseUrl, code, { cause: err });
  return new ConnectionLostError(baseUrl, code, { cause: err });
}

/** Reads an error response into an ApiError, whatever its body looks like. */
export async function decodeError(res: RawResponse): Promise<ApiError> {
  let text = '';
  try {
    text = await res.body.text();
  } catch {
    // the body is only a hint; the status still says what happened
  }
  const headerCode = res.headers[ERROR_HEADER];
  try {
    // Decoded defensively: whatever answered may not be Nimbus, or a newer one.
    const parsed = JSON.parse(text) as { error?: { [K in keyof ErrorBody['error']]?: unknown } };
    const e = parsed.error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      const details = e.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : undefined;
      return new ApiError(res.status, e.code, e.message, details);
    }
  } catch {
    // not JSON: fall through
  }
  if (typeof headerCode !== 'string') {
    // Every error Nimbus makes has a JSON body or the header: this server is something else.
    return new ApiError(res.status, 'NOT_NIMBUS', `The server answered ${res.status} ${res.statusText}, but not as Nimbus does: check that --url (or NIMBUS_URL, or nimbus login) points at a Nimbus platform.`);
  }
  const snippet = text.trim().slice(0, 300);
  return new ApiError(res.status, headerCode, `${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`);
}
