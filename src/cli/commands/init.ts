import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { CliError, type CliContext } from '../context.js';
import { functionNameFrom } from '../flags.js';
import { templateFiles, TEMPLATES, type TemplateName } from '../templates.js';

const EXAMPLES = `
Examples:
  $ nimbus init hello
  $ nimbus init api --template express
  $ nimbus init tool --template exec

Templates: ${TEMPLATES.join(', ')}.`;

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .summary('write a new function folder from a template')
    .description('Create the folder <dir> with a working function of the chosen form, ready to deploy.')
    .argument('<dir>', 'folder to create (its name becomes the function name)')
    .addOption(new Option('-t, --template <template>', 'the kind of function').choices(TEMPLATES).default('node'))
    .addHelpText('after', EXAMPLES)
    .action(async (dir: string, opts: { template: TemplateName }) => {
      const target = resolve(ctx.io.cwd, dir);
      const name = functionNameFrom(basename(target));
      if (!name) throw new CliError(`Cannot make a function name from ${JSON.stringify(basename(target))}: choose a folder name with letters.`, { exitCode: 2 });
      const existing = await readdir(target).catch(() => [] as string[]);
      if (existing.length > 0) throw new CliError(`${dir} already exists and is not empty: choose another folder.`, { exitCode: 2 });
      const template = templateFiles(opts.template, name);
      await mkdir(target, { recursive: true });
      for (const [file, content] of Object.entries(template.files)) {
        await writeFile(join(target, file), content);
        // Scripts of the exec template must run as they are.
        if (content.startsWith('#!')) await chmod(join(target, file), 0o755);
      }
      const shown = relative(ctx.io.cwd, target) || '.';
      const c = ctx.out;
      const out = ctx.io.stdout;
      out.write(`${c.green('Created')} ${shown}: ${template.summary} (${Object.keys(template.files).join(', ')})\n\nNext:\n`);
      if (template.needsInstall) out.write(`  (cd ${shown} && npm install)\n`);
      out.write(`  nimbus deploy ${shown}${name === basename(target) ? '' : ` --name ${name}`}\n  nimbus invoke ${name}\n`);
    });
}
