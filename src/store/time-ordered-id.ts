/**
 * Invocation ids that are UUIDv7 (RFC 9562): their first 48 bits are the Unix time in milliseconds
 * at which they were made, and their text sorts by it. The history finds a sync invocation's record
 * through that time instead of through an index entry of its own (see SqliteHistory).
 */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The milliseconds a UUIDv7 was made at, or undefined for any other id. */
export function uuidV7Time(id: string): number | undefined {
  if (id.length !== 36 || !UUID_V7.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** The text every UUIDv7 made at `ms` or later sorts at or after (its time digits, as the id writes them). */
export function uuidV7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}
