import { parseDuration } from '../core/duration.js';
import { NimbusError } from '../core/errors.js';

/** The longest span a relative time may reach back (the ledger keeps 400 days; a little more is harmless). */
const MAX_BACK_MS = 3660 * 86_400_000;

/**
 * A point in time from a query parameter: an ISO 8601 timestamp (`2026-12-01T00:00:00Z`, or a
 * date `2026-12-01`, UTC midnight), or a duration back from `now` (`30m`, `12h`, `30d`).
 * INVALID_REQUEST naming the parameter otherwise. Undefined when absent or empty.
 */
export function timeParam(params: URLSearchParams, field: string, now: number): number | undefined {
  const text = params.get(field);
  if (text === null || text === '') return undefined;
  // A bare number is seconds to parseDuration; here it would more likely be a mistaken epoch: refused.
  if (/^\d+(\.\d+)?$/.test(text)) throw invalidTime(field, text);
  if (/^\d+(\.\d+)?\s*[a-z]+$/i.test(text)) {
    const back = parseDuration(text);
    if (back === undefined || back > MAX_BACK_MS) throw invalidTime(field, text);
    return now - back;
  }
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(at)) throw invalidTime(field, text);
  return at;
}

function invalidTime(field: string, text: string): NimbusError {
  return new NimbusError('INVALID_REQUEST', `${field}: ${JSON.stringify(text.slice(0, 60))} is neither an ISO timestamp (2026-12-01T00:00:00Z) nor a duration back from now (30m, 12h, 30d)`, {
    details: { field },
  });
}
