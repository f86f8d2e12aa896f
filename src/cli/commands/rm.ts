import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerRm(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .alias('remove')
    .summary('remove a function')
    .description('Remove a function. Requests already running finish first, then its instances stop.')
    .argument('<name>', 'function name')
    .addHelpText('after', '\nExamples:\n  $ nimbus rm hello')
    .action(async (name: string, _opts: unknown, command: Command) => {
      await ctx.client(command).removeFunction(name);
      ctx.io.stdout.write(`Removed ${name}\n`);
    });
}
