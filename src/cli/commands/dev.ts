import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { SERVER_DEFAULTS } from '../../config/server-defaults.js';
import { NimbusClient, UnreachableError, type FunctionInfo } from '../client.js';
import { CliError, type CliContext } from '../context.js';
import { isLoopbackUrl } from '../credentials.js';
import { collectEnv, functionNameFrom, parseFunctionName } from '../flags.js';
import { followLogEntries } from '../log-follow.js';
import { formatLogLine } from './logs.js';
import { sourceKind, uploadSource } from '../upload.js';

/** Changes closer together than this make one redeploy (an editor saves several files at once). */
const DEBOUNCE_MS = 150;

/** Folders whose changes are not the function's code. */
const IGNORED = /(^|[\\/])(\.git|\.nimbus|node_modules[\\/]\.cache)([\\/]|$)/;

const EXAMPLES = `
Examples:
  $ nimbus dev ./hello
  $ nimbus dev ./api --name api --env GREETING=hi

Deploys the folder, then redeploys it on every change and prints the function's logs as they
are written, until Ctrl-C. With no platform running at a local --url, one is started in this
process (state in ${SERVER_DEFAULTS.dataDir}) and stopped with it.`;

interface DevOptions {
  name?: string;
  env?: Record<string, string>;
}

/** A platform started by `dev` itself, and the client that reaches it. */
interface Started {
  client: NimbusClient;
  close(): Promise<void>;
}

/** Starts a platform in this process where `url` points (loopback only), with a quiet logger. */
async function startLocalPlatform(url: string, cwd: string, stderr: Writable): Promise<Started> {
  const [{ startServer }, { pino }] = await Promise.all([import('../../server.js'), import('pino')]);
  const { hostname, port } = new URL(url);
  const dataDir = resolve(cwd, SERVER_DEFAULTS.dataDir);
  const server = await startServer({
    host: hostname.replace(/^\[|\]$/g, ''),
    port: Number(port || 80),
    dataDir,
    // Only what needs attention, on the command's own stderr.
    logger: pino({ level: 'warn', base: undefined }, stderr),
  });
  stderr.write(`Started Nimbus on ${server.url} (state in ${dataDir}); it stops with this command.\n`);
  const token = (await readFile(server.adminTokenFile, 'utf8')).trim();
  return { client: new NimbusClient({ url: server.url, token }), close: () => server.close() };
}

export function registerDev(program: Command, ctx: CliContext): void {
  program
    .command('dev')
    .summary('deploy a folder, redeploy it on every change, and print its logs')
    .description('Hot reload for development: deploy <folder>, watch it, redeploy on changes, and tail the logs until Ctrl-C.')
    .argument('<folder>', 'the function folder')
    .option('-n, --name <name>', 'function name (default: the folder name)', parseFunctionName)
    .option('-e, --env <KEY=VALUE>', 'environment variable for the function (repeatable)', collectEnv)
    .addHelpText('after', EXAMPLES)
    .action(async (folder: string, opts: DevOptions, command: Command) => {
      const { io } = ctx;
      const target = resolve(io.cwd, folder);
      if ((await sourceKind(target, folder)) !== 'folder') throw new CliError(`${folder} is a file: nimbus dev watches a folder.`, { exitCode: 2 });
      const name = opts.name ?? functionNameFrom(basename(target));
      if (!name) throw new CliError(`Cannot make a function name from ${JSON.stringify(basename(target))}: pass one with --name.`, { exitCode: 2 });

      let client = ctx.client(command);
      let started: Started | undefined;
      try {
        await client.listFunctions();
      } catch (err) {
        if (!(err instanceof UnreachableError) || !isLoopbackUrl(client.baseUrl)) throw err;
        started = await startLocalPlatform(client.baseUrl, io.cwd, io.stderr);
        client = started.client;
      }

      const c = ctx.out;
      const quiet = { step: () => undefined, stop: () => undefined };
      const deploy = async (): Promise<FunctionInfo> => {
        const pkg = await uploadSource(client, target, 'folder', folder, quiet);
        return client.deployFunction(name, { package: pkg.sha256, ...(opts.env ? { env: opts.env } : {}) });
      };
      const report = (fn: FunctionInfo, verb: string): void => {
        io.stdout.write(`${c.green(verb)} ${c.bold(fn.name)} (version ${fn.version}) ${c.cyan(fn.url)}\n`);
        if (fn.lastStartError) io.stdout.write(`${c.yellow('Its first start failed:')} ${fn.lastStartError.message}\n`);
      };

      const abort = new AbortController();
      let watcher: FSWatcher | undefined;
      try {
        report(await deploy(), 'Deployed');
        io.stdout.write(`Watching ${folder} for changes; Ctrl-C stops.\n`);
        // Redeploys run one at a time; changes during one make exactly one more.
        let timer: NodeJS.Timeout | undefined;
        let running: Promise<void> | undefined;
        let again = false;
        const redeploy = (): void => {
          if (running) {
            again = true;
            return;
          }
          running = deploy()
            .then((fn) => report(fn, 'Redeployed'), (err: unknown) => void io.stdout.write(`${c.red('Not deployed:')} ${(err as Error).message}\n`))
            .finally(() => {
              running = undefined;
              if (again) {
                again = false;
                redeploy();
              }
            });
        };
        watcher = watch(target, { recursive: true }, (_event, file) => {
          if (file && IGNORED.test(join(String(file)))) return;
          clearTimeout(timer);
          timer = setTimeout(redeploy, DEBOUNCE_MS);
        });
        const since = new Date().toISOString();
        const stopListening = io.onSignal(() => abort.abort());
        try {
          await followLogEntries(client, name, { since }, abort.signal, (entry) => void io.stdout.write(formatLogLine(entry, c)));
        } catch (err) {
          if (!abort.signal.aborted) throw err;
        } finally {
          stopListening();
          clearTimeout(timer);
          await running;
        }
      } finally {
        watcher?.close();
        if (started) {
          await started.client.close();
          await started.close();
        }
      }
    });
}
