import type { Dispatcher } from 'undici';
import type { Clock } from '../../core/clock.js';
import { NimbusError } from '../../core/errors.js';
import { initRequestOf, sendInit } from '../runtime-init.js';
import { instanceLimitsOf, type InstanceLimits } from '../../core/spec.js';
import type { FunctionRecord } from '../../store/types.js';
import type { ProvidedInstance } from '../types.js';
import type { ProcessProfile, RuntimeProcess } from './runtime-process.js';

/** What an instance needs from its backend. */
export interface InstanceDeps {
  clock: Clock;
  /** A generic runtime process: a warm spare when there is one, else a freshly spawned one. */
  provideProcess(profile: ProcessProfile): Promise<RuntimeProcess>;
  /** What the function's process must be started with (runtime, memory, network, limits). */
  profile: ProcessProfile;
  /** The function's built code. */
  codeDir: string;
  /** Limit for loading the handler. */
  startTimeoutMs: number;
  /** Whether the instance reports each invocation's CPU time. */
  meterCpu: boolean;
  /** Environment variables added to the function's own `env` at each start (its secrets). */
  secretEnv?(record: FunctionRecord): Promise<Record<string, string>>;
}

/**
 * One function instance: a runtime process specialised with one function version's code (via
 * `POST /__nimbus/init`). Whether it takes work, and when it drains, is decided by the instance
 * manager above the provider.
 */
export class LocalInstance implements ProvidedInstance {
  readonly id: string;
  readonly record: FunctionRecord;
  /** Milliseconds from asking for a process to handler loaded. */
  startMs = 0;
  dispatcher!: Dispatcher;
  /** Resolves once the process has exited (at once for an instance that never got one). */
  readonly exited: Promise<unknown>;

  private process: RuntimeProcess | undefined;
  private markExited!: () => void;

  constructor(
    id: string,
    record: FunctionRecord,
    private readonly deps: InstanceDeps,
  ) {
    this.id = id;
    this.record = record;
    this.exited = new Promise<void>((resolve) => (this.markExited = resolve));
  }

  /** Gets a runtime process and loads the handler into it. Rejects with FUNCTION_START_FAILED. */
  async start(): Promise<void> {
    try {
      await this.startProcess();
    } catch (err) {
      if (!this.process) this.markExited();
      throw err;
    }
  }

  private async startProcess(): Promise<void> {
    const { deps, record } = this;
    const began = deps.clock.monotonic();
    const name = record.spec.name;
    // Resolved per start, so a replaced secret reaches every new instance. Its errors (e.g.
    // SECRET_DECRYPT_FAILED) are reported as they are: no process has been taken yet.
    const secretEnv = deps.secretEnv ? await deps.secretEnv(record) : {};
    let proc: RuntimeProcess;
    try {
      proc = await deps.provideProcess(deps.profile);
    } catch (err) {
      throw new NimbusError('FUNCTION_START_FAILED', `No ${record.spec.runtime} instance of "${name}" could start: ${(err as Error).message}`, { cause: err });
    }
    this.process = proc;
    proc.owner = name;
    proc.onExit(() => this.markExited());
    this.dispatcher = proc.dispatcher;
    try {
      await this.init(proc, secretEnv);
    } catch (err) {
      proc.kill();
      await proc.exited;
      const why = err instanceof NimbusError ? err.message : `the runtime ${proc.exitReason ?? `did not answer (${(err as Error).message})`}`;
      const details = err instanceof NimbusError ? err.details : undefined;
      throw new NimbusError('FUNCTION_START_FAILED', `The instance of "${name}" failed to start: ${why}`, { cause: err, ...(details ? { details } : {}) });
    }
    if (!proc.alive) throw new NimbusError('FUNCTION_START_FAILED', `The instance of "${name}" ${proc.exitReason ?? 'exited'} while starting.`);
    this.startMs = deps.clock.monotonic() - began;
  }

  private async init(proc: RuntimeProcess, secretEnv: Record<string, string>): Promise<void> {
    const { record, deps } = this;
    const body = initRequestOf(record, secretEnv, { codeDir: await proc.mountCode(deps.codeDir) }, deps.meterCpu);
    await sendInit(this.dispatcher, body, deps.startTimeoutMs, 'the handler failed to load');
  }

  /** Graceful stop: SIGTERM (the shim finishes what it serves), SIGKILL after the grace period. */
  async stop(): Promise<void> {
    await this.process?.stop();
  }

  /** Immediate stop (timeouts, crashes). */
  kill(): void {
    this.process?.kill();
  }

  /** Why the process ended; undefined while it runs. */
  exitReason(): string | undefined {
    return this.process?.exitReason;
  }

  /** True when the process ended by exceeding its memory limit. */
  outOfMemory(): boolean {
    return this.process?.outOfMemory ?? false;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }
}

/** The process a function's instances need: all of it is fixed when a process starts. */
export function profileOf(record: FunctionRecord, platformLimits: InstanceLimits): ProcessProfile {
  const { spec } = record;
  return { runtime: spec.runtime, memoryMb: spec.memoryMb, network: spec.network ?? 'outbound', limits: instanceLimitsOf(spec, platformLimits) };
}
