import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { NimbusError } from '../../core/errors.js';
import { DEFAULT_INSTANCE_LIMITS, type InstanceLimits, type NetworkPolicy, type RuntimeName } from '../../core/spec.js';
import { stageRuntimes } from '../../runtime-adapters/staging.js';
import type { RuntimeAdapter } from '../../runtime-adapters/types.js';
import type { Sandbox } from '../../sandbox/types.js';
import type { FunctionRecord } from '../../store/types.js';
import type { LogSink } from '../../telemetry/logs.js';
import type { Backend, FunctionStatus, InstanceLease } from '../types.js';
import { FunctionPool } from './function-pool.js';
import { LocalInstance, profileOf } from './instance.js';
import { createRunDir } from './run-dir.js';
import { RuntimeProcess, type ProcessProfile } from './runtime-process.js';
import { WarmPool } from './warm-pool.js';

/** Settings of the local backend. */
export interface LocalBackendOptions {
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
  /** Requests allowed to wait for capacity per function. @default 1000 */
  maxQueue?: number;
  /** Longest a request waits for capacity before FUNCTION_OVERLOADED. @default 10000 */
  maxQueueWaitMs?: number;
  /** How often the autoscaler decides. @default 1000 */
  scaleIntervalMs?: number;
  /** Generic processes kept ready per runtime and memory size, for fast cold starts. @default 1 */
  warmPoolSize?: number;
  /** Memory sizes kept warm from the start, per runtime (the default size). @default [256] */
  warmMemoryMb?: number[];
  /** Instance limits of functions that set none of their own. @default DEFAULT_INSTANCE_LIMITS */
  limits?: Partial<InstanceLimits>;
  /** Reports a runtime process that could not start while filling the warm pool. */
  onWarmPoolError?(err: unknown): void;
}

/**
 * Runs instances as local processes (through the sandbox), one pool per function. Unix sockets
 * live in a short private directory under the OS temp dir: socket paths are limited to ~107 bytes,
 * and a deep data dir would exceed that.
 */
export class LocalBackend implements Backend {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly runDir: string;
  private readonly stopReaper: () => void;
  private readonly warm: WarmPool;
  /** The runtimes, with their shim files staged in the run directory. */
  private readonly runtimes: Record<RuntimeName, RuntimeAdapter>;
  private shuttingDown = false;
  /** The last failed start per function, until one succeeds (`nimbus get` shows it). */
  private readonly startErrors = new Map<string, { message: string; at: number }>();
  private nextId = 1;

  /** Instance limits of functions that set none of their own. */
  private readonly limits: InstanceLimits;

  constructor(private readonly options: LocalBackendOptions) {
    this.limits = { ...DEFAULT_INSTANCE_LIMITS, ...options.limits };
    this.runDir = createRunDir();
    this.runtimes = stageRuntimes(options.runtimes, join(this.runDir, 'runtimes'));
    this.stopReaper = options.clock.every(options.scaleIntervalMs ?? 1000, () => this.tick());
    const runtimes = Object.keys(options.runtimes) as RuntimeName[];
    // The network of functions deployed with defaults, with its namespace created ahead of time:
    // attaching pasta is then never on the cold path. A sandbox without it serves only `host`.
    const defaultNetwork: NetworkPolicy = options.sandbox.networkPolicies.includes('outbound') ? 'outbound' : 'host';
    this.warm = new WarmPool(
      (profile) => this.spawnProcess(profile),
      options.clock,
      {
        size: options.warmPoolSize ?? 1,
        // Exec spares are kept once exec functions run: most platforms never start one.
        always: runtimes.filter((runtime) => runtime !== 'exec').flatMap((runtime) =>
          (options.warmMemoryMb ?? [256]).map((memoryMb) => ({ runtime, memoryMb, network: defaultNetwork, limits: this.limits })),
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
        startTimeoutMs: this.options.startTimeoutMs ?? 10_000,
        stopGraceMs: this.options.stopGraceMs ?? 3000,
      },
      profile,
    );
  }

  tryAcquire(fn: FunctionRecord): InstanceLease | undefined {
    return this.shuttingDown ? undefined : this.pools.get(fn.spec.name)?.tryAcquire(fn);
  }

  acquire(fn: FunctionRecord, signal: AbortSignal): Promise<InstanceLease> {
    if (this.shuttingDown) return Promise.reject(new NimbusError('SHUTTING_DOWN', 'Nimbus is shutting down; retry against another instance or later.'));
    return this.pool(fn).acquire(fn, signal);
  }

  /** A function was deployed (or found at start-up): keep its minimum instances running. */
  configure(fn: FunctionRecord): void {
    if (this.shuttingDown) return;
    const pool = this.pools.get(fn.spec.name);
    if (pool) {
      pool.update(fn);
    } else if ((fn.spec.minInstances ?? 0) > 0) {
      this.pool(fn).tick(this.options.clock.now());
    }
  }

  private pool(fn: FunctionRecord): FunctionPool {
    let pool = this.pools.get(fn.spec.name);
    if (!pool) {
      pool = new FunctionPool(fn, {
        clock: this.options.clock,
        maxQueue: this.options.maxQueue ?? 1000,
        maxQueueWaitMs: this.options.maxQueueWaitMs ?? 10_000,
        createInstance: (record) => this.createInstance(record),
        onStart: (name, err) => this.noteStart(name, err),
      });
      this.pools.set(fn.spec.name, pool);
    }
    return pool;
  }

  private createInstance(record: FunctionRecord): LocalInstance {
    const id = `${record.spec.name}-${record.version}-${(this.nextId++).toString(36)}${randomBytes(2).toString('hex')}`;
    return new LocalInstance(id, record, {
      clock: this.options.clock,
      codeDir: this.options.codeDir(record),
      startTimeoutMs: this.options.startTimeoutMs ?? 10_000,
      ...(this.options.secretEnv ? { secretEnv: this.options.secretEnv } : {}),
      profile: profileOf(record, this.limits),
      provideProcess: async (profile) => this.warm.take(profile) ?? (await this.spawnProcess(profile)),
    });
  }

  /** Replaces the function's running instances: they drain, and new requests start fresh ones. */
  recycle(name: string): void {
    this.pools.get(name)?.recycle();
  }

  status(name: string): FunctionStatus {
    const status = this.pools.get(name)?.status() ?? { instances: 0, ready: 0, inflight: 0, queued: 0, desired: 0 };
    const failed = this.startErrors.get(name);
    return failed ? { ...status, lastStartError: failed } : status;
  }

  async check(fn: FunctionRecord): Promise<void> {
    const instance = this.createInstance(fn);
    try {
      await instance.start();
    } catch (err) {
      this.noteStart(fn.spec.name, err);
      throw err;
    }
    this.noteStart(fn.spec.name, undefined);
    await instance.stop();
  }

  /** Remembers the outcome of a function's latest instance start, for status(). */
  private noteStart(name: string, err: unknown): void {
    if (err === undefined) this.startErrors.delete(name);
    else this.startErrors.set(name, { message: (err as Error).message, at: this.options.clock.now() });
  }

  /** Process ids of a function's instances (for tests and diagnostics). */
  pids(name: string): number[] {
    const pool = this.pools.get(name);
    return pool ? [...pool.instances].flatMap((i) => (i.pid !== undefined && i.pid > 0 ? [i.pid] : [])) : [];
  }

  async remove(name: string): Promise<void> {
    const pool = this.pools.get(name);
    this.startErrors.delete(name);
    if (!pool) return;
    this.pools.delete(name);
    pool.failWaiters(new NimbusError('FUNCTION_NOT_FOUND', `Function "${name}" was removed.`));
    await pool.drainAll();
  }

  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.stopReaper();
    const pools = [...this.pools.values()];
    this.pools.clear();
    for (const pool of pools) pool.failWaiters(new NimbusError('SHUTTING_DOWN', 'Nimbus is shutting down.'));
    await Promise.all([this.warm.shutdown(), ...pools.map((pool) => pool.drainAll())]);
    rmSync(this.runDir, { recursive: true, force: true });
  }

  /** One autoscaling round over every function, and retirement of unused warm spares. */
  private tick(): void {
    const now = this.options.clock.now();
    this.warm.retireUnused(now);
    for (const [name, pool] of this.pools) {
      pool.tick(now);
      if (pool.idle && pool.desired === 0) this.pools.delete(name);
    }
  }
}
