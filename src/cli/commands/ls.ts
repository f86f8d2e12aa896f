import type { Command } from 'commander';
import type { FunctionInfo } from '../client.js';
import type { CliContext } from '../context.js';
import { formatAgo, formatJson, formatTable, type Colors } from '../format.js';
import { formatDuration } from '../../api/wire.js';

const EXAMPLES = `
Examples:
  $ nimbus ls
  $ nimbus ls --json | jq -r '.[].name'`;

/** The `nimbus ls` table. */
export function formatFunctionTable(functions: FunctionInfo[], c: Colors, now = Date.now()): string {
  const rows = functions.map((f) => [
    f.name,
    f.runtime,
    String(f.version),
    String(f.instances ?? 0),
    typeof f.timeout === 'number' ? formatDuration(f.timeout * 1000) : '-',
    typeof f.memory === 'number' ? `${f.memory} MB` : '-',
    formatAgo(f.updatedAt, now),
  ]);
  return formatTable(['NAME', 'RUNTIME', 'VERSION', 'INSTANCES', 'TIMEOUT', 'MEMORY', 'UPDATED'], rows, {
    align: ['left', 'left', 'right', 'right', 'right', 'right', 'left'],
    header: c.bold,
  });
}

export function registerLs(program: Command, ctx: CliContext): void {
  program
    .command('ls')
    .alias('list')
    .summary('list deployed functions')
    .description('List the deployed functions, ordered by name.')
    .option('--json', 'print the functions as a JSON array')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: { json?: boolean }, command: Command) => {
      const functions = await ctx.client(command).listFunctions();
      const out = ctx.io.stdout;
      if (opts.json) {
        out.write(formatJson(functions));
        return;
      }
      if (functions.length === 0) {
        out.write('No functions deployed yet. Deploy one with: nimbus deploy <path> --name <name>\n');
        return;
      }
      out.write(formatFunctionTable(functions, ctx.out));
    });
}
