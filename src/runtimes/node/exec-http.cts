/**
 * The `http` protocol of the exec runtime: a long-running program serving HTTP on 127.0.0.1:$PORT,
 * to which each invocation is proxied (request and response streamed both ways).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer } from 'node:net';
import { logLines } from './exec-lines.cjs';
import { failInvocation } from './http-util.cjs';

/** Time between SIGTERM and SIGKILL when the program is stopped. */
const STOP_GRACE_MS = 3000;

/** A free port on the instance's loopback (its own network namespace in the bubblewrap sandbox). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs `command` with /bin/sh, as its own process group leader's only child (`exec`). */
export function spawnCommand(command: string, cwd: string, env: Record<string, string>): ChildProcess {
  const child = spawn('/bin/sh', ['-c', `exec ${command}`], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  for (const stream of child.stdio) stream?.on('error', () => undefined);
  return child;
}

/** Connection-level headers belong to the program <-> shim hop. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** Raw header pairs without the hop-by-hop ones. */
function endToEnd(raw: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) kept.push(raw[i]!, raw[i + 1]!);
  return kept;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** The running program of an `http` function. */
export class ExecHttpProgram {
  /** Resolves with how the program ended. */
  readonly exited: Promise<string>;
  private readonly agent = new Agent({ keepAlive: true });
  private ended = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly port: number,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.ended = true;
        resolve(describeExit(code, signal));
      });
      child.once('error', (err) => {
        this.ended = true;
        resolve(`could not start: ${err.message}`);
      });
    });
  }

  /**
   * Starts the program with PORT set and resolves once it accepts connections on that port.
   * @throws when it exits first or does not listen within `timeoutMs`, with its last output.
   */
  static async start(command: string, cwd: string, env: Record<string, string>, timeoutMs: number): Promise<ExecHttpProgram> {
    const port = await freePort();
    const child = spawnCommand(command, cwd, { ...env, PORT: String(port) });
    child.stdin!.end();
    const tail: string[] = [];
    const remember = (line: string) => {
      tail.push(line);
      if (tail.length > 3) tail.shift();
    };
    logLines(child.stdout!, 'out', null, remember);
    logLines(child.stderr!, 'err', null, remember);
    const program = new ExecHttpProgram(child, port);
    const deadline = performance.now() + timeoutMs;
    while (!program.ended) {
      if (await accepts(port)) return program;
      if (performance.now() > deadline) {
        program.kill();
        throw new Error(`${command} did not listen on $PORT (${port}) within ${timeoutMs} ms${tail.length ? `; last output: ${tail.at(-1)}` : ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const how = await program.exited;
    throw new Error(`${command} ${how} before listening on $PORT${tail.length ? `; last output: ${tail.at(-1)}` : ''}`);
  }

  /** Proxies one invocation to the program. */
  forward(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    return new Promise((resolve) => {
      const upstream = httpRequest({ host: '127.0.0.1', port: this.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.rawHeaders));
        answer.pipe(res);
        answer.once('end', resolve);
        answer.once('error', (err) => {
          failInvocation(res, 'HANDLER_ERROR', err, id);
          resolve();
        });
      });
      upstream.once('error', (err) => {
        failInvocation(res, 'HANDLER_ERROR', new Error(`the program's HTTP server failed: ${err.message}`), id);
        resolve();
      });
      // The platform gave up (deadline, client gone): stop waiting for the program's answer.
      res.once('close', () => {
        if (!res.writableFinished) upstream.destroy();
        resolve();
      });
      req.pipe(upstream);
    });
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves when it has exited. */
  async stop(): Promise<void> {
    if (this.ended) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.ended) this.child.kill('SIGKILL');
  }
}
