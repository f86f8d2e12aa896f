import type { Clock } from '../core/clock.js';
import { isNimbusError, NimbusError } from '../core/errors.js';
import { assertFunctionName, DEFAULT_CONCURRENCY, type FunctionConfig, type FunctionSpec, LIMITS, type NetworkPolicy, parseFunctionConfig } from '../core/spec.js';
import type { Builder, PackageRepository } from '../packages/types.js';
import { checkSecretReferences } from '../secrets/references.js';
import type { FunctionRecord, FunctionRepository, SecretRepository } from '../store/types.js';
import { checkDestinations, resolveAsyncSettings } from './async-settings.js';
import type { ChangeFeed } from './change-feed.js';

/** What {@link FunctionService} needs. */
export interface FunctionServiceDeps {
  functions: FunctionRepository;
  /** Read to check the secrets a deploy refers to. */
  secrets: Pick<SecretRepository, 'listSecrets'>;
  packages: Pick<PackageRepository, 'has'>;
  builder: Pick<Builder, 'build'>;
  /** Where deploys and removals are told (the cache, the invoke-key cache, the logs and the instances follow it). */
  feed: Pick<ChangeFeed, 'publish'>;
  clock: Clock;
  /**
   * Optional: starts one short-lived instance of a version not yet stored and loads its handler
   * (the backend's `check`). Rejects as a start would, with `details.loadError` the shim's code
   * when the handler failed to load. Absent, deploys are not checked.
   */
  check?(candidate: FunctionRecord): Promise<void>;
  /** Network policies the sandbox can enforce; others are refused rather than silently not applied. */
  networkPolicies: readonly NetworkPolicy[];
  /** Why network `host` is refused on this platform (it listens beyond loopback); undefined when it is allowed. */
  hostNetworkRefusal?: string | undefined;
  sandboxName: string;
}

/**
 * The control plane's function operations: the deploy workflow, reads, removal. Deploys are
 * all-or-nothing: the package must exist and build before the new version is stored, so a failed
 * deploy leaves the previous version serving. Every change is stored first, then published on the
 * change feed; the parts that keep something about functions follow the feed.
 */
export class FunctionService {
  constructor(private readonly deps: FunctionServiceDeps) {}

  /**
   * The network of functions deployed without one: `outbound` where the sandbox can isolate it.
   * Where it cannot (no bubblewrap or no pasta) and the platform listens on loopback only, `host`:
   * what every instance had before network isolation existed, so a machine with nothing but Node
   * still runs the walk-through; `nimbus up` says so. Beyond loopback the default stays `outbound`,
   * which such a host refuses: exposure is never the silent default.
   */
  get defaultNetwork(): NetworkPolicy {
    const { networkPolicies, hostNetworkRefusal } = this.deps;
    return networkPolicies.includes('outbound') || hostNetworkRefusal ? 'outbound' : 'host';
  }

  /** Refuses a network policy the sandbox cannot enforce, or `host` where it is not allowed. */
  private checkNetwork(network: NetworkPolicy): void {
    const { networkPolicies, sandboxName, hostNetworkRefusal } = this.deps;
    if (!networkPolicies.includes(network)) {
      const install = network === 'outbound' && sandboxName === 'bubblewrap' ? 'install pasta (Debian/Ubuntu: apt-get install passt)' : 'install bubblewrap and pasta';
      throw new NimbusError('UNSUPPORTED_ON_HOST', `network "${network}" cannot be enforced by the ${sandboxName} sandbox on this host: ${install} (see nimbus doctor), or deploy with network ${networkPolicies.map((p) => `"${p}"`).join(' or ')}.`, {
        details: { field: 'network' },
      });
    }
    if (network === 'host' && hostNetworkRefusal) throw new NimbusError('HOST_NETWORK_NOT_ALLOWED', hostNetworkRefusal, { details: { field: 'network' } });
  }

  /**
   * Creates a function or deploys a new version. Settings not given keep their previous values
   * (defaults for a new function); runtime and handler not given are detected from the new code.
   */
  async deploy(name: string, body: unknown): Promise<{ record: FunctionRecord; created: boolean }> {
    assertFunctionName(name);
    const config = parseFunctionConfig(body);
    this.checkNetwork(config.network ?? (await this.deps.functions.getFunction(name))?.spec.network ?? this.defaultNetwork);
    if (!(await this.deps.packages.has(config.package))) {
      throw new NimbusError('PACKAGE_NOT_FOUND', `No package ${config.package} was uploaded. Upload the code first with POST /api/v1/packages.`, {
        details: { field: 'package' },
      });
    }
    const previousRecord = await this.deps.functions.getFunction(name);
    const previous = previousRecord?.spec;
    const previousVersion = previousRecord?.version;
    const env = config.env ?? previous?.env ?? {};
    const secrets = config.secrets ?? previous?.secrets ?? [];
    await checkSecretReferences(this.deps.secrets, env, secrets);
    await checkDestinations(name, config, this.deps.functions);
    const built = await this.deps.builder.build(config.package, { runtime: config.runtime, handler: config.handler, command: config.command, protocol: config.protocol });
    const runtimeChanged = previous !== undefined && previous.runtime !== built.runtime;
    const spec: FunctionSpec = {
      name,
      runtime: built.runtime,
      handler: built.handler,
      ...(built.runtime === 'exec' ? { protocol: built.build.export === 'stdio' ? 'stdio' : 'http' } : {}),
      env,
      secrets,
      timeoutMs: config.timeout ?? previous?.timeoutMs ?? LIMITS.timeoutMs.default,
      memoryMb: config.memory ?? previous?.memoryMb ?? LIMITS.memoryMb.default,
      idleTimeoutMs: config.idleTimeout ?? previous?.idleTimeoutMs ?? LIMITS.idleTimeoutMs.default,
      concurrency: config.concurrency ?? (runtimeChanged ? undefined : previous?.concurrency) ?? DEFAULT_CONCURRENCY[built.runtime],
      maxInstances: config.maxInstances ?? previous?.maxInstances ?? LIMITS.maxInstances.default,
      minInstances: config.minInstances ?? previous?.minInstances ?? LIMITS.minInstances.default,
      network: config.network ?? previous?.network ?? this.defaultNetwork,
      ...ownLimits(config, previous),
      packageSha256: config.package,
      ...resolveAsyncSettings(config, previous),
    };
    const auth = config.auth ?? previous?.auth;
    if (auth !== undefined) spec.auth = auth;
    await this.checkStart({ spec, version: (previousVersion ?? 0) + 1, build: built.build, createdAt: this.deps.clock.now(), updatedAt: this.deps.clock.now() });
    // Again: a secret may have been removed while the code was building.
    await checkSecretReferences(this.deps.secrets, env, secrets);
    const record = await this.deps.functions.putFunction(spec, built.build, this.deps.clock.now());
    await this.deps.feed.publish({ type: 'function.deployed', record });
    return { record, created: previous === undefined };
  }

  async get(name: string): Promise<FunctionRecord> {
    const record = await this.deps.functions.getFunction(name);
    if (!record) throw notFound(name);
    return record;
  }

  list(): Promise<FunctionRecord[]> {
    return this.deps.functions.listFunctions();
  }

  /**
   * Deletes the function. Resolves once the feed's handlers have settled: in-flight invocations
   * have finished and its instances have stopped.
   */
  async remove(name: string): Promise<void> {
    if (!(await this.deps.functions.deleteFunction(name))) throw notFound(name);
    await this.deps.feed.publish({ type: 'function.removed', name });
  }

  /**
   * Loads the new version's handler once in a short-lived instance before it is stored. Code that
   * can never run (no handler of an accepted form, a syntax error) is refused with a 400 naming
   * the file and what to do, and the previous version keeps serving. Any other failed start (an
   * exception at import, a program that exits) does not block the deploy: it shows as the
   * function's `lastStartError`, which the deploy's answer carries.
   */
  private async checkStart(candidate: FunctionRecord): Promise<void> {
    if (!this.deps.check) return;
    try {
      await this.deps.check(candidate);
    } catch (err) {
      const loadError = isNimbusError(err) ? err.details?.loadError : undefined;
      if (loadError !== 'HANDLER_NOT_FOUND' && loadError !== 'HANDLER_SYNTAX_ERROR') return;
      const why = (err as Error).message.replace(/^The instance of "[^"]*" failed to start: the handler failed to load: /, '');
      throw new NimbusError(loadError, `${why} Nothing was deployed${candidate.version > 1 ? `; version ${candidate.version - 1} keeps serving` : ''}.`, {
        details: { field: 'handler' },
      });
    }
  }
}

/** The instance limits a deploy sets, or its previous version had (unset ones follow the platform). */
function ownLimits(config: FunctionConfig, previous: FunctionSpec | undefined): Pick<FunctionSpec, 'maxProcesses' | 'maxOpenFiles' | 'tmpMb'> {
  const own: Pick<FunctionSpec, 'maxProcesses' | 'maxOpenFiles' | 'tmpMb'> = {};
  const maxProcesses = config.maxProcesses ?? previous?.maxProcesses;
  const maxOpenFiles = config.maxOpenFiles ?? previous?.maxOpenFiles;
  const tmpMb = config.tmpSize ?? previous?.tmpMb;
  if (maxProcesses !== undefined) own.maxProcesses = maxProcesses;
  if (maxOpenFiles !== undefined) own.maxOpenFiles = maxOpenFiles;
  if (tmpMb !== undefined) own.tmpMb = tmpMb;
  return own;
}

/** FUNCTION_NOT_FOUND with a hint. */
export function notFound(name: string): NimbusError {
  return new NimbusError('FUNCTION_NOT_FOUND', `No function named "${name}" is deployed. See the list with: nimbus ls`);
}
