import { Option, type Command } from 'commander';
import { USAGE_GROUPINGS, type UsageFigures, type UsageReport } from '../../api/wire.js';
import type { CliContext } from '../context.js';
import { parseFunctionName, parseTimeFlag } from '../flags.js';
import { formatBytes, formatJson, formatTable } from '../format.js';
import { write } from '../io.js';

const EXAMPLES = `
Examples:
  $ nimbus usage
  $ nimbus usage --since 7d --by day
  $ nimbus usage --function report --by hour --since 24h
  $ nimbus usage --since 2026-11-01 --until 2026-12-01 --csv > november.csv

Every invocation is metered: invocations, errors, GB-seconds (memory size in GB × billed
seconds, billed per started millisecond of start and handler time), CPU seconds, bytes in and
out. The platform keeps hourly totals for 400 days. With prices (nimbus up
--price-per-million-requests <n> --price-per-gb-second <n>) it estimates the bill. Needs a read
token. See docs/metering.md.`;

interface UsageOptions {
  since: string;
  until?: string;
  by: (typeof USAGE_GROUPINGS)[number];
  function?: string;
  json?: boolean;
  csv?: boolean;
}

const COLUMNS = ['invocations', 'errors', 'gbSeconds', 'cpuSeconds', 'billedMs', 'bytesIn', 'bytesOut', 'estimatedCost'] as const;

export function registerUsage(program: Command, ctx: CliContext): void {
  program
    .command('usage')
    .summary('what functions used, and the estimated bill')
    .description('Show the metering ledger: invocations, errors, GB-seconds, CPU seconds and bytes per function, hour or day, with an estimated bill when the platform has prices.')
    .option('--since <time>', 'from: a duration back from now (30d, 12h) or an ISO time', parseTimeFlag('--since'), '30d')
    .option('--until <time>', 'to (default: now): the same forms', parseTimeFlag('--until'))
    .addOption(new Option('--by <grouping>', 'one row per function, hour or (UTC) day').choices(USAGE_GROUPINGS).default('function'))
    .option('--function <name>', 'only this function', parseFunctionName)
    .addOption(new Option('--json', 'print the report as JSON').conflicts('csv'))
    .option('--csv', 'print the rows and the total as CSV')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: UsageOptions, command: Command) => {
      const report = await ctx.client(command).usage({
        since: opts.since,
        ...(opts.until !== undefined ? { until: opts.until } : {}),
        by: opts.by,
        ...(opts.function !== undefined ? { function: opts.function } : {}),
      });
      const { io } = ctx;
      if (opts.json) await write(io.stdout, formatJson(report));
      else if (opts.csv) await write(io.stdout, formatUsageCsv(report));
      else await write(io.stdout, formatUsageTable(report, ctx.out));
    });
}

/** The CSV of a report: a header, one line per row, then `total`. Numbers as the API gives them. */
export function formatUsageCsv(report: UsageReport): string {
  const line = (key: string, f: UsageFigures) => [csvField(key), ...COLUMNS.map((c) => (f[c] === null ? '' : String(f[c])))].join(',');
  return [[report.by, ...COLUMNS].join(','), ...report.rows.map((row) => line(row.key, row)), line('total', report.total)].join('\n') + '\n';
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The table of a report, its total, the span, and the bill (or how to get one). */
export function formatUsageTable(report: UsageReport, c: { bold: (s: string) => string; dim: (s: string) => string }): string {
  const span = `${report.since.slice(0, 16).replace('T', ' ')} to ${report.until.slice(0, 16).replace('T', ' ')} UTC`;
  if (report.rows.length === 0) return `No usage from ${span}.\n`;
  const priced = report.prices !== null;
  const cells = (key: string, f: UsageFigures) => [
    key,
    String(f.invocations),
    String(f.errors),
    f.gbSeconds.toFixed(3),
    f.cpuSeconds.toFixed(3),
    (f.billedMs / 1000).toFixed(1),
    formatBytes(f.bytesIn),
    formatBytes(f.bytesOut),
    ...(priced ? [money(f.estimatedCost)] : []),
  ];
  const key = report.by === 'function' ? 'FUNCTION' : report.by === 'hour' ? 'HOUR (UTC)' : 'DAY (UTC)';
  const shortKey = (k: string) => (report.by === 'hour' ? k.slice(0, 16).replace('T', ' ') : report.by === 'day' ? k.slice(0, 10) : k);
  const rows = [...report.rows.map((row) => cells(shortKey(row.key), row)), cells(c.bold('total'), report.total)];
  const table = formatTable([key, 'INVOCATIONS', 'ERRORS', 'GB-S', 'CPU-S', 'BILLED-S', 'IN', 'OUT', ...(priced ? ['EST. COST'] : [])], rows, {
    align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    header: c.bold,
  });
  const bill = report.prices
    ? `Estimated bill: ${money(report.total.estimatedCost)} (${report.prices.perMillionRequests} per million requests, ${report.prices.perGbSecond} per GB-second).`
    : c.dim('No prices set: start the platform with --price-per-million-requests and --price-per-gb-second for an estimated bill.');
  return `${table}${c.dim(`From ${span}.`)}\n${bill}\n`;
}

const money = (n: number | null): string => (n === null ? '-' : n < 0.01 && n > 0 ? n.toPrecision(2) : n.toFixed(2));
