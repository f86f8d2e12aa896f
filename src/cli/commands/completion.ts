import { Argument, type Command } from 'commander';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import type { CliContext } from '../context.js';

const EXAMPLES = `
Examples:
  $ source <(nimbus completion bash)                       # in ~/.bashrc
  $ source <(nimbus completion zsh)                        # in ~/.zshrc
  $ nimbus completion fish > ~/.config/fish/completions/nimbus.fish`;

export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .summary('print a shell completion script')
    .description('Print the completion script for bash, zsh or fish: commands, flags and the choices of flags.')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText('after', EXAMPLES)
    .action((shell: Shell) => {
      ctx.io.stdout.write(completionScript(program, shell));
    });
}
