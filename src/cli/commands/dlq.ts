import type { Command } from 'commander';
import type { RedriveRequest } from '../../api/wire.js';
import { confirm } from '../confirm.js';
import { CliError, type CliContext } from '../context.js';
import { parseFunctionName } from '../flags.js';
import { formatJson } from '../format.js';
import { formatInvocationTable } from '../invocation-format.js';
import { listInvocationPages, MAX_PAGE } from '../invocation-pages.js';
import { write } from '../io.js';
import { addListOptions, moreNote } from './invocations.js';

const EXAMPLES = `
Examples:
  $ nimbus dlq ls
  $ nimbus dlq ls report --json
  $ nimbus dlq redrive report --id 3f2a9c1e-… --id 77b0d4e2-…
  $ nimbus dlq redrive report --all
  $ nimbus dlq purge report

An async invocation whose last attempt failed (or that waited past its maximum event age) becomes
a dead letter: kept, with its request, until it is redriven (queued again under the same id, with
a fresh retry budget) or purged. ls needs a read token; redrive and purge a deploy token.`;

/** Most ids one redrive request may name. */
const MAX_REDRIVE_IDS = 1_000;

/** `3 dead letters`, `1 dead letter`. */
const deadLetters = (n: number): string => `${n} dead letter${n === 1 ? '' : 's'}`;

/** Commander collector for repeated `--id <id>`; an id given twice counts once. */
function collectId(value: string, previous: string[] | undefined): string[] {
  return previous?.includes(value) ? previous : [...(previous ?? []), value];
}

export function registerDlq(program: Command, ctx: CliContext): void {
  const dlq = program
    .command('dlq')
    .summary('list, redrive and purge dead letters')
    .description('Dead letters: async invocations whose last attempt failed. List them, queue them again (redrive) or delete them (purge).')
    .addHelpText('after', EXAMPLES);

  addListOptions(
    dlq
      .command('ls')
      .alias('list')
      .description('List dead letters, newest first: all of them, or those of one function (the invocations with status dead).')
      .argument('[function]', 'only this function', parseFunctionName),
  ).action(async (fn: string | undefined, opts: { limit?: number; all?: boolean; json?: boolean }, command: Command) => {
    const { invocations, more } = await listInvocationPages(ctx.client(command), {
      status: 'dead',
      ...(fn !== undefined ? { function: fn } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.all ? { all: true } : {}),
    });
    const { io } = ctx;
    if (opts.json) await write(io.stdout, formatJson(invocations));
    else if (invocations.length > 0) await write(io.stdout, formatInvocationTable(invocations, ctx.out));
    else await write(io.stdout, `No dead letters${fn ? ` of ${fn}` : ''}.\n`);
    if (more) io.stderr.write(moreNote(invocations.length));
  });

  dlq
    .command('redrive')
    .description('Queue dead letters of a function again, under the same ids and with a fresh retry budget: some by id, or all.')
    .argument('<function>', 'function name', parseFunctionName)
    .option('--id <id>', 'a dead letter to queue again (repeatable)', collectId)
    .option('--all', 'every dead letter of the function')
    .option('--json', 'print {redriven} as JSON')
    .action(async (fn: string, opts: { id?: string[]; all?: boolean; json?: boolean }, command: Command) => {
      if ((opts.id === undefined) === (opts.all === undefined)) {
        throw new CliError(`Say which dead letters to queue again: --id <id> (repeatable) or --all (see them with: nimbus dlq ls ${fn}).`, { exitCode: 2 });
      }
      if (opts.id && opts.id.length > MAX_REDRIVE_IDS) {
        throw new CliError(`At most ${MAX_REDRIVE_IDS} --id at once (got ${opts.id.length}); or queue them all with --all.`, { exitCode: 2 });
      }
      const request: RedriveRequest = opts.all ? { all: true } : { ids: opts.id! };
      const { redriven } = await ctx.client(command).redriveDeadLetters(fn, request);
      const { io } = ctx;
      if (opts.json) await write(io.stdout, formatJson({ redriven }));
      else if (redriven.length > 0) await write(io.stdout, `Queued ${deadLetters(redriven.length)} of ${fn} again:\n${redriven.map((id) => `  ${id}\n`).join('')}`);
      else if (opts.all) await write(io.stdout, `No dead letters of ${fn} to queue again.\n`);
      const missed = (opts.id ?? []).filter((id) => !redriven.includes(id));
      if (missed.length > 0) {
        throw new CliError(`Not queued again, not dead letters of ${fn} (any more): ${missed.join(', ')}. See them with: nimbus dlq ls ${fn}`);
      }
      if (redriven.length > 0 && !opts.json) io.stderr.write(`Follow them with: nimbus invocations ls ${fn}\n`);
    });

  dlq
    .command('purge')
    .description('Delete every dead letter of a function, for good. Asks first on a terminal; elsewhere needs --yes.')
    .argument('<function>', 'function name', parseFunctionName)
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print {purged} as JSON')
    .action(async (fn: string, opts: { yes?: boolean; json?: boolean }, command: Command) => {
      const { io } = ctx;
      if (!opts.yes && !io.stdinIsTTY) {
        throw new CliError(`nimbus dlq purge deletes dead letters for good: pass --yes to confirm (stdin is not a terminal, so it cannot ask).`, { exitCode: 2 });
      }
      const client = ctx.client(command);
      if (!opts.yes) {
        const { invocations, more } = await listInvocationPages(client, { function: fn, status: 'dead', limit: MAX_PAGE });
        if (invocations.length === 0) {
          await write(io.stdout, opts.json ? formatJson({ purged: 0 }) : `No dead letters of ${fn}.\n`);
          return;
        }
        const count = more ? `more than ${invocations.length}` : String(invocations.length);
        if (!(await confirm(io, `Delete the ${count} dead letter${count === '1' ? '' : 's'} of ${fn}? They cannot be redriven afterwards.`))) {
          throw new CliError('Nothing was deleted.');
        }
      }
      const { purged } = await client.purgeDeadLetters(fn);
      await write(io.stdout, opts.json ? formatJson({ purged }) : `Deleted ${deadLetters(purged)} of ${fn}.\n`);
    });
}
