import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../../api/wire.js';
import { explainNetworkError, type LogEntry } from '../client.js';
import type { CliContext } from '../context.js';
import { parseIntFlag } from '../flags.js';
import { formatClock, type Colors } from '../format.js';
import { write } from '../io.js';
import { followLogEntries } from '../log-follow.js';
import { terminalSafeJson, visibleText } from '../visible-text.js';

interface LogsOptions {
  follow?: boolean;
  since?: string;
  limit?: number;
  invocation?: string;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  $ nimbus logs hello
  $ nimbus logs hello --since 1h
  $ nimbus logs hello --follow
  $ nimbus logs hello --invocation 0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b
  $ nimbus logs hello --since 2026-11-23T10:00:00Z --json | jq -r .message

Each line: local time, the first 8 characters of the invocation id (- for lines written outside
an invocation, e.g. at module load), [stdout] or [stderr], then the message. Control characters
in messages (escape sequences, carriage returns, newlines) are shown as visible escapes such as
\\x1b; --json keeps the raw text, escaped as JSON.

Lines are kept on disk (they outlive a restart) up to nimbus up --log-retention per function,
the oldest going first; --invocation searches what is kept.`;

/** `--since`: a duration back from now (30s, 10m, 1h) or an ISO timestamp. */
export function parseSince(value: string): string {
  const v = value.trim();
  if (parseDuration(v) !== undefined) return v;
  if (/^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v))) return v;
  throw new InvalidArgumentError(`--since must be a duration back from now (30s, 10m, 1h) or an ISO timestamp, got ${JSON.stringify(value)}.`);
}

/** The short invocation id shown in log lines: its first 8 characters (after an `inv_` prefix, if any), or `-`. */
export function shortInvocationId(id: string | null | undefined): string {
  if (!id) return '-';
  return id.replace(/^inv_/, '').slice(0, 8);
}

/**
 * One human log line (with a final newline). The message is the function's own text, so what a
 * terminal would act on (escape sequences, carriage returns, newlines) is shown as visible
 * escapes, and every line carries its stream tag in the same column: a stdout line that starts
 * with "[stderr]" cannot pass for a stderr line, nor a newline for another entry.
 */
export function formatLogLine(entry: LogEntry, c: Colors): string {
  const id = visibleText(shortInvocationId(entry.invocationId)).padEnd(8);
  const tag = entry.stream === 'stderr' ? c.red('[stderr]') : c.dim('[stdout]');
  const message = visibleText(String(entry.message ?? '').replace(/\r?\n$/, ''));
  return `${c.dim(formatClock(entry.time))} ${c.dim(id)} ${tag} ${message}\n`;
}

export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .summary("show a function's logs")
    .description("Show what a function wrote to stdout and stderr, oldest first.")
    .argument('<name>', 'function name')
    .option('-f, --follow', 'keep printing new lines as they are written, until Ctrl-C')
    .option('--since <when>', 'only lines from this long ago (30s, 10m, 1h) or since an ISO time', parseSince)
    .option('--limit <n>', 'at most this many past lines', (v) => parseIntFlag('--limit', v, { min: 1, max: 100_000 }))
    .option('--invocation <id>', "only the lines of this invocation (the x-nimbus-invocation-id of its response)")
    .option('--json', 'print entries as JSON, one per line (NDJSON)')
    .addHelpText('after', EXAMPLES)
    .action(async (name: string, opts: LogsOptions, command: Command) => {
      const client = ctx.client(command);
      const { io } = ctx;
      const query = {
        ...(opts.since !== undefined ? { since: opts.since } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        ...(opts.invocation !== undefined ? { invocation: opts.invocation } : {}),
      };
      const print = (entry: LogEntry): Promise<void> =>
        write(io.stdout, opts.json ? `${terminalSafeJson(entry)}\n` : formatLogLine(entry, ctx.out));

      if (!opts.follow) {
        for (const entry of await client.logs(name, query)) await print(entry);
        return;
      }

      const abort = new AbortController();
      const stopListening = io.onSignal(() => abort.abort());
      try {
        await followLogEntries(client, name, query, abort.signal, print);
      } catch (err) {
        if (!abort.signal.aborted) throw explainNetworkError(err, client.baseUrl); // Ctrl-C ends --follow normally
      } finally {
        stopListening();
      }
    });
}
