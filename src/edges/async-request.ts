import type { IncomingHttpHeaders } from 'node:http';
import {
  CALLBACK_URL_HEADER,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  OPENFAAS_CALLBACK_URL_HEADER,
  PREFER_HEADER,
} from '../api/wire.js';
import { NimbusError } from '../core/errors.js';

/** Longest callback URL accepted. */
const CALLBACK_URL_MAX_LENGTH = 2048;

/**
 * One preference of RFC 7240: a token, an optional `= value` (token or quoted string), and
 * optional `; parameters`. Used only to refuse a malformed header that asks for respond-async.
 */
const PREFERENCE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*=\s*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\]|\\.)*"))?(?:\s*;\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*=\s*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\]|\\.)*"))?)*$/;

/**
 * Whether the request asks to be run asynchronously with `Prefer: respond-async`. Headers that
 * do not mention respond-async are the function's business and pass untouched.
 * @throws NimbusError INVALID_PREFER when a Prefer header mentions respond-async but is malformed.
 */
export function prefersAsync(headers: IncomingHttpHeaders): boolean {
  const raw = joined(headers[PREFER_HEADER]);
  if (raw === undefined) return false;
  // The header as nearly every async caller sends it: nothing to parse (this runs on every accept).
  if (raw === 'respond-async') return true;
  if (!/respond-async/i.test(raw)) return false;
  let asked = false;
  for (const part of raw.split(',')) {
    const preference = part.trim();
    if (preference === '') continue;
    if (!PREFERENCE.test(preference)) {
      throw new NimbusError('INVALID_PREFER', `The Prefer header is not well-formed (RFC 7240): ${JSON.stringify(raw.slice(0, 200))}. Send "Prefer: respond-async".`, {
        details: { field: PREFER_HEADER },
      });
    }
    if (/^respond-async(?:\s*;|$)/i.test(preference)) asked = true;
  }
  return asked;
}

/** The async options a caller set in headers. */
export interface AsyncRequestOptions {
  idempotencyKey?: string;
  callbackUrl?: string;
}

/**
 * Reads `Idempotency-Key` and the callback URL (`x-nimbus-callback-url`, or OpenFaaS's
 * `X-Callback-Url`). `callbackAllowed` says whether the platform may call the URL's host.
 * @throws NimbusError INVALID_IDEMPOTENCY_KEY, INVALID_CALLBACK_URL or CALLBACK_HOST_NOT_ALLOWED.
 */
export function asyncRequestOptions(headers: IncomingHttpHeaders, rawHeaders: readonly string[], callbackAllowed: (url: URL) => boolean): AsyncRequestOptions {
  const options: AsyncRequestOptions = {};
  const key = joined(headers[IDEMPOTENCY_KEY_HEADER]);
  if (key !== undefined) options.idempotencyKey = idempotencyKey(key, rawHeaders);
  const callback = joined(headers[CALLBACK_URL_HEADER] ?? headers[OPENFAAS_CALLBACK_URL_HEADER]);
  if (callback !== undefined) options.callbackUrl = callbackUrl(callback, callbackAllowed);
  return options;
}

/** A header's value as one string (node joins repeats of most headers with ", " already). */
function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function idempotencyKey(value: string, rawHeaders: readonly string[]): string {
  // Node joins repeated unknown headers with ", ": two keys would silently become one new key.
  const sent = rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === IDEMPOTENCY_KEY_HEADER).length;
  const problem =
    sent > 1
      ? 'is sent more than once'
      : value.length === 0
        ? 'is empty'
        : value.length > IDEMPOTENCY_KEY_MAX_LENGTH
          ? `is longer than ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`
          : /^[\x20-\x7e]+$/.test(value)
            ? undefined
            : 'has characters other than printable ASCII';
  if (problem) {
    throw new NimbusError('INVALID_IDEMPOTENCY_KEY', `The Idempotency-Key header ${problem}; send one key of 1-${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters (a UUID is a good choice).`, {
      details: { field: IDEMPOTENCY_KEY_HEADER },
    });
  }
  return value;
}

function callbackUrl(value: string, allowed: (url: URL) => boolean): string {
  const invalid = (why: string) =>
    new NimbusError('INVALID_CALLBACK_URL', `The callback URL ${why}: ${JSON.stringify(value.slice(0, 200))}. Send an absolute http:// or https:// URL.`, {
      details: { field: CALLBACK_URL_HEADER },
    });
  if (value.length > CALLBACK_URL_MAX_LENGTH) throw invalid(`is longer than ${CALLBACK_URL_MAX_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('is not http or https');
  if (url.username !== '' || url.password !== '') throw invalid('must not carry credentials (they would be stored and logged)');
  if (!allowed(url)) {
    throw new NimbusError('CALLBACK_HOST_NOT_ALLOWED', `Callbacks to ${url.host} are not allowed on this platform (nimbus up --callback-hosts lists where they may go).`, {
      details: { field: CALLBACK_URL_HEADER },
    });
  }
  return url.href;
}
