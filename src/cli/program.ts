import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { registerCompletion } from './commands/completion.js';
import { registerDeploy } from './commands/deploy.js';
import { registerDev } from './commands/dev.js';
import { registerDlq } from './commands/dlq.js';
import { registerDoctor } from './commands/doctor.js';
import { registerGet } from './commands/get.js';
import { registerInit } from './commands/init.js';
import { registerInvocations } from './commands/invocations.js';
import { registerInvoke } from './commands/invoke.js';
import { registerKeys } from './commands/keys.js';
import { registerLogin } from './commands/login.js';
import { registerLogs } from './commands/logs.js';
import { registerLs } from './commands/ls.js';
import { registerRm } from './commands/rm.js';
import { registerTokens } from './commands/tokens.js';
import { registerTrigger } from './commands/trigger.js';
import { registerSecret } from './commands/secret.js';
import { registerUp } from './commands/up.js';
import { registerUsage } from './commands/usage.js';
import { authHint } from './auth-hint.js';
import { ApiError, ConnectionLostError, DEFAULT_URL, UnreachableError } from './client.js';
import { CliError, createContext, type CliContext } from './context.js';
import { useColor, type CliIO } from './io.js';

/** The package version, read from package.json next to dist/. */
export function cliVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'nimbus-faas' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}

const EXAMPLES = `
Examples:
  $ nimbus up                                     start the platform on ${DEFAULT_URL}
  $ nimbus deploy ./hello --name hello            deploy a folder (or a single file)
  $ nimbus invoke hello --data '{"name":"Ada"}'   call it
  $ nimbus invoke hello --async                   queue a call; prints its id (see: nimbus invocations)
  $ nimbus ls                                     list functions
  $ nimbus logs hello --follow                    watch its logs
  $ nimbus doctor                                 which isolation this machine offers
  $ nimbus login --url http://host:8080           save a token for a remote platform

Environment:
  NIMBUS_URL     platform address (default ${DEFAULT_URL}); --url wins
  NIMBUS_TOKEN   bearer token for the management API; --token wins. Without either: the token
                 saved by nimbus login (for its URL), else ./.nimbus/admin.token (local URLs)
  NO_COLOR       set to disable colours

Exit codes: 0 ok, 1 error, 2 usage error.`;

/** Builds the `nimbus` command tree, writing through `ctx.io`. */
export function createProgram(ctx: CliContext): Command {
  const { io } = ctx;
  const columns = (stream: unknown): number | undefined => (stream as { columns?: number }).columns;
  const program = new Command('nimbus');
  program
    .description('Nimbus: serverless functions on your own machines.')
    .version(ctx.version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .addOption(new Option('--url <url>', `platform address (env: NIMBUS_URL, default: ${DEFAULT_URL})`))
    .addOption(new Option('--token <token>', 'bearer token for the management API (env: NIMBUS_TOKEN)'))
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      getOutHelpWidth: () => columns(io.stdout) ?? 80,
      getErrHelpWidth: () => columns(io.stderr) ?? 80,
      getOutHasColors: () => useColor(io, 'stdout'),
      getErrHasColors: () => useColor(io, 'stderr'),
      outputError: (s, writeErr) => writeErr(s.endsWith('\n') ? `${ctx.err.red(s.slice(0, -1))}\n` : ctx.err.red(s)),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .addHelpText('after', EXAMPLES);

  registerUp(program, ctx);
  registerInit(program, ctx);
  registerDeploy(program, ctx);
  registerDev(program, ctx);
  registerInvoke(program, ctx);
  registerLs(program, ctx);
  registerGet(program, ctx);
  registerRm(program, ctx);
  registerLogs(program, ctx);
  registerInvocations(program, ctx);
  registerDlq(program, ctx);
  registerUsage(program, ctx);
  registerDoctor(program, ctx);
  registerKeys(program, ctx);
  registerTokens(program, ctx);
  registerLogin(program, ctx);
  registerSecret(program, ctx);
  registerTrigger(program, ctx);
  registerCompletion(program, ctx);
  return program;
}

/** Prints an error the way users see it and answers the exit code. */
export function reportError(err: unknown, ctx: CliContext): number {
  const { io, err: c } = ctx;
  if (err instanceof CommanderError && !(err instanceof InvalidArgumentError)) {
    // commander printed its own message (or the help / version) already
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof InvalidArgumentError) {
    io.stderr.write(c.red(`error: ${err.message}`) + '\n');
    return 2;
  }
  if (err instanceof ApiError) {
    io.stderr.write(`${c.red(`Error [${err.code}]:`)} ${err.message}\n`);
    const hint = authHint(err, ctx.credentials());
    if (hint) io.stderr.write(`${hint}\n`);
    return 1;
  }
  if (err instanceof UnreachableError || err instanceof ConnectionLostError) {
    io.stderr.write(`${c.red('Error:')} ${err.message}\n`);
    return 1;
  }
  if (err instanceof CliError) {
    io.stderr.write(err.raw ? `${err.message}\n` : `${c.red('Error:')} ${err.message}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`${c.red('Error:')} ${message}\n`);
  if (io.env['NIMBUS_DEBUG'] && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return 1;
}

/** Runs `nimbus <args>` and answers the exit code; never throws. */
export async function runCli(args: string[], io: CliIO): Promise<number> {
  const ctx = createContext(io, cliVersion());
  try {
    const program = createProgram(ctx);
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(err, ctx);
  } finally {
    await ctx.close().catch(() => undefined);
  }
}
