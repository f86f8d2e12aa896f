import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { whoami } from '../auth-client.js';
import { ApiError, DEFAULT_URL, NimbusClient } from '../client.js';
import { readConfig, removeConfig, saveConfig } from '../config.js';
import { CliError, type CliContext } from '../context.js';

const LOGIN_EXAMPLES = `
Examples:
  $ nimbus login < .nimbus/admin.token                      the admin token of nimbus up started here
  $ nimbus login --url https://nimbus.example.com --token nmb_…
  $ nimbus tokens create laptop --scope deploy --json | jq -r .token | nimbus login --url http://10.0.0.5:8080

Reads the token from stdin unless --token is given, checks it against the platform, then saves
{url, token} in \${XDG_CONFIG_HOME:-~/.config}/nimbus/config.json (mode 0600). Later commands use it
for that URL when neither --token nor NIMBUS_TOKEN is given.`;

/** The first line of `stdin`, trimmed (a pasted token, or a piped token file). */
async function readFirstLine(stdin: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return (text.split('\n')[0] ?? '').trim();
}

export function registerLogin(program: Command, ctx: CliContext): void {
  program
    .command('login')
    .summary('check a token and save it for later commands')
    .description('Check an API token against the platform and save the URL and token in the config file.')
    .addHelpText('after', LOGIN_EXAMPLES)
    .action(async (_opts: unknown, command: Command) => {
      const { io } = ctx;
      const flags = command.optsWithGlobals<{ url?: string; token?: string }>();
      const url = flags.url ?? io.env['NIMBUS_URL'] ?? readConfig(io.env)?.url ?? DEFAULT_URL;
      let token = flags.token;
      if (token === undefined) {
        if ((io.stdin as { isTTY?: boolean }).isTTY) io.stderr.write(`Token for ${url}: `);
        token = await readFirstLine(io.stdin);
      }
      if (!token) {
        throw new CliError('No token given: pass --token, or pipe it in (nimbus login < .nimbus/admin.token).', { exitCode: 2 });
      }
      let client: NimbusClient;
      try {
        client = new NimbusClient({ url, token, userAgent: `nimbus-cli/${ctx.version}` });
      } catch (err) {
        throw new CliError((err as Error).message, { exitCode: 2 });
      }
      try {
        const me = await whoami(client).catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 401) {
            throw new CliError(`${client.baseUrl} refused this token [${err.code}]: ${err.message} Nothing was saved.`);
          }
          throw err;
        });
        const path = await saveConfig(io.env, { url: client.baseUrl, token });
        io.stdout.write(`Logged in to ${client.baseUrl} as ${me.name} (scope ${me.scope}).\nSaved to ${path}\n`);
      } finally {
        await client.close();
      }
    });

  program
    .command('logout')
    .summary('forget the saved token')
    .description('Delete the config file written by nimbus login. The token stays valid on the platform: revoke it with nimbus tokens revoke.')
    .action(async () => {
      const path = await removeConfig(ctx.io.env);
      ctx.io.stdout.write(path ? `Logged out: removed ${path}\n` : 'Not logged in: there is no saved token.\n');
    });
}
