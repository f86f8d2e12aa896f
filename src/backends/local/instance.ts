import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { Clock } from '../../core/clock.js';
import { NimbusError } from '../../core/errors.js';
import { INIT_PATH, type InitRequest, type InitResponse } from '../../runtimes/protocol.js';
import type { RuntimeAdapter } from '../../runtimes/types.js';
import type { Sandbox, SandboxedProcess } from '../../sandbox/types.js';
import type { FunctionRecord } from '../../store/types.js';
import type { LogSink } from '../../telemetry/logs.js';
import { captureOutput } from './output.js';
import { waitForReady } from './ready.js';

/** What an instance needs from its backend. */
export interface InstanceDeps {
  sandbox: Sandbox;
  adapter: RuntimeAdapter;
  logs: LogSink;
  clock: Clock;
  /** Directory holding this instance's socket (created and removed by the instance). */
  socketDir: string;
  /** The function's built code. */
  codeDir: string;
  /** Limit for process start plus handler load. */
  startTimeoutMs: number;
  /** Time between SIGTERM and SIGKILL when stopping. */
  stopGraceMs: number;
}

export type InstanceState = 'starting' | 'ready' | 'draining' | 'stopped';

const TAIL_LINES = 5;

/**
 * One running function instance: a runtime shim process serving the runtime protocol on a unix
 * socket. Starts generic, is specialised with `POST /__nimbus/init`, serves until stopped.
 */
export class LocalInstance {
  readonly id: string;
  readonly record: FunctionRecord;
  state: InstanceState = 'starting';
  /** Invocations currently using this instance. */
  inflight = 0;
  /** Epoch ms of the last release (or of readiness). */
  lastUsed = 0;
  /** Epoch ms when it became ready; Infinity until then. */
  readyAt = Number.POSITIVE_INFINITY;
  /** Milliseconds from spawn to handler loaded. */
  startMs = 0;
  dispatcher: Pool | undefined;
  /** Milliseconds the handler took to load (part of startMs). */
  loadMs = 0;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Called once when the process exits, for whatever reason. */
  onExit: (instance: LocalInstance) => void = () => undefined;

  private process: SandboxedProcess | undefined;
  private readonly tail: string[] = [];
  private stopping: Promise<void> | undefined;
  private exited: Promise<unknown> = Promise.resolve();

  constructor(
    id: string,
    record: FunctionRecord,
    private readonly deps: InstanceDeps,
  ) {
    this.id = id;
    this.record = record;
  }

  get socketPath(): string {
    return join(this.deps.socketDir, 'fn.sock');
  }

  /** Spawns the process, waits for it to listen, and loads the handler. Rejects with FUNCTION_START_FAILED. */
  async start(): Promise<void> {
    const { deps, record } = this;
    const began = deps.clock.now();
    await mkdir(deps.socketDir, { recursive: true, mode: 0o700 });
    const { command, args } = deps.adapter.command({ memoryMb: record.spec.memoryMb });
    const proc = deps.sandbox.start({
      command,
      args,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: deps.socketDir, LANG: 'C.UTF-8', NIMBUS_SOCKET: this.socketPath },
      cwd: deps.codeDir,
      codeDir: deps.codeDir,
      socketDir: deps.socketDir,
      memoryMb: record.spec.memoryMb,
    });
    this.process = proc;
    const keepTail = (line: string) => {
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    };
    captureOutput(proc.stdout, 'stdout', record.spec.name, deps.logs, () => undefined);
    captureOutput(proc.stderr, 'stderr', record.spec.name, deps.logs, keepTail);
    this.exited = proc.exited.then((info) => {
      this.exitInfo = info;
      this.state = 'stopped';
      proc.control.destroy();
      void this.dispatcher?.destroy().catch(() => undefined);
      void rm(deps.socketDir, { recursive: true, force: true });
      this.onExit(this);
    });

    try {
      await waitForReady(proc.control, proc.exited, deps.startTimeoutMs);
      this.dispatcher = new Pool('http://localhost', {
        socketPath: this.socketPath,
        connections: record.spec.concurrency,
        // The gateway enforces the one deadline per invocation; no second timeout here.
        headersTimeout: 0,
        bodyTimeout: 0,
        keepAliveTimeout: 60_000,
      });
      this.loadMs = await this.init(Math.max(1, deps.startTimeoutMs - (deps.clock.now() - began)));
    } catch (err) {
      const exitedEarly = this.exitInfo !== undefined;
      this.kill();
      await this.exited;
      // Let the last output lines arrive: they usually say why (a syntax error, a missing file).
      await new Promise((resolve) => setTimeout(resolve, 20));
      const message = err instanceof Error ? err.message : String(err);
      const reason = exitedEarly ? `${message} (${this.exitReason ?? 'no output'})` : message;
      throw new NimbusError('FUNCTION_START_FAILED', `Instance of "${record.spec.name}" failed to start: ${reason}`, {
        cause: err,
      });
    }
    if (this.exitInfo) throw new NimbusError('FUNCTION_START_FAILED', `Instance of "${record.spec.name}" exited while starting: ${this.exitReason ?? 'unknown reason'}`);
    this.state = 'ready';
    this.readyAt = this.lastUsed = deps.clock.now();
    this.startMs = this.readyAt - began;
  }

  private async init(timeoutMs: number): Promise<number> {
    const { record, deps } = this;
    const body: InitRequest = {
      function: record.spec.name,
      version: record.version,
      codeDir: deps.codeDir,
      entry: record.build.entry,
      env: record.spec.env,
      timeoutMs: record.spec.timeoutMs,
      memoryMb: record.spec.memoryMb,
      ...(record.build.export ? { export: record.build.export } : {}),
    };
    const res = await this.dispatcher!.request({
      path: INIT_PATH,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // keep the raw text
      }
      throw new NimbusError('FUNCTION_START_FAILED', `the handler failed to load: ${message}`);
    }
    return (JSON.parse(text) as InitResponse).loadMs;
  }

  /** Stops taking new work; stops once the last in-flight invocation is released. */
  drain(): Promise<void> {
    if (this.state === 'starting' || this.state === 'ready') this.state = 'draining';
    return this.inflight === 0 ? this.stop() : this.exited.then(() => undefined);
  }

  /** Graceful stop: SIGTERM, then SIGKILL after the grace period. Resolves once exited. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.state !== 'stopped') this.state = 'draining';
    const proc = this.process;
    if (!proc) return Promise.resolve();
    proc.kill('SIGTERM');
    const killTimer = setTimeout(() => proc.kill('SIGKILL'), this.deps.stopGraceMs);
    killTimer.unref();
    this.stopping = this.exited.then(() => clearTimeout(killTimer));
    return this.stopping;
  }

  /** Immediate stop (timeouts, crashes). */
  kill(): void {
    this.process?.kill('SIGKILL');
  }

  /** Why the process ended, with its last output line; undefined while it runs. */
  get exitReason(): string | undefined {
    return this.exitInfo && describeExit(this.exitInfo, this.tail);
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }
}

function describeExit(info: { code: number | null; signal: NodeJS.Signals | null }, tail: string[]): string {
  const how = info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
  const last = tail.at(-1);
  return last ? `${how}; last output: ${last.slice(0, 300)}` : how;
}
