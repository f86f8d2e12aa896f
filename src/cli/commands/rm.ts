import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerRm(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .alias('remove')
    .summary('remove a function')
    .description(
      'Remove a function. Requests already running finish first, then its instances stop. Its queued async invocations and its invocation records (dead letters included) are removed with it, as are its invoke keys.',
    )
    .argument('<name>', 'function name')
    .addHelpText('after', '\nExamples:\n  $ nimbus rm hello')
    .action(async (name: string, _opts: unknown, command: Command) => {
      await ctx.client(command).removeFunction(name);
      ctx.io.stdout.write(`Removed ${name}, with its queued async invocations and invocation records\n`);
    });
}
