import { Option, type Command } from 'commander';
import { INVOCATION_STATUSES, formatDuration, type InvocationStatus, type InvocationView } from '../../api/wire.js';
import { CliError, type CliContext } from '../context.js';
import { parseDurationFlag, parseFunctionName, parseIntFlag } from '../flags.js';
import { formatInvocationDetails, formatInvocationTable } from '../invocation-format.js';
import { DEFAULT_LIST_LIMIT, listInvocationPages } from '../invocation-pages.js';
import { DEFAULT_WAIT_TIMEOUT_MS, MAX_WAIT_TIMEOUT_MS, invocationFailure, waitWithProgress, writeInvocationResponse } from '../invocation-result.js';
import { formatJson } from '../format.js';
import { ENDED_STATUSES } from '../invocation-wait.js';
import { write } from '../io.js';
import type { Colors } from '../format.js';
import { formatLogLine } from './logs.js';

const EXAMPLES = `
Examples:
  $ id=$(nimbus invoke report --async -d '{"month":11}')
  $ nimbus invocations get $id
  $ nimbus invocations get $id --wait --body > report.pdf
  $ nimbus invocations get $id --logs
  $ nimbus invocations ls
  $ nimbus invocations ls report --status retrying
  $ nimbus inv ls --all --json | jq -r '.[] | select(.status == "dead") | .id'

Async invocations are queued with nimbus invoke --async (or by any HTTP client, with the header
'Prefer: respond-async' or at /async/<name>). The platform keeps each one's status, attempts and
the function's last response (the body up to 1 MiB). Dead letters: nimbus dlq. Needs a read token.`;

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
  status?: InvocationStatus;
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
    .summary('list and inspect async invocations')
    .description('List async invocations and show how one went: its status, attempts, error and the response the function gave.')
    .addHelpText('after', EXAMPLES);

  addListOptions(
    invocations
      .command('ls')
      .alias('list')
      .description('List async invocations, newest first: all of them, or those of one function.')
      .argument('[function]', 'only this function', parseFunctionName)
      .addOption(new Option('--status <status>', 'only invocations with this status').choices(INVOCATION_STATUSES)),
  ).action(async (fn: string | undefined, opts: ListOptions, command: Command) => {
    const { invocations: list, more } = await listInvocationPages(ctx.client(command), {
      ...(fn !== undefined ? { function: fn } : {}),
      ...(opts.status !== undefined ? { status: opts.status } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.all ? { all: true } : {}),
    });
    const { io } = ctx;
    if (opts.json) await write(io.stdout, formatJson(list));
    else if (list.length > 0) await write(io.stdout, formatInvocationTable(list, ctx.out));
    else if (fn === undefined && opts.status === undefined) await write(io.stdout, 'No async invocations yet. Queue one with: nimbus invoke <name> --async\n');
    else await write(io.stdout, `No ${opts.status ? `${opts.status} ` : ''}invocations${fn ? ` of ${fn}` : ''}.\n`);
    if (more) io.stderr.write(moreNote(list.length));
  });

  invocations
    .command('get')
    .description('Show one async invocation: status, attempts, times, error, and the response (status, headers, the beginning of the body).')
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
