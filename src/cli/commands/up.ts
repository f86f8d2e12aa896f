import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatDuration, INVOKE_AUTH_MODES, type InvokeAuth } from '../../api/wire.js';
import { BACKENDS, SANDBOX_MODES, SERVER_DEFAULTS as DEFAULTS, SERVER_OPTION_RANGES as RANGES } from '../../config/server-defaults.js';
import type { RunningServer } from '../../server.js';
import { CliError, type CliContext } from '../context.js';
import { addInstanceLimitOptions, formatSize, parseDurationFlag, parseHostList, parseIntFlag, parsePort, parsePrice, parseSize } from '../flags.js';
import { formatBytes, formatTable, indentTable } from '../format.js';

interface UpOptions {
  host: string;
  port: number;
  dataDir: string;
  maxBody?: number;
  domain: string;
  maxQueue?: number;
  maxQueueWait?: number;
  warmPool?: number;
  sandbox: (typeof SANDBOX_MODES)[number];
  maxProcesses?: number;
  maxOpenFiles?: number;
  tmpSize?: number;
  defaultAuth?: InvokeAuth;
  exposeErrors?: boolean;
  allowHostNetwork?: boolean;
  metricsPublic?: boolean;
  retain?: number;
  maxEndedInvocations?: number;
  callbackHosts?: string[];
  asyncWorkers?: number;
  triggerBacklog?: number;
  ingressKeyFile?: string;
  records: boolean;
  metrics: boolean;
  maxRecords?: number;
  pricePerMillionRequests?: number;
  pricePerGbSecond?: number;
  otlpEndpoint?: string;
  logRetention?: number;
  backend: (typeof BACKENDS)[number];
  namespace?: string;
  kubeconfig?: string;
  packageUrl?: string;
  runtimeClass?: string;
  runtimeImage?: Record<string, string>;
}

/** `--runtime-image node=registry/runtime-node:1` (repeatable): the image of one runtime's pods. */
function collectRuntimeImage(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = value.match(/^(node|python)=(\S+)$/);
  if (!match) throw new CliError(`--runtime-image takes <runtime>=<image> with runtime node or python, e.g. node=registry.example.com/nimbus/runtime-node:0.1.0; got "${value}".`, { exitCode: 2 });
  return { ...previous, [match[1]!]: match[2]! };
}

/** Flags named in the platform's option errors (values only the platform can judge). */
const FLAG_OF_OPTION: Record<string, string> = { callbackHosts: '--callback-hosts', ingressKeyFile: '--ingress-key-file', otlpEndpoint: '--otlp-endpoint (or OTEL_EXPORTER_OTLP_*ENDPOINT)' };

const EXAMPLES = `
Examples:
  $ nimbus up
  $ nimbus up --port 0 --data-dir /var/lib/nimbus
  $ nimbus up --host 0.0.0.0 --max-body 20mb
  $ nimbus up --host 0.0.0.0 --callback-hosts 'hooks.example.com,*.ci.example.com:443'
  $ nimbus up --backend kubernetes --namespace nimbus-fn --kubeconfig ~/.kube/config

Runs the whole platform in this process (API, gateway, instances, embedded store). Ctrl-C stops
it after in-flight requests finish; press Ctrl-C again to stop at once. Platform logs are JSON
lines on stderr; set NIMBUS_LOG_LEVEL (debug, info, warn, error) to choose how much.

The management API needs a token: the admin token is written to <data-dir>/admin.token (mode
0600) at first start. Functions deployed without --auth are public while the platform listens on
loopback only, and need an invoke key otherwise (--default-auth changes that). Functions deployed
with --network host share this machine's network, loopback included; beyond loopback that needs
--allow-host-network.

Async invocations can ask for a callback: a request the platform makes from its own network to
a URL the caller chose. Without --callback-hosts it may go to any host, internal services
included: set the list on a platform others can invoke.`;

export function registerUp(program: Command, ctx: CliContext): void {
  const command = program
    .command('up')
    .summary('run the platform on this machine')
    .description('Start Nimbus: the management API and the gateway on one port, with all state under --data-dir.')
    // Every default shown comes from SERVER_DEFAULTS, which startServer fills absent options from.
    // Flags whose default the platform applies itself (no commander default) leave the option
    // absent, so the status lines can tell a chosen value from the default.
    .option('--host <host>', 'interface to listen on', DEFAULTS.host)
    .option('--port <port>', 'port to listen on; 0 picks a free port', parsePort, DEFAULTS.port)
    .option('--data-dir <dir>', 'where packages, functions and state are kept', DEFAULTS.dataDir)
    .option('--domain <domain>', "functions also answer at <name>.<domain>:<port>, at their own root; '' turns it off", DEFAULTS.domain)
    .option('--max-body <size>', `largest invocation request body, e.g. 6mb, 512kb (default: ${formatSize(DEFAULTS.maxBodyBytes)})`, (v) =>
      parseSize('--max-body', v),
    )
    .option('--max-queue <n>', `requests allowed to wait for capacity, per function (default: ${DEFAULTS.maxQueue})`, (v) =>
      parseIntFlag('--max-queue', v, RANGES.maxQueue),
    )
    .option('--max-queue-wait <duration>', `longest a request waits for capacity before 503 FUNCTION_OVERLOADED (default: ${formatDuration(DEFAULTS.maxQueueWaitMs)})`, (v) =>
      parseDurationFlag('--max-queue-wait', v, RANGES.maxQueueWaitMs),
    )
    .option('--warm-pool <n>', `generic runtime processes kept ready per runtime, for fast cold starts; 0 turns it off (default: ${DEFAULTS.warmPoolSize})`, (v) =>
      parseIntFlag('--warm-pool', v, RANGES.warmPoolSize),
    )
    .addOption(
      new Option('--sandbox <kind>', 'how instances are isolated: auto picks bubblewrap when it works here (see nimbus doctor)')
        .choices(SANDBOX_MODES)
        .default(DEFAULTS.sandbox),
    );
  addInstanceLimitOptions(command, 'for functions that set none; default: ', DEFAULTS.instanceLimits);
  const { loopback, beyondLoopback } = DEFAULTS.defaultAuth;
  command
    .addOption(
      new Option('--default-auth <auth>', `auth of functions deployed without --auth (default: ${loopback} on a loopback --host, else ${beyondLoopback})`).choices(
        INVOKE_AUTH_MODES,
      ),
    )
    .option('--expose-errors', "development: show every caller the function's own error text (e.g. exception messages), not only callers with a read token")
    .option('--allow-host-network', 'accept functions deployed with --network host although --host is not loopback (they reach every service on this machine)')
    .option('--metrics-public', 'serve GET /metrics (Prometheus) without a token, for a scraper on a trusted network; otherwise it needs a token of scope read')
    .option('--async-workers <n>', `async invocations running at once across all functions (default: ${DEFAULTS.asyncWorkers})`, (v) =>
      parseIntFlag('--async-workers', v, RANGES.asyncWorkers),
    )
    .option('--trigger-backlog <n>', `a function's async backlog at which its triggers stop taking events until it drains (default: ${DEFAULTS.triggerBacklog})`, (v) =>
      parseIntFlag('--trigger-backlog', v, RANGES.triggerBacklog),
    )
    .option('--ingress-key-file <file>', 'a file holding a key (at least 32 characters) that lets senders POST CloudEvents to /events, and nothing else')
    .option('--retain <duration>', `how long invocation records (every invocation's history record, ended async ones) are kept, ${formatDuration(RANGES.retainMs.min)} to ${formatDuration(RANGES.retainMs.max)} (default: ${formatDuration(DEFAULTS.retainMs)})`, (v) =>
      parseDurationFlag('--retain', v, RANGES.retainMs),
    )
    .option('--max-ended-invocations <n>', `most ended async invocation records kept, the oldest going first; at least ${RANGES.maxEndedInvocations.min} (default: ${DEFAULTS.maxEndedInvocations})`, (v) =>
      parseIntFlag('--max-ended-invocations', v, RANGES.maxEndedInvocations),
    )
    .option('--no-records', 'keep no invocation history and no usage ledger (the hot path then skips both)')
    .option('--no-metrics', 'keep no Prometheus metrics (/metrics answers 404)')
    .option('--max-records <n>', `most invocation history records kept, the earliest going first; at least ${RANGES.maxRecords.min} (default: ${DEFAULTS.maxRecords})`, (v) =>
      parseIntFlag('--max-records', v, RANGES.maxRecords),
    )
    .option('--price-per-million-requests <price>', 'price of a million invocations: nimbus usage then shows an estimated bill', (v) => parsePrice('--price-per-million-requests', v))
    .option('--price-per-gb-second <price>', 'price of a GB-second (memory size in GB × billed seconds): nimbus usage then shows an estimated bill', (v) =>
      parsePrice('--price-per-gb-second', v),
    )
    .option(
      '--callback-hosts <list>',
      `comma-separated hosts async callbacks may go to: hooks.example.com, *.example.com (its subdomains), 10.0.0.5, [::1], each with an optional :port (default: '${DEFAULTS.callbackHosts.join(',')}', any host; callbacks leave from this machine's network, so set it where others can invoke)`,
      parseHostList,
    )
    .option(
      '--otlp-endpoint <url>',
      'send a trace of every invocation to this OpenTelemetry collector (OTLP/HTTP), e.g. http://127.0.0.1:4318 (default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT, else no tracing)',
    )
    .option('--log-retention <size>', `function output kept on disk per function, in 4 rotated segments (default: ${formatSize(DEFAULTS.logRetentionBytes)})`, (v) => {
      const bytes = parseSize('--log-retention', v);
      if (bytes < RANGES.logRetentionBytes.min) throw new InvalidArgumentError(`--log-retention must be at least ${formatSize(RANGES.logRetentionBytes.min)}.`);
      return bytes;
    })
    .addOption(new Option('--backend <backend>', 'where function instances run: local processes, or pods of a Kubernetes cluster (see docs/kubernetes.md)').choices(BACKENDS).default(DEFAULTS.backend))
    .option('--namespace <namespace>', `kubernetes backend: namespace of the function pods (default: ${DEFAULTS.kubernetes.namespace})`)
    .option('--kubeconfig <file>', 'kubernetes backend: kubeconfig of the cluster (default: the in-cluster config, when Nimbus runs in a pod)')
    .option('--package-url <url>', `kubernetes backend: URL pods fetch function code from, this control plane's package server (default: http://<its address>:${DEFAULTS.kubernetes.packagePort})`)
    .option('--runtime-image <runtime=image>', `kubernetes backend: image of a runtime's pods, repeatable (default: ${DEFAULTS.kubernetes.images.node}, ${DEFAULTS.kubernetes.images.python})`, collectRuntimeImage)
    .option('--runtime-class <name>', 'kubernetes backend: RuntimeClass of function pods, e.g. gvisor or kata (default: none)')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: UpOptions) => {
      const { io } = ctx;
      const c = ctx.out;
      const dataDir = resolve(io.cwd, opts.dataDir);
      // Loaded here so the client commands start fast and never load the platform.
      const [{ startServer }, { pino }] = await Promise.all([import('../../server.js'), import('pino')]);
      // Platform logs (JSON) go to stderr so stdout stays the human status lines scripts parse.
      const logger = pino({ level: io.env['NIMBUS_LOG_LEVEL'] ?? DEFAULTS.logLevel, base: undefined }, pino.destination({ dest: 2, sync: true }));
      const otlpEndpoint = otlpEndpointOf(opts.otlpEndpoint, io.env);
      const serviceName = io.env['OTEL_SERVICE_NAME'];
      let server: RunningServer;
      try {
        server = await startServer({
          host: opts.host,
          port: opts.port,
          dataDir,
          logger,
          domain: opts.domain,
          ...(opts.maxBody !== undefined ? { maxBodyBytes: opts.maxBody } : {}),
          ...(opts.maxQueue !== undefined ? { maxQueue: opts.maxQueue } : {}),
          ...(opts.maxQueueWait !== undefined ? { maxQueueWaitMs: opts.maxQueueWait } : {}),
          ...(opts.warmPool !== undefined ? { warmPoolSize: opts.warmPool } : {}),
          sandbox: opts.sandbox,
          instanceLimits: {
            ...(opts.maxProcesses !== undefined ? { maxProcesses: opts.maxProcesses } : {}),
            ...(opts.maxOpenFiles !== undefined ? { maxOpenFiles: opts.maxOpenFiles } : {}),
            ...(opts.tmpSize !== undefined ? { tmpMb: opts.tmpSize } : {}),
          },
          ...(opts.defaultAuth !== undefined ? { defaultAuth: opts.defaultAuth } : {}),
          ...(opts.exposeErrors ? { exposeErrors: true } : {}),
          ...(opts.allowHostNetwork ? { allowHostNetwork: true } : {}),
          ...(opts.metricsPublic ? { metricsPublic: true } : {}),
          ...(opts.asyncWorkers !== undefined ? { asyncWorkers: opts.asyncWorkers } : {}),
          ...(opts.triggerBacklog !== undefined ? { triggerBacklog: opts.triggerBacklog } : {}),
          ...(opts.retain !== undefined ? { retainMs: opts.retain } : {}),
          ...(opts.ingressKeyFile !== undefined ? { ingressKeyFile: resolve(io.cwd, opts.ingressKeyFile) } : {}),
          ...(opts.maxEndedInvocations !== undefined ? { maxEndedInvocations: opts.maxEndedInvocations } : {}),
          ...(opts.callbackHosts !== undefined ? { callbackHosts: opts.callbackHosts } : {}),
          ...(opts.records ? {} : { records: false }),
          ...(opts.metrics ? {} : { metrics: false }),
          ...(opts.maxRecords !== undefined ? { maxRecords: opts.maxRecords } : {}),
          ...(opts.pricePerMillionRequests !== undefined ? { pricePerMillionRequests: opts.pricePerMillionRequests } : {}),
          ...(opts.pricePerGbSecond !== undefined ? { pricePerGbSecond: opts.pricePerGbSecond } : {}),
          ...(otlpEndpoint !== undefined ? { otlpEndpoint } : {}),
          ...(serviceName ? { serviceName } : {}),
          ...(opts.logRetention !== undefined ? { logRetentionBytes: opts.logRetention } : {}),
          backend: opts.backend,
          ...(opts.backend === 'kubernetes'
            ? {
                kubernetes: {
                  ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
                  ...(opts.kubeconfig !== undefined ? { kubeconfig: resolve(io.cwd, opts.kubeconfig) } : {}),
                  ...(opts.packageUrl !== undefined ? { packageUrl: opts.packageUrl } : {}),
                  ...(opts.runtimeClass !== undefined ? { runtimeClassName: opts.runtimeClass } : {}),
                  ...(opts.runtimeImage !== undefined ? { images: opts.runtimeImage } : {}),
                },
              }
            : {}),
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') {
          throw new CliError(`Port ${opts.port} on ${opts.host} is already in use: stop the other process or pick another with --port (0 picks a free one).`);
        }
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
          throw new CliError(`Cannot listen on ${opts.host}: no such local address. Use --host 127.0.0.1 or 0.0.0.0.`);
        }
        if (code === 'EACCES') {
          throw new CliError(`Not allowed to listen on port ${opts.port} (ports below 1024 need privileges): pick another with --port.`);
        }
        if ((code === 'EEXIST' || code === 'ENOTDIR') && (err as NodeJS.ErrnoException).syscall === 'mkdir') {
          throw new CliError(`--data-dir ${dataDir} cannot be used: ${(err as NodeJS.ErrnoException).path ?? dataDir} exists and is not a directory.`);
        }
        if ((err as Error).name === 'SandboxUnavailableError') throw new CliError(`${(err as Error).message} See: nimbus doctor`);
        if ((err as Error).name === 'KubernetesUnavailableError') throw new CliError(`${(err as Error).message}. Check --kubeconfig and --namespace (docs/kubernetes.md).`);
        // Values the flags' own parsers cannot judge (the callback host patterns) are checked
        // by the platform's options; a bad one is a usage error like any other bad flag value.
        if ((err as Error).name === 'ServerOptionsError') {
          const key = String((err as Error & { key?: unknown }).key ?? '');
          throw new CliError(`Invalid ${FLAG_OF_OPTION[key.split('.')[0] ?? ''] ?? key}: ${(err as Error).message}.`, { exitCode: 2 });
        }
        throw err;
      }

      const out = io.stdout;
      out.write(`Nimbus serving on ${server.url}\n`);
      out.write(`Data dir: ${dataDir}\n`);
      if (opts.backend === 'kubernetes') out.write(`Instances: pods in namespace ${opts.namespace ?? DEFAULTS.kubernetes.namespace}\n`);
      out.write(`Admin token: ${server.adminTokenFile} (log in with: nimbus login --url ${server.url} < ${server.adminTokenFile})\n`);
      out.write(`Dashboard: ${server.url}/ui/ (sign in with the admin token)\n`);
      out.write(
        server.defaultAuth === 'key'
          ? 'Functions: need an invoke key unless deployed with --auth public\n'
          : 'Functions: public unless deployed with --auth key\n',
      );
      if (server.defaultNetwork === 'host') {
        out.write(`${c.yellow('Network:')} functions deployed without --network share this machine's network (install bubblewrap and passt to isolate them; see nimbus doctor)\n`);
      }
      if (opts.domain) out.write(`Function URLs: ${server.url}/fn/<name>/… and ${new URL(server.url).protocol}//<name>.${opts.domain}:${new URL(server.url).port}/…\n`);
      if (otlpEndpoint !== undefined) out.write(`Traces: OTLP/HTTP to ${otlpEndpoint}\n`);
      if (opts.maxBody !== undefined) out.write(`Max request body: ${formatBytes(opts.maxBody)}\n`);
      if (server.protections.length > 0) {
        out.write(`Sandbox: ${server.sandbox}${server.sandbox === 'bubblewrap' ? '' : c.yellow(' (weaker isolation: see nimbus doctor)')}\n`);
        if (server.sandboxProblem && opts.sandbox === 'auto') out.write(`  ${c.yellow('bubblewrap is not in use:')} ${server.sandboxProblem}\n`);
        out.write('Protections:\n');
        const rows = server.protections.map((p) => [p.name, p.active ? c.green('on') : c.yellow('off'), p.detail]);
        out.write(indentTable(formatTable(['', '', ''], rows)));
      }
      out.write(`Press Ctrl-C to stop.\n`);

      await new Promise<void>(() => {
        let stopping = false;
        io.onSignal(() => {
          if (stopping) {
            io.stderr.write('Forced stop.\n');
            io.exit(1);
          }
          stopping = true;
          out.write('Stopping…\n');
          server.close().then(
            () => {
              out.write('Stopped.\n');
              io.exit(0);
            },
            (err: unknown) => {
              io.stderr.write(`Error while stopping: ${(err as Error)?.message ?? String(err)}\n`);
              io.exit(1);
            },
          );
        });
      });
    });
}

/**
 * The OTLP endpoint: the flag, else the standard variables (the traces one is a full URL and
 * wins over the base one, as in the OpenTelemetry SDKs). Undefined: tracing off.
 */
function otlpEndpointOf(flag: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (flag !== undefined) return flag;
  const traces = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  if (traces) return traces;
  return env['OTEL_EXPORTER_OTLP_ENDPOINT'] || undefined;
}
