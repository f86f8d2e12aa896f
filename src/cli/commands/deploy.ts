import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { EXEC_PROTOCOLS, formatDuration, INVOKE_AUTH_MODES, LIMITS, NETWORK_POLICIES, RUNTIMES } from '../../api/wire.js';
import { ApiError, type DeployBody, type FunctionInfo } from '../client.js';
import { CliError, type CliContext } from '../context.js';
import { addInstanceLimitOptions, collectEnv, collectSecret, functionNameFrom, parseDestination, parseDurationFlag, parseFunctionName, parseIntFlag, parseMemory } from '../flags.js';
import { formatJson } from '../format.js';
import { createProgress } from '../progress.js';
import { triggersApi } from '../triggers-api.js';
import { sourceKind, uploadSource } from '../upload.js';

/** Deploy settings whose flag value is the API value as it is. */
const PASSED_AS_IS = [
  'runtime', 'handler', 'command', 'protocol', 'env', 'memory', 'concurrency', 'maxInstances', 'minInstances', 'network', 'maxProcesses', 'maxOpenFiles', 'tmpSize', 'auth',
  'asyncConcurrency', 'maxRetries',
] as const;

interface DeployOptions extends Pick<DeployBody, (typeof PASSED_AS_IS)[number]> {
  /** Default: made from the file or folder name. */
  name?: string;
  /** `--secret NAME` (repeatable). */
  secret?: string[];
  /** false with `--no-secrets`. */
  secrets?: boolean;
  /** Milliseconds (the API takes seconds). */
  timeout?: number;
  idleTimeout?: number;
  retryDelay?: number;
  maxEventAge?: number;
  /** A function name, or '' to remove the destination (sent as null). */
  onSuccess?: string;
  onFailure?: string;
  /** A schedule: a cron trigger named after the function is created or updated. */
  cron?: string;
  timezone?: string;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  $ nimbus deploy ./hello                          # named hello, after the folder
  $ nimbus deploy index.js --name hello --env GREETING=hi --timeout 10s
  $ nimbus deploy handler.py --name resize --runtime python --handler handler.handler --memory 512
  $ nimbus deploy ./api --name api --concurrency 16 --max-instances 4 --idle-timeout 10m --json
  $ nimbus deploy ./api --name api --min-instances 1   # never cold: one instance always runs
  $ nimbus deploy ./resize --name resize --network none  # no network access at all
  $ nimbus deploy ./report --name report --network host  # may reach the database on this machine's loopback
  $ nimbus deploy ./api --name api --auth key          # callers need a key: nimbus keys create api
  $ nimbus deploy ./api --name api --secret DB_PASSWORD  # see: nimbus secret --help
  $ nimbus deploy ./tool --name tool --runtime exec --command ./tool.sh --protocol stdio
  $ nimbus deploy ./go-api --name go-api --runtime exec --command ./server   # serves HTTP on $PORT
  $ nimbus deploy ./resize --name resize --max-retries 5 --retry-delay 10s --on-failure alert
  $ nimbus deploy ./resize --name resize --on-failure ''   # no failure destination any more
  $ nimbus deploy ./report --name report --cron "0 3 * * *" --timezone Europe/Zurich   # runs nightly (trigger "report")

A folder is packed as tar.gz (node_modules included; .git and .nimbus left out); a single file is
uploaded as is. Runtime and handler are detected from the files unless given.`;

const durationRange = (range: { min: number; max: number }): string => `${formatDuration(range.min)} to ${formatDuration(range.max)}`;

/** Builds the body of PUT /api/v1/functions/{name} from the parsed flags. */
export function deployBody(packageSha: string, opts: Omit<DeployOptions, 'name' | 'json' | 'cron' | 'timezone'>): DeployBody {
  const body: DeployBody = { package: packageSha };
  const given: Pick<DeployBody, (typeof PASSED_AS_IS)[number]> = opts;
  const passOn = <K extends (typeof PASSED_AS_IS)[number]>(key: K): void => {
    if (given[key] !== undefined) body[key] = given[key];
  };
  PASSED_AS_IS.forEach(passOn);
  if (opts.secret !== undefined) body.secrets = opts.secret;
  else if (opts.secrets === false) body.secrets = [];
  if (opts.timeout !== undefined) body.timeout = opts.timeout / 1000;
  if (opts.idleTimeout !== undefined) body.idleTimeout = opts.idleTimeout / 1000;
  if (opts.retryDelay !== undefined) body.retryDelay = opts.retryDelay / 1000;
  if (opts.maxEventAge !== undefined) body.maxEventAge = opts.maxEventAge / 1000;
  if (opts.onSuccess !== undefined) body.onSuccess = opts.onSuccess === '' ? null : opts.onSuccess;
  if (opts.onFailure !== undefined) body.onFailure = opts.onFailure === '' ? null : opts.onFailure;
  return body;
}

export function registerDeploy(program: Command, ctx: CliContext): void {
  const command = program
    .command('deploy')
    .summary('deploy a file or folder as a function')
    .description('Upload code and create the function, or deploy a new version of it.')
    .argument('<path>', 'a source file (index.js, handler.py, …) or a folder')
    .option('-n, --name <name>', 'function name: lowercase letters, digits and - (default: the folder or file name, made DNS-label-safe)', parseFunctionName)
    .addOption(new Option('-r, --runtime <runtime>', 'runtime (default: detected from the files)').choices(RUNTIMES))
    .option('--handler <spec>', 'node: entry file or file.export; python: module.function (default: detected)')
    .option('--command <command>', "exec: the command line that runs the program, e.g. './server --verbose' (default: from nimbus.json)")
    .addOption(new Option('--protocol <protocol>', 'exec: http (serves HTTP on $PORT or the unix socket $NIMBUS_HTTP_SOCKET) or stdio (one process per request) (default: http)').choices(EXEC_PROTOCOLS))
    .option('-e, --env <KEY=VALUE>', 'environment variable for the function (repeatable)', collectEnv)
    .option('--secret <NAME>', 'expose a secret as the env variable NAME (repeatable; replaces the previous list)', collectSecret)
    .addOption(new Option('--no-secrets', 'deploy without secrets (drops those of the previous version)').conflicts('secret'))
    .option('--timeout <duration>', 'deadline per invocation, 100ms to 1h (default: 30s)', (v) =>
      parseDurationFlag('--timeout', v, LIMITS.timeoutMs),
    )
    .option('--memory <mb>', 'memory limit per instance in MB, 64 to 16384 (default: 256)', parseMemory)
    .option('--idle-timeout <duration>', 'stop an idle instance after this, 1s to 1d (default: 5m)', (v) =>
      parseDurationFlag('--idle-timeout', v, LIMITS.idleTimeoutMs),
    )
    .option('--concurrency <n>', 'requests one instance serves at once (default: node 64, python 8, exec 16)', (v) =>
      parseIntFlag('--concurrency', v, LIMITS.concurrency),
    )
    .option('--max-instances <n>', 'upper bound on instances (default: 10)', (v) =>
      parseIntFlag('--max-instances', v, LIMITS.maxInstances),
    )
    .option('--min-instances <n>', 'instances kept running without traffic; 0 scales to zero (default: 0)', (v) =>
      parseIntFlag('--min-instances', v, LIMITS.minInstances),
    );
  addInstanceLimitOptions(command, "default: the platform's, normally ");
  command
    .addOption(new Option('--network <policy>', "outbound: reaches the outside, not this machine's loopback or ports; none: loopback only; host: this machine's network, local databases included (default: outbound)").choices([...NETWORK_POLICIES]))
    .addOption(
      new Option('--auth <auth>', 'who may invoke it: public, or key (callers send an invoke key) (default: public when the platform listens on loopback only, else key)').choices(
        INVOKE_AUTH_MODES,
      ),
    )
    .option('--async-concurrency <n>', 'async invocations running at once; 0 holds them queued until raised (default: half the capacity, concurrency * max instances / 2)', (v) =>
      parseIntFlag('--async-concurrency', v, LIMITS.asyncConcurrency),
    )
    .option('--max-retries <n>', `retries of a failed async invocation, ${LIMITS.maxRetries.min} to ${LIMITS.maxRetries.max} (default: ${LIMITS.maxRetries.default})`, (v) =>
      parseIntFlag('--max-retries', v, LIMITS.maxRetries),
    )
    .option('--retry-delay <duration>', `delay before the first retry, later ones double; ${durationRange(LIMITS.retryDelayMs)} (default: ${formatDuration(LIMITS.retryDelayMs.default)})`, (v) =>
      parseDurationFlag('--retry-delay', v, LIMITS.retryDelayMs),
    )
    .option('--max-event-age <duration>', `give up a queued async invocation older than this; ${durationRange(LIMITS.maxEventAgeMs)} (default: ${formatDuration(LIMITS.maxEventAgeMs.default)})`, (v) =>
      parseDurationFlag('--max-event-age', v, LIMITS.maxEventAgeMs),
    )
    .option('--on-success <fn>', "function that gets the outcome of each succeeded async invocation; '' removes it", parseDestination)
    .option('--on-failure <fn>', "function that gets the outcome of each failed or dead async invocation; '' removes it", parseDestination)
    .option('--cron <expr>', 'also run it on this schedule: creates or updates the cron trigger named after the function (5 fields, or 6 with seconds first)')
    .option('--timezone <zone>', 'with --cron: the IANA time zone of the schedule (default: UTC)')
    .option('--json', 'print the deployed function as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (path: string, opts: DeployOptions, command: Command) => {
      if (opts.timezone !== undefined && opts.cron === undefined) throw new CliError('--timezone goes with --cron.', { exitCode: 2 });
      const client = ctx.client(command);
      const target = resolve(ctx.io.cwd, path);
      const kind = await sourceKind(target, path);
      const name = opts.name ?? functionNameFrom(basename(target));
      if (name === undefined) throw new CliError(`Cannot make a function name from ${JSON.stringify(basename(target))}: pass one with --name.`, { exitCode: 2 });
      if (opts.name === undefined && !opts.json) ctx.io.stderr.write(`Function name: ${name} (from ${JSON.stringify(basename(target))}; choose another with --name)\n`);

      const progress = createProgress(ctx.io);
      let fn: FunctionInfo;
      try {
        const pkg = await uploadSource(client, target, kind, path, progress);
        progress.step(`Deploying ${name}…`);
        fn = await client.deployFunction(name, deployBody(pkg.sha256, opts));
      } finally {
        progress.stop();
      }

      const out = ctx.io.stdout;
      const schedule = opts.cron === undefined ? undefined : await scheduleTrigger(client, fn.name, opts.cron, opts.timezone);
      if (opts.json) {
        out.write(formatJson(schedule ? { ...fn, trigger: schedule.trigger } : fn));
        return;
      }
      const c = ctx.out;
      const what = fn.runtime === 'exec' ? `command ${fn.handler}, ${fn.protocol ?? 'http'}` : `handler ${fn.handler}`;
      out.write(`${c.green('Deployed')} ${c.bold(fn.name)} (version ${fn.version}, ${fn.runtime}, ${what})\n`);
      if (fn.lastStartError) {
        ctx.io.stderr.write(`${c.yellow('Warning:')} the first start of the new version failed: ${fn.lastStartError.message}\nSee what it logged with: nimbus logs ${fn.name} --since 5m\n`);
      }
      if (fn.auth === 'key') out.write(`Callers need an invoke key (create one with: nimbus keys create ${fn.name})\n`);
      out.write(`${c.cyan(fn.url ?? client.functionUrl(fn.name))}\n`);
      if (schedule) {
        const { trigger, created } = schedule;
        out.write(`${created ? 'Created' : 'Updated'} cron trigger ${c.bold(trigger.name)}: "${String(trigger.settings.schedule)}" (${String(trigger.settings.timezone ?? 'UTC')})${trigger.state === 'paused' ? ', paused' : ''}. See: nimbus trigger get ${trigger.name}\n`);
      }
    });
}

/**
 * `--cron`: creates or updates the cron trigger named after the function. The function is
 * deployed by then; a refused schedule says so, so the user knows what stands.
 */
async function scheduleTrigger(client: Parameters<typeof triggersApi.put>[0], fn: string, schedule: string, timezone: string | undefined) {
  const previous = await triggersApi.get(client, fn).catch((err: unknown) => {
    if (err instanceof ApiError && err.code === 'TRIGGER_NOT_FOUND') return undefined;
    throw err;
  });
  if (previous && (previous.type !== 'cron' || previous.function !== fn)) {
    throw new CliError(`${fn} was deployed, but the trigger named ${fn} is a ${previous.type} trigger of ${previous.function}, not its schedule: rename one, or use nimbus trigger create.`);
  }
  const settings: Record<string, unknown> = { ...(previous?.settings ?? {}), schedule };
  if (timezone !== undefined) settings.timezone = timezone;
  try {
    return await triggersApi.put(client, fn, { function: fn, type: 'cron', settings });
  } catch (err) {
    throw new CliError(`${fn} was deployed, but its schedule was refused: ${(err as Error).message}`, { cause: err });
  }
}
