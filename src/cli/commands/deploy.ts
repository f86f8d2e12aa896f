import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { LIMITS, NETWORK_POLICIES, RUNTIMES } from '../../core/spec.js';
import { INVOKE_AUTH_MODES } from '../../core/invoke-auth.js';
import type { DeployBody, FunctionInfo, PackageInfo } from '../client.js';
import { CliError, type CliContext } from '../context.js';
import { addInstanceLimitOptions, collectEnv, collectSecret, parseDurationFlag, parseFunctionName, parseIntFlag, parseMemory } from '../flags.js';
import { formatBytes, formatJson } from '../format.js';
import { packFolder } from '../pack.js';
import { createProgress } from '../progress.js';

/** Deploy settings whose flag value is the API value as it is. */
const PASSED_AS_IS = ['runtime', 'handler', 'env', 'memory', 'concurrency', 'maxInstances', 'minInstances', 'network', 'maxProcesses', 'maxOpenFiles', 'tmpSize', 'auth'] as const;

interface DeployOptions extends Pick<DeployBody, (typeof PASSED_AS_IS)[number]> {
  name: string;
  /** `--secret NAME` (repeatable). */
  secret?: string[];
  /** false with `--no-secrets`. */
  secrets?: boolean;
  /** Milliseconds (the API takes seconds). */
  timeout?: number;
  idleTimeout?: number;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  $ nimbus deploy ./hello --name hello
  $ nimbus deploy index.js --name hello --env GREETING=hi --timeout 10s
  $ nimbus deploy handler.py --name resize --runtime python --handler handler.handler --memory 512
  $ nimbus deploy ./api --name api --concurrency 16 --max-instances 4 --idle-timeout 10m --json
  $ nimbus deploy ./api --name api --min-instances 1   # never cold: one instance always runs
  $ nimbus deploy ./resize --name resize --network none  # no network access at all
  $ nimbus deploy ./report --name report --network host  # may reach the database on this machine's loopback
  $ nimbus deploy ./api --name api --auth key          # callers need a key: nimbus keys create api
  $ nimbus deploy ./api --name api --secret DB_PASSWORD  # see: nimbus secret --help

A folder is packed as tar.gz (node_modules included; .git and .nimbus left out); a single file is
uploaded as is. Runtime and handler are detected from the files unless given.`;

/** Builds the body of PUT /api/v1/functions/{name} from the parsed flags. */
export function deployBody(packageSha: string, opts: Omit<DeployOptions, 'name' | 'json'>): DeployBody {
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
  return body;
}

export function registerDeploy(program: Command, ctx: CliContext): void {
  const command = program
    .command('deploy')
    .summary('deploy a file or folder as a function')
    .description('Upload code and create the function, or deploy a new version of it.')
    .argument('<path>', 'a source file (index.js, handler.py, …) or a folder')
    .requiredOption('-n, --name <name>', 'function name: lowercase letters, digits and -', parseFunctionName)
    .addOption(new Option('-r, --runtime <runtime>', 'runtime (default: detected from the files)').choices(RUNTIMES))
    .option('--handler <spec>', 'node: entry file or file.export; python: module.function (default: detected)')
    .option('-e, --env <KEY=VALUE>', 'environment variable for the function (repeatable)', collectEnv)
    .option('--secret <NAME>', 'expose a secret as the env variable NAME (repeatable; replaces the previous list)', collectSecret)
    .addOption(new Option('--no-secrets', 'deploy without secrets (drops those of the previous version)').conflicts('secret'))
    .option('--timeout <duration>', 'deadline per invocation, 100ms to 1h (default: 30s)', (v) =>
      parseDurationFlag('--timeout', v, LIMITS.timeoutMs),
    )
    .option('--memory <mb>', 'memory limit per instance in MB, 64 to 16384 (default: 256)', parseMemory)
    .option('--idle-timeout <duration>', 'stop an idle instance after this, 1s to 24h (default: 5m)', (v) =>
      parseDurationFlag('--idle-timeout', v, LIMITS.idleTimeoutMs),
    )
    .option('--concurrency <n>', 'requests one instance serves at once (default: node 64, python 8)', (v) =>
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
    .option('--json', 'print the deployed function as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (path: string, opts: DeployOptions, command: Command) => {
      const client = ctx.client(command);
      const target = resolve(ctx.io.cwd, path);
      let kind: 'file' | 'folder';
      try {
        const s = await stat(target);
        if (s.isDirectory()) kind = 'folder';
        else if (s.isFile()) kind = 'file';
        else throw new CliError(`${path} is neither a file nor a folder.`);
      } catch (err) {
        if (err instanceof CliError) throw err;
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`No such file or folder: ${path}`);
        throw new CliError(`Cannot read ${path}: ${(err as Error).message}`);
      }

      const progress = createProgress(ctx.io);
      let pkg: PackageInfo;
      let fn: FunctionInfo;
      try {
        if (kind === 'folder') {
          progress.step(`Packaging ${path}…`);
          const packed = await packFolder(target);
          progress.step(
            `Uploading ${formatBytes(packed.bytes.length)} (${packed.files} file${packed.files === 1 ? '' : 's'}, ${formatBytes(packed.unpackedBytes)} unpacked)…`,
          );
          pkg = await client.uploadPackage(packed.bytes);
        } else {
          const bytes = await readFile(target);
          progress.step(`Uploading ${basename(target)} (${formatBytes(bytes.length)})…`);
          pkg = await client.uploadPackage(bytes, basename(target));
        }
        progress.step(`Deploying ${opts.name}…`);
        fn = await client.deployFunction(opts.name, deployBody(pkg.sha256, opts));
      } catch (err) {
        if (err instanceof Error && !(err instanceof CliError) && (err as NodeJS.ErrnoException).code === 'EACCES') {
          throw new CliError(`Cannot read ${path}: ${err.message}`);
        }
        throw err;
      } finally {
        progress.stop();
      }

      const out = ctx.io.stdout;
      if (opts.json) {
        out.write(formatJson(fn));
        return;
      }
      const c = ctx.out;
      out.write(`${c.green('Deployed')} ${c.bold(fn.name)} (version ${fn.version}, ${fn.runtime}, handler ${fn.handler})\n`);
      if (fn.auth === 'key') out.write(`Callers need an invoke key (create one with: nimbus keys create ${fn.name})\n`);
      out.write(`${c.cyan(fn.url ?? client.functionUrl(fn.name))}\n`);
    });
}
