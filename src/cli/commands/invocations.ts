import { Option, type Command } from 'commander';
import { INVOCATION_STATUSES, formatDuration, type InvocationStatus, type InvocationView } from '../../api/wire.js';
import { CliError, type CliContext } from '../context.js';
import { parseDurationFlag, parseFunctionName, parseIntFlag, parseTimeFlag } from '../flags.js';
import { formatHistoryTable, formatInvocationDetails } from '../invocation-format.js';
import { DEFAULT_LIST_LIMIT, listInvocationPages } from '../invocation-pages.js';
import { DEFAULT_WAIT_TIMEOUT_MS, MAX_WAIT_TIMEOUT_MS, invocationFailure, waitWithProgress, writeInvocationResponse } from '../invocation-result.js';
import { formatJson } from '../format.js';
import { ENDED_STATUSES } from '../invocation-wait.js';
import { write } from '../io.js';
import type { Colors } from '../format.js';
import { formatLogLine } from './logs.js';

const SOURCES = ['http', 'async', 'trigger'] as const;

const EXAMPLES = `
Examples:
  $ id=$(nimbus invoke report --async -d '{"month":11}')
  $ nimbus invocations get $id
  $ nimbus invocations get $id --wait --body > report.pdf
  $ nimbus invocations get $id --logs
  $ nimbus invocations ls
  $ nimbus invocations ls --function report --status failed --since 1h
  $ nimbus invocations ls report --status retrying --source async
  $ nimbus inv ls --all --json | jq -r '.[] | select(.status == "dead") | .id'

Every invocation leaves a record: how it went, how long it took (queue, start, handler), what it
was billed, its CPU time and bytes (kept for nimbus up --retain). Async invocations are queued
with nimbus invoke --async (or by any HTTP client, with the header 'Prefer: respond-async' or at
/async/<name>); the platform keeps each one's status, attempts and the function's last response
(the body up to 1 MiB). Dead letters: nimbus dlq. Usage and bills: nimbus usage. Needs a read token.`;

/** The `--limit`/`--all` options of a listing, shared with `dlq ls`. */
export function addListOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--limit <n>', `at most this many, newest first (default: ${DEFAULT_LIST_LIMIT})`)
        .argParser((v) => parseIntFlag('--limit', v, { min: 1, max: 100_000 }))
        .conflicts('all'),
    )
    .option('--all', 'every one the platform keeps (fetches page after page)')
    .option('--json', 'print the invocations as a JSON array');
}

/** The note on stderr when a listing stopped before the oldest invocation. */
export function moreNote(shown: number): string {
  return `Showing the newest ${shown}; see more with --limit <n> or --all\n`;
}

/** Why `get --body` has nothing to write. */
function noResponse(view: InvocationView): string {
  if (!ENDED_STATUSES.has(view.status)) {
    return `Invocation ${view.id} has no response yet (${view.status}): wait for it with: nimbus invocations get ${view.id} --wait --body`;
  }
  const why = view.error ? ` with [${view.error.code}]` : '';
  return `Invocation ${view.id} has no response: it ended ${view.status}${why} before the function answered.`;
}

interface ListOptions {
  function?: string;
  status?: InvocationStatus;
  source?: (typeof SOURCES)[number];
  since?: string;
  until?: string;
  limit?: number;
  all?: boolean;
  json?: boolean;
}

interface GetOptions {
  json?: boolean;
  body?: boolean;
  wait?: boolean;
  timeout?: number;
  logs?: boolean;
}

export function registerInvocations(program: Command, ctx: CliContext): void {
  const invocations = program
    .command('invocations')
    .alias('inv')
    .summary('list and inspect invocations')
    .description('List invocations (sync, async, triggered) and show how one went: its status, timings, usage, error and, for async ones, the response the function gave.')
    .addHelpText('after', EXAMPLES);

  addListOptions(
    invocations
      .command('ls')
      .alias('list')
      .description('List invocations, newest first: all of them, or those of one function, source, status or time span.')
      .argument('[function]', 'only this function (same as --function)', parseFunctionName)
      .option('--function <name>', 'only this function', parseFunctionName)
      .addOption(new Option('--status <status>', 'only invocations with this status (sync ones are succeeded or failed)').choices(INVOCATION_STATUSES))
      .addOption(new Option('--source <source>', 'only invocations from this source').choices(SOURCES))
      .option('--since <time>', 'only those started at or after: a duration back from now (30m, 1h, 7d) or an ISO time', parseTimeFlag('--since'))
      .option('--until <time>', 'only those started at or before: the same forms', parseTimeFlag('--until')),
  ).action(async (argument: string | undefined, opts: ListOptions, command: Command) => {
    if (argument !== undefined && opts.function !== undefined && argument !== opts.function) throw new CliError(`Two functions given (${argument} and --function ${opts.function}): give one.`, { exitCode: 2 });
    const fn = argument ?? opts.function;
    const { invocations: list, more } = await listInvocationPages(ctx.client(command), {
      ...(fn !== undefined ? { function: fn } : {}),
      ...(opts.status !== undefined ? { status: opts.status } : {}),
      ...(opts.source !== undefined ? { source: opts.source } : {}),
      ...(opts.since !== undefined ? { since: opts.since } : {}),
      ...(opts.until !== undefined ? { until: opts.until } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.all ? { all: true } : {}),
    });
    const { io } = ctx;
    if (opts.json) await write(io.stdout, formatJson(list));
    else if (list.length > 0) await write(io.stdout, formatHistoryTable(list, ctx.out));
    else if (fn === undefined && opts.status === undefined && opts.source === undefined && opts.since === undefined && opts.until === undefined) await write(io.stdout, 'No invocations yet. Invoke a function with: nimbus invoke <name>\n');
    else await write(io.stdout, `No ${opts.status ? `${opts.status} ` : ''}${opts.source ? `${opts.source} ` : ''}invocations${fn ? ` of ${fn}` : ''}${opts.since || opts.until ? ' in that span' : ''}.\n`);
    if (more) io.stderr.write(moreNote(list.length));
  });

  invocations
    .command('get')
    .description('Show one invocation: status, attempts, times, usage (duration, billed, CPU, bytes), error, and for async ones the response (status, headers, the beginning of the body).')
    .argument('<id>', 'invocation id, as nimbus invoke --async prints it')
    .addOption(new Option('--json', 'print the invocation as JSON').conflicts('body'))
    .option('--body', "write only the function's response body, byte for byte")
    .option('--wait', 'wait until it ends first (exit 1 when it failed or is a dead letter)')
    .addOption(new Option('--logs', 'also show the lines the invocation wrote to stdout and stderr').conflicts('body'))
    .option('--timeout <duration>', `with --wait: give up waiting after this long (default: ${formatDuration(DEFAULT_WAIT_TIMEOUT_MS)})`, (v) =>
      parseDurationFlag('--timeout', v, { min: 1_000, max: MAX_WAIT_TIMEOUT_MS }),
    )
    .action(async (id: string, opts: GetOptions, command: Command) => {
      if (opts.timeout !== undefined && !opts.wait) throw new CliError('--timeout is how long --wait waits: add --wait.', { exitCode: 2 });
      const client = ctx.client(command);
      let view = opts.wait ? await waitWithProgress(ctx, client, id, { timeoutMs: opts.timeout ?? DEFAULT_WAIT_TIMEOUT_MS }) : await client.getInvocation(id, { logs: opts.logs === true });
      if (opts.wait && opts.logs) view = await client.getInvocation(id, { logs: true });
      const { io } = ctx;
      if (opts.json) {
        await write(io.stdout, formatJson(view));
      } else if (opts.body) {
        if (!view.response) throw new CliError(noResponse(view));
        await writeInvocationResponse(ctx, view);
      } else {
        await write(io.stdout, formatInvocationDetails(view, ctx.out));
        if (view.logs) await write(io.stdout, formatInvocationLogs(view.logs, ctx.out));
      }
      const failure = opts.wait ? invocationFailure(view) : undefined;
      if (failure) throw new CliError(failure);
    });
}

/** The `logs` section of `invocations get --logs`: the lines as `nimbus logs` prints them. */
function formatInvocationLogs(lines: NonNullable<InvocationView['logs']>, c: Colors): string {
  if (lines.length === 0) return `\n${c.dim('logs      (none kept)')}\n`;
  return `\nlogs\n${lines.map((line) => `  ${formatLogLine(line, c)}`).join('')}`;
}
