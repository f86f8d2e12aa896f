import { readFileSync } from 'node:fs';
import type { UidRange } from './uid-pool.js';

/** Where newuidmap and newgidmap read the subordinate ranges of each user (shadow's format). */
export const SUBUID_FILE = '/etc/subuid';
export const SUBGID_FILE = '/etc/subgid';

/** A user, as the subordinate id files may name it: by login name or by number. */
export interface SubidOwner {
  name: string;
  id: number;
}

/**
 * The largest range `owner` holds in the text of /etc/subuid or /etc/subgid (lines
 * `name-or-id:first:count`), or undefined when it holds none. newuidmap accepts any range the
 * file grants; the largest leaves the most instances room.
 */
export function subordinateRange(text: string, owner: SubidOwner): UidRange | undefined {
  let best: UidRange | undefined;
  for (const line of text.split('\n')) {
    const [who, first, count] = line.trim().split(':');
    if (who !== owner.name && who !== String(owner.id)) continue;
    const range = { first: Number(first), count: Number(count) };
    if (!Number.isSafeInteger(range.first) || !Number.isSafeInteger(range.count) || range.first < 0 || range.count <= 0) continue;
    if (!best || range.count > best.count) best = range;
  }
  return best;
}

/** {@link subordinateRange} of a file; undefined when it is missing or unreadable. */
export function readSubordinateRange(file: string, owner: SubidOwner): UidRange | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return subordinateRange(text, owner);
}
