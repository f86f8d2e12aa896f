import type { Command } from 'commander';
import { formatDuration } from '../../api/wire.js';
import type { FunctionInfo } from '../client.js';
import type { CliContext } from '../context.js';
import { formatAgo, formatJson, formatKeyValues, type Colors } from '../format.js';

const EXAMPLES = `
Examples:
  $ nimbus get hello
  $ nimbus get hello --json | jq .version`;

const seconds = (s: unknown): string => (typeof s === 'number' ? formatDuration(s * 1000) : '-');
const text = (v: unknown): string => (v === undefined || v === null ? '-' : String(v));
const when = (t: string | undefined, now: number): string => (t ? `${t} (${formatAgo(t, now)})` : '-');

/** The `nimbus get` view: one `key: value` line per setting; env as KEY=value lines. */
export function formatFunctionDetails(f: FunctionInfo, c: Colors, now = Date.now()): string {
  const env = Object.entries(f.env ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const pairs: [string, string][] = [
    ['name', c.bold(f.name)],
    ['url', c.cyan(text(f.url))],
    ...(f.hostUrl ? ([['host url', c.cyan(f.hostUrl)]] as [string, string][]) : []),
    ['runtime', text(f.runtime)],
    [f.runtime === 'exec' ? 'command' : 'handler', f.runtime === 'exec' ? `${text(f.handler)} (${f.protocol ?? 'http'})` : text(f.handler)],
    ['version', text(f.version)],
    ['instances', `${text(f.instances)} (ready ${text(f.readyInstances)}, desired ${text(f.desired)})`],
    ['timeout', seconds(f.timeout)],
    ['memory', typeof f.memory === 'number' ? `${f.memory} MB` : '-'],
    ['idle timeout', seconds(f.idleTimeout)],
    ['concurrency', text(f.concurrency)],
    ['min instances', text(f.minInstances)],
    ['max instances', text(f.maxInstances)],
    ['network', text(f.network)],
    ['limits', `${text(f.maxProcesses)} processes, ${text(f.maxOpenFiles)} open files, /tmp ${text(f.tmpSize)} MB`],
    ['auth', text(f.auth)],
    ['async concurrency', f.asyncConcurrency === 0 ? '0 (held: async invocations wait in the queue)' : text(f.asyncConcurrency)],
    ['max retries', text(f.maxRetries)],
    ['retry delay', seconds(f.retryDelay)],
    ['max event age', seconds(f.maxEventAge)],
  ];
  // Destinations only when set: most functions have none.
  if (f.onSuccess) pairs.push(['on success', f.onSuccess]);
  if (f.onFailure) pairs.push(['on failure', f.onFailure]);
  if (env.length === 0) pairs.push(['env', c.dim('(none)')]);
  else env.forEach(([k, v], i) => pairs.push([i === 0 ? 'env' : '', `${k}=${v}`]));
  // Names only: the API never answers secret values.
  pairs.push(['secrets', f.secrets?.length ? f.secrets.join(', ') : c.dim('(none)')]);
  pairs.push(['package', text(f.package)], ['created', when(f.createdAt, now)], ['updated', when(f.updatedAt, now)]);
  if (f.lastStartError) pairs.push(['last start error', `${c.yellow(f.lastStartError.message)} (${when(f.lastStartError.at, now)})`]);
  return formatKeyValues(pairs, c.dim);
}

export function registerGet(program: Command, ctx: CliContext): void {
  program
    .command('get')
    .summary("show a function's settings")
    .description('Show one function: its URL, runtime, handler, version, limits, async settings, environment and package.')
    .argument('<name>', 'function name')
    .option('--json', 'print the function as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      const fn = await ctx.client(command).getFunction(name);
      ctx.io.stdout.write(opts.json ? formatJson(fn) : formatFunctionDetails(fn, ctx.out));
    });
}
