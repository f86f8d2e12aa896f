import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { NimbusError } from '../../core/errors.js';
import { StartTracker } from '../runtime-init.js';
import { SERVER_DEFAULTS } from '../../config/server-defaults.js';
import { DEFAULT_INSTANCE_LIMITS, type InstanceLimits, LIMITS, type NetworkPolicy, type RuntimeName } from '../../core/spec.js';
import { stageRuntimes } from '../../runtime-adapters/staging.js';
import type { RuntimeAdapter } from '../../runtime-adapters/types.js';
import type { Sandbox } from '../../sandbox/types.js';
import type { FunctionRecord } from '../../store/types.js';
import type { LogSink } from '../../telemetry/logs.js';
import type { InstanceProvider } from '../types.js';
import { LocalInstance, profileOf } from './instance.js';
import { createRunDir } from './run-dir.js';
import { RuntimeProcess, type ProcessProfile } from './runtime-process.js';
import { WarmPool } from './warm-pool.js';

/** Settings of the local provider. */
export interface LocalProviderOptions {
  sandbox: Sandbox;
  runtimes: Record<RuntimeName, RuntimeAdapter>;
  logs: LogSink;
  clock: Clock;
  /** Where a function version's built code lives. */
  codeDir(record: FunctionRecord): string;
  /** Environment variables added to a function's `env` when an instance starts (its secrets). */
  secretEnv?(record: FunctionRecord): Promise<Record<string, string>>;
  /** Limit for starting an instance and loading its handler. @default 10000 */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL. @default 3000 */
  stopGraceMs?: number;
  /** Generic processes kept ready per runtime and memory size, for fast cold starts. @default 1 */
  warmPoolSize?: number;
  /** Memory sizes kept warm from the start, per runtime. @default the default memory size */
  warmMemoryMb?: number[];
  /** Instance limits of functions that set none of their own. @default DEFAULT_INSTANCE_LIMITS */
  limits?: Partial<InstanceLimits>;
  /** Whether instances report each invocation's CPU time (read only into invocation records). @default true */
  meterCpu?: boolean;
  /** Reports a runtime process that could not start while filling the warm pool. */
  onWarmPoolError?(err: unknown): void;
}

/** How often unused warm spares are looked for (they retire after 10 minutes without a take). */
const RETIRE_CHECK_MS = 10_000;

/**
 * Runs instances as local processes (through the sandbox), specialised from a warm pool of
 * generic runtime processes. Unix sockets live in a short private directory under the OS temp
 * dir: socket paths are limited to ~107 bytes, and a deep data dir would exceed that.
 */
export class LocalProvider implements InstanceProvider {
  private readonly runDir: string;
  private readonly stopRetiring: () => void;
  private readonly warm: WarmPool;
  /** The runtimes, with their shim files staged in the run directory. */
  private readonly runtimes: Record<RuntimeName, RuntimeAdapter>;
  /** Instances started and not yet exited. */
  private readonly running = new Set<LocalInstance>();
  /** Starts under way: a shutdown waits for them, so nothing starts in a removed run directory. */
  private readonly starting = new StartTracker();
  private shuttingDown = false;
  private nextId = 1;

  /** Instance limits of functions that set none of their own. */
  private readonly limits: InstanceLimits;

  constructor(private readonly options: LocalProviderOptions) {
    this.limits = { ...DEFAULT_INSTANCE_LIMITS, ...options.limits };
    this.runDir = createRunDir();
    this.runtimes = stageRuntimes(options.runtimes, join(this.runDir, 'runtimes'));
    this.stopRetiring = options.clock.every(RETIRE_CHECK_MS, () => this.warm.retireUnused(options.clock.now()));
    const runtimes = Object.keys(options.runtimes) as RuntimeName[];
    // The network of functions deployed with defaults, with its namespace created ahead of time:
    // attaching pasta is then never on the cold path. A sandbox without it serves only `host`.
    const defaultNetwork: NetworkPolicy = options.sandbox.networkPolicies.includes('outbound') ? 'outbound' : 'host';
    this.warm = new WarmPool(
      (profile) => this.spawnProcess(profile),
      options.clock,
      {
        size: options.warmPoolSize ?? SERVER_DEFAULTS.warmPoolSize,
        // Exec spares are kept once exec functions run: most platforms never start one.
        always: runtimes.filter((runtime) => runtime !== 'exec').flatMap((runtime) =>
          (options.warmMemoryMb ?? [LIMITS.memoryMb.default]).map((memoryMb) => ({ runtime, memoryMb, network: defaultNetwork, limits: this.limits })),
        ),
        retireAfterMs: 10 * 60_000,
      },
      options.onWarmPoolError ?? (() => undefined),
    );
  }

  /** Starts a generic runtime process in its own socket directory. */
  private spawnProcess(profile: ProcessProfile): Promise<RuntimeProcess> {
    const id = `p${(this.nextId++).toString(36)}${randomBytes(3).toString('hex')}`;
    return RuntimeProcess.spawn(
      {
        sandbox: this.options.sandbox,
        adapter: this.runtimes[profile.runtime],
        logs: this.options.logs,
        socketDir: join(this.runDir, id),
        startTimeoutMs: this.options.startTimeoutMs ?? SERVER_DEFAULTS.startTimeoutMs,
        stopGraceMs: this.options.stopGraceMs ?? SERVER_DEFAULTS.stopGraceMs,
      },
      profile,
    );
  }

  start(fn: FunctionRecord): Promise<LocalInstance> {
    return this.track(() => this.startInstance(fn, true));
  }

  /** Runs `start` unless shutting down, counting it among the starts a shutdown waits for. */
  private track(start: () => Promise<LocalInstance>): Promise<LocalInstance> {
    return this.starting.track(start);
  }

  /** Starts an instance of `fn`, on a warm spare when `pooled` and one is ready. */
  private async startInstance(fn: FunctionRecord, pooled: boolean): Promise<LocalInstance> {
    const instance = this.createInstance(fn, pooled);
    await instance.start();
    if (this.shuttingDown) {
      // Shutdown began while it started: it never serves.
      await instance.stop();
      throw shuttingDown();
    }
    this.running.add(instance);
    void instance.exited.then(() => this.running.delete(instance));
    return instance;
  }

  private createInstance(record: FunctionRecord, pooled: boolean): LocalInstance {
    const id = `${record.spec.name}-${record.version}-${(this.nextId++).toString(36)}${randomBytes(2).toString('hex')}`;
    return new LocalInstance(id, record, {
      clock: this.options.clock,
      codeDir: this.options.codeDir(record),
      startTimeoutMs: this.options.startTimeoutMs ?? SERVER_DEFAULTS.startTimeoutMs,
      meterCpu: this.options.meterCpu ?? true,
      ...(this.options.secretEnv ? { secretEnv: this.options.secretEnv } : {}),
      profile: profileOf(record, this.limits),
      provideProcess: async (profile) => (pooled ? this.warm.take(profile) : undefined) ?? (await this.spawnProcess(profile)),
    });
  }

  /**
   * Loads `fn` once in an instance of its own and stops it. Never on a warm spare: the spare is
   * there for the function's first invocation, which would otherwise find the pool still refilling
   * (a sandboxed spare takes 100-400 ms to make) and start cold after all. The deploy pays the
   * spawn instead.
   */
  async check(fn: FunctionRecord): Promise<void> {
    const instance = await this.track(() => this.startInstance(fn, false));
    await instance.stop();
  }

  /** Warm spares ready now, across profiles. */
  get spareCount(): number {
    return this.warm.spareCount;
  }

  list(name?: string): LocalInstance[] {
    const all = [...this.running];
    return name === undefined ? all : all.filter((instance) => instance.record.spec.name === name);
  }

  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.stopRetiring();
    await this.starting.close();
    await Promise.all([this.warm.shutdown(), ...[...this.running].map((instance) => instance.stop())]);
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

function shuttingDown(): NimbusError {
  return new NimbusError('SHUTTING_DOWN', 'Nimbus is shutting down; retry against another instance or later.');
}
