import { Option, type Command } from 'commander';
import { SCOPES } from '../../api/wire.js';
import { createToken, listTokens, revokeToken, type TokenInfo } from '../auth-client.js';
import type { CliContext } from '../context.js';
import { formatAgo, formatJson, formatTable, type Colors } from '../format.js';

const EXAMPLES = `
Examples:
  $ nimbus tokens create ci --scope deploy
  $ nimbus tokens create dashboard --scope read --json | jq -r .token
  $ nimbus tokens ls
  $ nimbus tokens revoke tok_3f9a0c1d2b4e

Scopes: read (GET on the API: list, get, logs), deploy (read, plus deploy, remove and invoke
keys), admin (everything, including tokens). Tokens are stored hashed: a token's value is shown
once, when it is created. Managing tokens needs an admin token.`;

/** The `nimbus tokens ls` table. */
export function formatTokenTable(tokens: TokenInfo[], c: Colors, now = Date.now()): string {
  const rows = tokens.map((t) => [
    t.id,
    t.name,
    t.scope,
    formatAgo(t.createdAt, now),
    t.lastUsedAt ? formatAgo(t.lastUsedAt, now) : 'never',
    t.revoked ? c.red(`revoked ${formatAgo(t.revokedAt, now)}`) : c.green('active'),
  ]);
  return formatTable(['ID', 'NAME', 'SCOPE', 'CREATED', 'LAST USED', 'STATUS'], rows, { header: c.bold });
}

export function registerTokens(program: Command, ctx: CliContext): void {
  const tokens = program
    .command('tokens')
    .summary('manage API tokens (admin)')
    .description('Create, list and revoke tokens of the management API.')
    .addHelpText('after', EXAMPLES);

  tokens
    .command('create')
    .description('Create a token; its value is printed once.')
    .argument('<name>', 'what the token is for, e.g. ci')
    .addOption(new Option('--scope <scope>', 'what it may do').choices(SCOPES).makeOptionMandatory())
    .option('--json', 'print the token object, value included')
    .action(async (name: string, opts: { scope: string; json?: boolean }, command: Command) => {
      const created = await createToken(ctx.client(command), name, opts.scope);
      const out = ctx.io.stdout;
      if (opts.json) {
        out.write(formatJson(created));
        return;
      }
      out.write(`Created token ${ctx.out.bold(created.name)} (id ${created.id}, scope ${created.scope}). It is shown only now:\n`);
      out.write(`${created.token}\n`);
    });

  tokens
    .command('ls')
    .alias('list')
    .description('List tokens (never their values), revoked ones included.')
    .option('--json', 'print the tokens as a JSON array')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const list = await listTokens(ctx.client(command));
      ctx.io.stdout.write(opts.json ? formatJson(list) : formatTokenTable(list, ctx.out));
    });

  tokens
    .command('revoke')
    .description('Revoke a token: every later request with it is refused.')
    .argument('<id>', 'token id, as in nimbus tokens ls')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await revokeToken(ctx.client(command), id);
      ctx.io.stdout.write(`Revoked token ${id}\n`);
    });
}
