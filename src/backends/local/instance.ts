import type { Dispatcher } from 'undici';
import type { Clock } from '../../core/clock.js';
import { NimbusError } from '../../core/errors.js';
import { INIT_PATH, type InitRequest } from '../../core/runtime-protocol.js';
import { instanceLimitsOf, type InstanceLimits } from '../../core/spec.js';
import type { FunctionRecord } from '../../store/types.js';
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
  /** Environment variables added to the function's own `env` at each start (its secrets). */
  secretEnv?(record: FunctionRecord): Promise<Record<string, string>>;
}

export type InstanceState = 'starting' | 'ready' | 'draining' | 'stopped';

/**
 * One function instance: a runtime process specialised with one function version's code (via
 * `POST /__nimbus/init`), serving that version until it is stopped.
 */
export class LocalInstance {
  readonly id: string;
  readonly record: FunctionRecord;
  state: InstanceState = 'starting';
  /** Invocations currently using this instance. */
  inflight = 0;
  /** Epoch ms of the last release (or of readiness). */
  lastUsed = 0;
  /** When it became ready, on the clock's monotonic scale; Infinity until then. */
  readyAt = Number.POSITIVE_INFINITY;
  /** Milliseconds from asking for a process to handler loaded. */
  startMs = 0;
  dispatcher: Dispatcher | undefined;
  /** Called once when the process exits, for whatever reason. */
  onExit: (instance: LocalInstance) => void = () => undefined;

  private process: RuntimeProcess | undefined;
  private drained: Promise<void> | undefined;
  /** Settles when start() has (either way); a stop asked for meanwhile waits for it. */
  private startSettled: Promise<unknown> | undefined;

  constructor(
    id: string,
    record: FunctionRecord,
    private readonly deps: InstanceDeps,
  ) {
    this.id = id;
    this.record = record;
  }

  /** Gets a runtime process and loads the handler into it. Rejects with FUNCTION_START_FAILED. */
  start(): Promise<void> {
    const starting = this.startProcess();
    this.startSettled = starting.catch(() => undefined);
    return starting;
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
    proc.onExit(() => {
      this.state = 'stopped';
      this.onExit(this);
    });
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
    if (this.state !== 'starting') {
      // Drained while starting (a newer version arrived): never serve.
      await proc.stop();
      this.state = 'stopped';
      return;
    }
    this.state = 'ready';
    this.lastUsed = deps.clock.now();
    this.readyAt = deps.clock.monotonic();
    this.startMs = this.readyAt - began;
  }

  private async init(proc: RuntimeProcess, secretEnv: Record<string, string>): Promise<void> {
    const { record, deps } = this;
    const body: InitRequest = {
      function: record.spec.name,
      version: record.version,
      codeDir: await proc.mountCode(deps.codeDir),
      entry: record.build.entry,
      env: { ...record.spec.env, ...secretEnv },
      timeoutMs: record.spec.timeoutMs,
      memoryMb: record.spec.memoryMb,
      ...(record.build.export ? { export: record.build.export } : {}),
    };
    const res = await this.dispatcher!.request({
      path: INIT_PATH,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(deps.startTimeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      let message = text.slice(0, 500);
      let shimCode: string | undefined;
      try {
        const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } };
        message = error?.message ?? message;
        shimCode = error?.code;
      } catch {
        // keep the raw text
      }
      // The shim's code says whose fault it is (see HANDLER_LOAD_CODES): deploys refuse some.
      throw new NimbusError('FUNCTION_START_FAILED', `the handler failed to load: ${message}`, shimCode ? { details: { loadError: shimCode } } : {});
    }
  }

  /** Stops taking new work; stops once the last in-flight invocation is released. */
  drain(): Promise<void> {
    if (this.state === 'starting' || this.state === 'ready') this.state = 'draining';
    if (this.inflight === 0) return this.stop();
    this.drained ??= new Promise((resolve) => (this.process ? this.process.onExit(resolve) : resolve()));
    return this.drained;
  }

  /** Graceful stop: SIGTERM, then SIGKILL after the grace period. Resolves once exited. */
  stop(): Promise<void> {
    if (this.state !== 'stopped') this.state = 'draining';
    // Still starting: its process may not exist yet, but will (and ends itself, seeing the
    // draining state). Waiting for that keeps a shutdown from removing the run directory
    // under a process being set up in it.
    if (this.state === 'draining' && !this.process && this.startSettled) return this.startSettled.then(() => this.process?.stop());
    return this.process?.stop() ?? Promise.resolve();
  }

  /** Immediate stop (timeouts, crashes). Takes no new work from now on, before the exit is seen. */
  kill(): void {
    if (this.state === 'starting' || this.state === 'ready') this.state = 'draining';
    this.process?.kill();
  }

  /** Why the process ended; undefined while it runs. */
  get exitReason(): string | undefined {
    return this.process?.exitReason;
  }

  /** True when the process ended by exceeding its memory limit. */
  get outOfMemory(): boolean {
    return this.process?.outOfMemory ?? false;
  }

  /** Resolves once the process has exited, or after `ms` (whichever is first). */
  async exitedWithin(ms: number): Promise<void> {
    if (!this.process) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.process.exited, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
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
