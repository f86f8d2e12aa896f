/** `nimbus usage` output: the table with its total and bill (or the hint to set prices), and CSV. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UsageReport } from '../../src/api/wire.js';
import { formatUsageCsv, formatUsageTable } from '../../src/cli/commands/usage.js';
import { colors } from '../../src/cli/format.js';

const figures = { invocations: 10, errors: 1, gbSeconds: 0.5, cpuSeconds: 0.02, billedMs: 2000, bytesIn: 30, bytesOut: 2048, estimatedCost: 0.000010333 };
const report: UsageReport = {
  since: '2026-11-01T00:00:00.000Z',
  until: '2026-12-01T00:00:00.000Z',
  by: 'function',
  prices: { perMillionRequests: 0.2, perGbSecond: 0.0000166667 },
  rows: [{ key: 'report, "monthly"', ...figures }],
  total: figures,
};

test('the table has a row per key, the total, the span and the estimated bill', () => {
  const text = formatUsageTable(report, colors(false));
  const lines = text.split('\n');
  assert.match(lines[0]!, /^FUNCTION\s+INVOCATIONS\s+ERRORS\s+GB-S\s+CPU-S\s+BILLED-S\s+IN\s+OUT\s+EST\. COST$/);
  assert.match(lines[1]!, /^report, "monthly"\s+10\s+1\s+0\.500\s+0\.020\s+2\.0\s+30 B\s+2 KB\s+0\.000010$/);
  assert.match(lines[2]!, /^total\s+10/);
  assert.match(text, /From 2026-11-01 00:00 to 2026-12-01 00:00 UTC\./);
  assert.match(text, /Estimated bill: 0\.000010 \(0\.2 per million requests, 0\.0000166667 per GB-second\)\./);
  const unpriced = formatUsageTable({ ...report, prices: null, rows: [{ key: 'a', ...figures, estimatedCost: null }], total: { ...figures, estimatedCost: null } }, colors(false));
  assert.doesNotMatch(unpriced, /EST\. COST/);
  assert.match(unpriced, /No prices set: start the platform with --price-per-million-requests/);
  assert.equal(formatUsageTable({ ...report, rows: [] }, colors(false)), 'No usage from 2026-11-01 00:00 to 2026-12-01 00:00 UTC.\n');
});

test('CSV: a header, the rows (quoted where needed), the total; no cost without prices', () => {
  assert.equal(
    formatUsageCsv(report),
    'function,invocations,errors,gbSeconds,cpuSeconds,billedMs,bytesIn,bytesOut,estimatedCost\n' +
      '"report, ""monthly""",10,1,0.5,0.02,2000,30,2048,0.000010333\n' +
      'total,10,1,0.5,0.02,2000,30,2048,0.000010333\n',
  );
  assert.match(formatUsageCsv({ ...report, prices: null, rows: [], total: { ...figures, estimatedCost: null } }), /^total,10,1,0\.5,0\.02,2000,30,2048,$/m);
});
