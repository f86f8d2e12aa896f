/**
 * The rows of the results table, shared by the main table (bench/report.ts) and the async one
 * (bench/report-async.ts).
 */
import type { LoadResult } from './load.js';

/** One row of the table: a target measured at one concurrency. */
export interface Row {
  target: string;
  concurrency: number;
  result: LoadResult;
}

/** A number with `digits` decimals, or `-` when there is none. */
export const fixed = (n: number | undefined, digits: number): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

/** The header line of the results table. */
export function tableHeader(): string {
  return `${'target'.padEnd(24)}${'c'.padStart(4)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}  notes`;
}

/** One line of the results table; errors and unexpected answers are flagged, as they void the figures. */
export function tableRow(row: Row): string {
  const { result } = row;
  const notes: string[] = [];
  if (result.non2xx > 0) notes.push(`${result.non2xx} non-2xx!`);
  if (result.unexpected && result.unexpected.count > 0) notes.push(`${result.unexpected.count} not ${result.unexpected.expected}!`);
  if (result.errors > 0) notes.push(`${result.errors} socket errors!`);
  return (
    `${row.target.padEnd(24)}${String(row.concurrency).padStart(4)}` +
    `${fixed(result.requestsPerSecond, 0).padStart(10)}${fixed(result.p50Ms, 2).padStart(9)}` +
    `${fixed(result.p99Ms, 2).padStart(9)}  ${notes.join(', ')}`
  ).trimEnd();
}
