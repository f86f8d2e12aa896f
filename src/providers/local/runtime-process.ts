import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { Pool } from 'undici';
import { HEALTH_PATH, INVOCATION_ID_HEADER, WARM_UP_PATH } from '../../core/runtime-protocol.js';
import { LIMITS } from '../../core/spec.js';
import type { InstanceLimits, RuntimeName } from '../../core/spec.js';
import type { RuntimeAdapter } from '../../runtime-adapters/types.js';
import type { NetworkPolicy, Sandbox, SandboxedProcess, SandboxExit } from '../../sandbox/types.js';
import type { LogSink } from '../../telemetry/logs.js';
import { captureOutput } from './output.js';
import { waitForReady } from './ready.js';

/** What spawning a runtime process needs. */
export interface RuntimeProcessDeps {
  sandbox: Sandbox;
  adapter: RuntimeAdapter;
  logs: LogSink;
  /** Private directory for the socket; created here, removed when the process exits. */
  socketDir: string;
  startTimeoutMs: number;
  /** Time between SIGTERM and SIGKILL when stopping. */
  stopGraceMs: number;
}

/** What a generic process is started with: what cannot change once it runs. */
export interface ProcessProfile {
  runtime: RuntimeName;
  memoryMb: number;
  network: NetworkPolicy;
  limits: InstanceLimits;
}

type ExitInfo = SandboxExit;

/** What runtimes print when their heap limit is exceeded (V8, CPython). */
const OUT_OF_MEMORY_OUTPUT = /JavaScript heap out of memory|^MemoryError\b/;

const TAIL_LINES = 5;

/** The socket a process listens on, inside its private directory. */
const socketPathIn = (dir: string): string => join(dir, 'fn.sock');

/**
 * A generic runtime shim process listening on its unix socket, not yet specialised with any
 * function's code. The warm pool keeps some ready; an instance takes one and loads its handler.
 * Output is logged under `owner` once it belongs to a function.
 */
export class RuntimeProcess {
  readonly profile: ProcessProfile;
  /** The function this process serves, once taken; output is logged under it. */
  owner: string | undefined;
  /** Milliseconds from spawn to listening. */
  spawnMs = 0;
  readonly exited: Promise<ExitInfo>;
  /**
   * HTTP client bound to the process's socket. It opens connections as needed (the instance's
   * concurrency is enforced by its pool, not here); the gateway enforces deadlines, so no timeouts.
   */
  readonly dispatcher: Pool;

  private exitInfo: ExitInfo | undefined;
  /** The runtime said it ran out of memory (on stderr). */
  private reportedOutOfMemory = false;
  private readonly tail: string[] = [];
  private stopping: Promise<void> | undefined;
  private readonly exitListeners = new Set<() => void>();
  /** Resolves once stdout and stderr have ended (all the output has been read). */
  private readonly outputEnded: Promise<unknown>;

  private constructor(
    private readonly proc: SandboxedProcess,
    private readonly deps: RuntimeProcessDeps,
    profile: ProcessProfile,
  ) {
    this.profile = profile;
    this.dispatcher = new Pool('http://localhost', {
      socketPath: socketPathIn(deps.socketDir),
      connections: LIMITS.concurrency.max,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 60_000,
    });
    const owner = () => this.owner;
    this.outputEnded = Promise.all([proc.stdout, proc.stderr].map((stream) => finished(stream).catch(() => undefined)));
    captureOutput(proc.stdout, 'stdout', owner, deps.logs, () => undefined);
    captureOutput(proc.stderr, 'stderr', owner, deps.logs, (line) => {
      // Remembered apart from the tail: a native stack trace follows V8's message.
      if (OUT_OF_MEMORY_OUTPUT.test(line)) this.reportedOutOfMemory = true;
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    });
    this.exited = proc.exited.then((info) => {
      this.exitInfo = info;
      proc.control.destroy();
      void this.dispatcher.destroy().catch(() => undefined);
      // Never rejects: what an instance left there that the platform cannot remove stays (the sandbox removes what it must).
      void rm(deps.socketDir, { recursive: true, force: true }).catch(() => undefined);
      for (const listener of this.exitListeners) listener();
      return info;
    });
  }

  /** Starts a process and resolves once it listens; rejects (with its last output) when it cannot. */
  static async spawn(deps: RuntimeProcessDeps, profile: ProcessProfile): Promise<RuntimeProcess> {
    const began = performance.now();
    await mkdir(deps.socketDir, { recursive: true, mode: 0o700 });
    const { memoryMb, network } = profile;
    const { command, args } = deps.adapter.command({ memoryMb });
    const socketPath = socketPathIn(deps.socketDir);
    const proc = await deps.sandbox.start({
      command,
      args,
      runtimePaths: deps.adapter.runtimePaths(),
      // Nothing of the platform's environment: user variables arrive with the specialisation.
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: deps.socketDir, LANG: 'C.UTF-8', NIMBUS_SOCKET: socketPath },
      socketDir: deps.socketDir,
      network,
      limits: { ...profile.limits, memoryMb },
    });
    const child = new RuntimeProcess(proc, deps, profile);
    try {
      await waitForReady(proc.control, proc.exited, deps.startTimeoutMs);
    } catch (err) {
      child.kill();
      await child.exited;
      // Let the last output lines arrive: they usually say why (a missing interpreter, bubblewrap
      // unable to bind a path). Bounded: a grandchild could hold the pipes open.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([child.outputEnded, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
      throw new Error(`${(err as Error).message}${child.tail.length ? `; last output: ${child.tail.at(-1)!.slice(0, 300)}` : ''}`);
    }
    child.spawnMs = performance.now() - began;
    return child;
  }

  /**
   * Readies a waiting process for a fast first invocation: a few requests open the connection
   * and run the HTTP code paths on both sides once, so the specialisation and the first request
   * after it do not pay for that.
   */
  async prime(requests = 3): Promise<void> {
    for (let i = 0; i < requests && this.alive; i++) {
      const health = await this.dispatcher.request({ path: HEALTH_PATH, method: 'GET' });
      await health.body.dump();
      // A warm-up invocation with a body, as the init request has one (runtimes without warm-up
      // answer it like an unknown path).
      const warm = await this.dispatcher.request({
        path: WARM_UP_PATH,
        method: 'POST',
        headers: { 'content-type': 'application/json', [INVOCATION_ID_HEADER]: 'warm-up' },
        body: '{"warm":true}',
      });
      await warm.body.dump();
    }
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Makes the function's code visible to the process; answers the path it loads it from. */
  mountCode(hostDir: string): Promise<string> {
    return this.proc.mountCode(hostDir);
  }

  /** True when the process ended because it exceeded its memory limit. */
  get outOfMemory(): boolean {
    return this.exitInfo !== undefined && (this.exitInfo.outOfMemory || this.reportedOutOfMemory);
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Why the process ended, with its last output line; undefined while it runs. */
  get exitReason(): string | undefined {
    if (!this.exitInfo) return undefined;
    const { code, signal } = this.exitInfo;
    const how = this.outOfMemory ? `ran out of memory (limit ${this.profile.memoryMb} MB)` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const last = this.tail.at(-1);
    return last ? `${how} (last output: ${last.slice(0, 300)})` : how;
  }

  /** Calls `listener` once the process has exited (at once if it already has). */
  onExit(listener: () => void): void {
    if (this.exitInfo) listener();
    else this.exitListeners.add(listener);
  }

  /** Graceful stop: SIGTERM (the shim finishes in-flight work), SIGKILL after the grace period. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.proc.kill('SIGTERM');
    const killTimer = setTimeout(() => this.proc.kill('SIGKILL'), this.deps.stopGraceMs);
    killTimer.unref();
    this.stopping = this.exited.then(() => clearTimeout(killTimer));
    return this.stopping;
  }

  /** Immediate stop (timeouts, crashes, failed starts). */
  kill(): void {
    this.proc.kill('SIGKILL');
  }
}
