/**
 * A provider whose instances are HTTP servers in the test process, on 127.0.0.1 port 0 (in the
 * manner of faas-provider's mock resolver): the invoker, admission and scaling above it run for
 * real against a real socket; only the function behind it is a test's JavaScript. It passes the
 * same provider contract as the local provider.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { NimbusError } from '../../src/core/errors.js';
import type { InstanceProvider, ProvidedInstance } from '../../src/providers/types.js';
import { HEALTH_PATH, SHIM_ERROR_HEADER } from '../../src/core/runtime-protocol.js';
import type { FunctionRecord } from '../../src/store/types.js';

/** A function's behaviour: answer the request (the instance's health checks are answered for it). */
export type FakeHandler = (req: IncomingMessage, res: ServerResponse, instance: InProcessInstance) => void | Promise<void>;

/** Answers like a shim whose handler threw (status 500 and the shim's error header). */
export function throwLikeAShim(res: ServerResponse, message: string): void {
  res.writeHead(500, { [SHIM_ERROR_HEADER]: 'HANDLER_ERROR', 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { type: 'Error', message } }));
}

export class InProcessInstance implements ProvidedInstance {
  readonly dispatcher: Pool;
  readonly exited: Promise<void>;
  /** Set when it ended. */
  reason: string | undefined;
  /** Invocations it received (health checks not counted). */
  served = 0;
  private markExited!: () => void;

  constructor(
    readonly id: string,
    readonly record: FunctionRecord,
    readonly startMs: number,
    private readonly server: Server,
  ) {
    const { port } = server.address() as AddressInfo;
    this.dispatcher = new Pool(`http://127.0.0.1:${port}`, { headersTimeout: 0, bodyTimeout: 0 });
    this.exited = new Promise((resolve) => (this.markExited = resolve));
  }

  async stop(): Promise<void> {
    await this.end('exited after a stop', false);
  }

  kill(): void {
    void this.end('was killed', true);
  }

  exitReason(): string | undefined {
    return this.reason;
  }

  outOfMemory(): boolean {
    return false;
  }

  private async end(reason: string, cut: boolean): Promise<void> {
    if (this.reason === undefined) {
      this.reason = reason;
      const closed = new Promise((resolve) => this.server.close(resolve));
      if (cut) this.server.closeAllConnections();
      else this.server.closeIdleConnections();
      await closed;
      await this.dispatcher.destroy();
      this.markExited();
    }
    await this.exited;
  }
}

/** Settings of {@link InProcessProvider}. */
export interface InProcessOptions {
  /** The behaviour of a function version; an Error fails its starts with FUNCTION_START_FAILED. */
  handlerFor(fn: FunctionRecord): FakeHandler | Error;
  /** How long a start takes (a cold start). @default 0 */
  startDelayMs?: number;
}

export class InProcessProvider implements InstanceProvider {
  readonly started: InProcessInstance[] = [];
  private readonly running = new Set<InProcessInstance>();
  private closed = false;
  private next = 1;

  constructor(private readonly options: InProcessOptions) {}

  async start(fn: FunctionRecord): Promise<InProcessInstance> {
    if (this.closed) throw new NimbusError('SHUTTING_DOWN', 'The provider is shut down.');
    const began = performance.now();
    if (this.options.startDelayMs) await new Promise((resolve) => setTimeout(resolve, this.options.startDelayMs));
    const handler = this.options.handlerFor(fn);
    if (handler instanceof Error) {
      throw new NimbusError('FUNCTION_START_FAILED', `The instance of "${fn.spec.name}" failed to start: ${handler.message}`, { details: { loadError: 'HANDLER_ERROR' } });
    }
    let instance: InProcessInstance | undefined;
    const server = createServer((req, res) => {
      if (req.url === HEALTH_PATH) return void res.end('ok');
      instance!.served++;
      Promise.resolve(handler(req, res, instance!)).catch((err: unknown) => throwLikeAShim(res, (err as Error).message));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    instance = new InProcessInstance(`${fn.spec.name}-${fn.version}-${this.next++}`, fn, performance.now() - began, server);
    if (this.closed) {
      await instance.stop();
      throw new NimbusError('SHUTTING_DOWN', 'The provider is shut down.');
    }
    this.started.push(instance);
    this.running.add(instance);
    void instance.exited.then(() => this.running.delete(instance));
    return instance;
  }

  async check(fn: FunctionRecord): Promise<void> {
    const instance = await this.start(fn);
    await instance.stop();
  }

  list(name?: string): InProcessInstance[] {
    return [...this.running].filter((i) => name === undefined || i.record.spec.name === name);
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running].map((i) => i.stop()));
  }
}
