import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { parseSecretName } from '../flags.js';
import { formatAgo, formatJson, formatTable, type Colors } from '../format.js';
import { readSecretInput } from '../secret-input.js';
import { secretsApi, type SecretInfo } from '../secrets-api.js';

const EXAMPLES = `
Examples:
  $ nimbus secret set DB_PASSWORD                          prompts; the value is not echoed
  $ printf '%s' "$TOKEN" | nimbus secret set API_TOKEN       from stdin
  $ nimbus secret set TLS_KEY --from-file key.pem          from a file, byte for byte
  $ nimbus deploy ./api --name api --secret DB_PASSWORD    the function sees $DB_PASSWORD
  $ nimbus secret ls
  $ nimbus secret rm DB_PASSWORD

Values are encrypted at rest and never shown again, by the API or by this command.`;

/** The `nimbus secret ls` table. */
export function formatSecretTable(secrets: SecretInfo[], c: Colors, now = Date.now()): string {
  const rows = secrets.map((s) => [s.name, String(s.version), s.functions.length ? s.functions.join(', ') : '-', formatAgo(s.updatedAt, now)]);
  return formatTable(['NAME', 'VERSION', 'USED BY', 'UPDATED'], rows, { align: ['left', 'right', 'left', 'left'], header: c.bold });
}

export function registerSecret(program: Command, ctx: CliContext): void {
  const secret = program
    .command('secret')
    .summary('manage secrets (set, ls, rm)')
    .description('Manage secrets: values functions get as environment variables, stored encrypted and never shown.')
    .addHelpText('after', EXAMPLES);

  secret
    .command('set')
    .summary('create a secret or replace its value')
    .description(
      'Create a secret or replace its value. The value comes from stdin (prompted without echo on a terminal; one trailing newline is removed when piped) or from --from-file. Functions using the secret replace their running instances to pick up a new value.',
    )
    .argument('<NAME>', 'upper-case letters, digits and _ (e.g. DB_PASSWORD)', parseSecretName)
    .option('--from-file <path>', 'read the value from a file, byte for byte')
    .option('--json', 'print the secret (metadata only) as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (name: string, opts: { fromFile?: string; json?: boolean }, command: Command) => {
      const value = await readSecretInput(ctx.io, name, opts.fromFile);
      const { secret: info, created } = await secretsApi.set(ctx.client(command), name, value);
      const out = ctx.io.stdout;
      if (opts.json) {
        out.write(formatJson(info));
        return;
      }
      out.write(`${ctx.out.green(created ? 'Created' : 'Updated')} secret ${ctx.out.bold(info.name)} (version ${info.version})\n`);
      if (!created && info.functions.length > 0) out.write(`Instances of ${info.functions.join(', ')} restart to use the new value.\n`);
    });

  secret
    .command('ls')
    .alias('list')
    .summary('list secrets (names, never values)')
    .description('List the secrets by name, with the functions that use them. Values are never shown.')
    .option('--json', 'print the secrets as a JSON array')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: { json?: boolean }, command: Command) => {
      const secrets = await secretsApi.list(ctx.client(command));
      const out = ctx.io.stdout;
      if (opts.json) out.write(formatJson(secrets));
      else if (secrets.length === 0) out.write('No secrets yet. Set one with: nimbus secret set <NAME>\n');
      else out.write(formatSecretTable(secrets, ctx.out));
    });

  secret
    .command('rm')
    .alias('remove')
    .summary('remove a secret')
    .description('Remove a secret. Refused while a deployed function uses it: deploy it without the secret first.')
    .argument('<NAME>', 'secret name', parseSecretName)
    .addHelpText('after', EXAMPLES)
    .action(async (name: string, _opts: unknown, command: Command) => {
      await secretsApi.remove(ctx.client(command), name);
      ctx.io.stdout.write(`Removed secret ${name}\n`);
    });
}
