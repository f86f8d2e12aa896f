/**
 * Fair ordering for leases, kept pure so it is tested without a database: partitions take turns,
 * starting after the one served last, and each turn hands out one item per partition.
 */

/**
 * The partitions (sorted) in serving order: those after `last` first, then from the start, so a
 * partition served at the end of one lease call comes last in the next.
 */
export function rotateAfter(sorted: readonly string[], last: string | undefined): string[] {
  if (last === undefined) return [...sorted];
  const start = sorted.findIndex((name) => name > last);
  return start < 0 ? [...sorted] : [...sorted.slice(start), ...sorted.slice(0, start)];
}

/**
 * Up to `max` items taken round-robin from the lists (one from each list per round, in list order),
 * so a long list cannot crowd out a short one.
 */
export function interleave<T>(lists: readonly (readonly T[])[], max: number): T[] {
  const picked: T[] = [];
  for (let round = 0; picked.length < max; round++) {
    let any = false;
    for (const list of lists) {
      const item = list[round];
      if (item === undefined) continue;
      any = true;
      picked.push(item);
      if (picked.length >= max) break;
    }
    if (!any) break;
  }
  return picked;
}
