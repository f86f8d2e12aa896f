import type { Command } from 'commander';
import { INVOKE_KEY_HEADER } from '../../api/wire.js';
import { createKey, listKeys, revokeKey, type KeyInfo } from '../auth-client.js';
import type { CliContext } from '../context.js';
import { parseFunctionName } from '../flags.js';
import { formatAgo, formatJson, formatTable, type Colors } from '../format.js';

const EXAMPLES = `
Examples:
  $ nimbus deploy ./api --name api --auth key
  $ nimbus keys create api --name partner-a
  $ curl -H '${INVOKE_KEY_HEADER}: nmk_…' http://127.0.0.1:8080/fn/api
  $ nimbus invoke api --key nmk_…
  $ nimbus keys ls api
  $ nimbus keys revoke api key_3f9a0c1d2b4e

A function deployed with --auth key answers only callers that send one of its keys in the
${INVOKE_KEY_HEADER} header (401 INVOKE_KEY_REQUIRED without, 403 INVOKE_KEY_INVALID with a wrong
one). Keys are stored hashed: a key is shown once, when it is created. Needs a deploy token.`;

/** The `nimbus keys ls` table. */
export function formatKeyTable(keys: KeyInfo[], c: Colors, now = Date.now()): string {
  const rows = keys.map((k) => [k.id, k.name, formatAgo(k.createdAt, now), k.revoked ? c.red(`revoked ${formatAgo(k.revokedAt, now)}`) : c.green('active')]);
  return formatTable(['ID', 'NAME', 'CREATED', 'STATUS'], rows, { header: c.bold });
}

export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .summary("manage functions' invoke keys")
    .description('Create, list and revoke the invoke keys of a function deployed with --auth key.')
    .addHelpText('after', EXAMPLES);

  keys
    .command('create')
    .description('Create an invoke key for a function; the key is printed once.')
    .argument('<function>', 'function name', parseFunctionName)
    .option('--name <name>', 'what the key is for (default: default)')
    .option('--json', 'print the key object, key included')
    .action(async (fn: string, opts: { name?: string; json?: boolean }, command: Command) => {
      const client = ctx.client(command);
      const created = await createKey(client, fn, opts.name);
      const out = ctx.io.stdout;
      if (opts.json) {
        out.write(formatJson(created));
      } else {
        out.write(`Created key ${ctx.out.bold(created.name)} (id ${created.id}) for ${fn}. It is shown only now:\n`);
        out.write(`${created.key}\n`);
      }
      const info = await client.getFunction(fn);
      if (info.auth !== 'key') {
        ctx.io.stderr.write(`Note: ${fn} is public, so it does not ask for keys yet. Require them with: nimbus deploy <path> --name ${fn} --auth key\n`);
      }
    });

  keys
    .command('ls')
    .alias('list')
    .description("List a function's keys (never the keys themselves), revoked ones included.")
    .argument('<function>', 'function name', parseFunctionName)
    .option('--json', 'print the keys as a JSON array')
    .action(async (fn: string, opts: { json?: boolean }, command: Command) => {
      const list = await listKeys(ctx.client(command), fn);
      const out = ctx.io.stdout;
      if (opts.json) out.write(formatJson(list));
      else if (list.length === 0) out.write(`${fn} has no invoke keys. Create one with: nimbus keys create ${fn}\n`);
      else out.write(formatKeyTable(list, ctx.out));
    });

  keys
    .command('revoke')
    .description('Revoke a key: invocations with it are refused from now on.')
    .argument('<function>', 'function name', parseFunctionName)
    .argument('<id>', 'key id, as in nimbus keys ls')
    .action(async (fn: string, id: string, _opts: unknown, command: Command) => {
      await revokeKey(ctx.client(command), fn, id);
      ctx.io.stdout.write(`Revoked key ${id} of ${fn}\n`);
    });
}
