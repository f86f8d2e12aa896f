/**
 * The `http` protocol of the exec runtime: a long-running program serving HTTP on 127.0.0.1:$PORT,
 * or on the unix socket at $NIMBUS_HTTP_SOCKET, to which each invocation is proxied (request and
 * response streamed both ways).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer, type NetConnectOpts } from 'node:net';
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

/** Where the program listens: its port on loopback, or its unix socket. */
type Listener = { host: '127.0.0.1'; port: number } | { socketPath: string };

/** The environment variable that names the unix socket a program may serve on instead of $PORT. */
export const HTTP_SOCKET_ENV = 'NIMBUS_HTTP_SOCKET';

function accepts(listener: Listener): Promise<boolean> {
  return new Promise((resolve) => {
    const options: NetConnectOpts = 'socketPath' in listener ? { path: listener.socketPath } : listener;
    const socket = connect(options);
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

  /** Where the program listens; set once it accepts connections. */
  private listener: Listener | undefined;

  private constructor(private readonly child: ChildProcess) {
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
   * Starts the program with PORT and NIMBUS_HTTP_SOCKET set, and resolves once it accepts
   * connections on either: the first it serves on is the one invocations go to, so a program
   * chooses by binding, with no setting to get wrong.
   * @param socketPath the socket path offered, in a folder of the instance's own.
   * @throws when it exits first or does not listen within `timeoutMs`, with its last output.
   */
  static async start(command: string, cwd: string, env: Record<string, string>, options: { timeoutMs: number; socketPath: string }): Promise<ExecHttpProgram> {
    const port = await freePort();
    const { socketPath, timeoutMs } = options;
    // A socket file left by an earlier program would make its bind fail (EADDRINUSE).
    rmSync(socketPath, { force: true });
    const child = spawnCommand(command, cwd, { ...env, PORT: String(port), [HTTP_SOCKET_ENV]: socketPath });
    child.stdin!.end();
    const tail: string[] = [];
    const remember = (line: string) => {
      tail.push(line);
      if (tail.length > 3) tail.shift();
    };
    logLines(child.stdout!, 'out', null, remember);
    logLines(child.stderr!, 'err', null, remember);
    const program = new ExecHttpProgram(child);
    const candidates: Listener[] = [{ socketPath }, { host: '127.0.0.1', port }];
    const deadline = performance.now() + timeoutMs;
    const where = `$PORT (${port}) or $${HTTP_SOCKET_ENV} (${socketPath})`;
    while (!program.ended) {
      for (const candidate of candidates) {
        if (await accepts(candidate)) {
          program.listener = candidate;
          return program;
        }
      }
      if (performance.now() > deadline) {
        program.kill();
        throw new Error(`${command} did not listen on ${where} within ${timeoutMs} ms${tail.length ? `; last output: ${tail.at(-1)}` : ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const how = await program.exited;
    throw new Error(`${command} ${how} before listening on $PORT or $${HTTP_SOCKET_ENV}${tail.length ? `; last output: ${tail.at(-1)}` : ''}`);
  }

  /** Proxies one invocation to the program. */
  forward(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    return new Promise((resolve) => {
      const upstream = httpRequest({ ...this.listener, method: req.method, path: req.url, headers: req.headers, agent: this.agent }, (answer) => {
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
