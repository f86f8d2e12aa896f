/**
 * Invocation ids that are UUIDv7 (RFC 9562): their first 48 bits are the Unix time in milliseconds
 * at which they were made, and their text sorts by it. The history finds a sync invocation's record
 * through that time instead of through an index entry of its own (see SqliteHistory).
 */
const HEX = /^[0-9a-f]+$/;

/**
 * The milliseconds a UUIDv7 was made at, or undefined for any other id. Checked by its shape (the
 * dashes, version 7, the variant) and its time digits: this runs once per sync invocation on the
 * history thread, where a full pattern match cost more than the rest of the check.
 */
export function uuidV7Time(id: string): number | undefined {
  if (id.length !== 36 || id[8] !== '-' || id[13] !== '-' || id[14] !== '7' || id[18] !== '-' || id[23] !== '-' || !'89ab'.includes(id[19]!)) return undefined;
  const time = id.slice(0, 8) + id.slice(9, 13);
  return HEX.test(time) ? parseInt(time, 16) : undefined;
}

/** The text every UUIDv7 made at `ms` or later sorts at or after (its time digits, as the id writes them). */
export function uuidV7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}

const DASH = 0x2d;

/** {@link uuidV7Time} of the 36 ASCII bytes of an id at `at` in `bytes`. */
export function uuidV7TimeOfBytes(bytes: Uint8Array, at: number): number | undefined {
  const variant = bytes[at + 19];
  if (bytes[at + 8] !== DASH || bytes[at + 13] !== DASH || bytes[at + 18] !== DASH || bytes[at + 23] !== DASH || bytes[at + 14] !== 0x37) return undefined;
  if (variant !== 0x38 && variant !== 0x39 && variant !== 0x61 && variant !== 0x62) return undefined;
  let time = 0;
  for (let k = 0; k < 13; k++) {
    if (k === 8) continue;
    const digit = hexValue(bytes[at + k]!);
    if (digit < 0) return undefined;
    time = time * 16 + digit;
  }
  return time;
}

/** 0-15 for a lowercase hex digit's byte, else -1. */
function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}
