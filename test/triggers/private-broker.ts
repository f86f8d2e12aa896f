/**
 * A broker of a test's own (nats-server with JetStream, mosquitto, or redis-server) on a free
 * loopback port, so a test can kill it and start it again without touching the machine's shared
 * servers. Started by PID, killed by PID; nats and mosquitto keep their data in the test's folder
 * across restarts, redis-server keeps nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export const NATS_SERVER = '/usr/sbin/nats-server';
export const MOSQUITTO = '/usr/sbin/mosquitto';
export const REDIS_SERVER = '/usr/bin/redis-server';

/** Why a private broker cannot run here (its binary is missing), or undefined. */
export function missingBinary(path: string): string | undefined {
  return existsSync(path) ? undefined : `${path} is not installed`;
}

/** Resolves true when something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A private broker process: `start` (again after `kill`), `kill` (SIGKILL, by PID). */
export class PrivateBroker {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly command: string,
    private readonly args: string[],
  ) {}

  /** nats-server with JetStream, its store in `dir`. */
  static async nats(dir: string): Promise<PrivateBroker> {
    const port = await freePort();
    return new PrivateBroker(port, NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]);
  }

  /** mosquitto with persistence in `dir`, anonymous clients allowed. */
  static async mosquitto(dir: string): Promise<PrivateBroker> {
    const port = await freePort();
    const config = join(dir, 'mosquitto.conf');
    await writeFile(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`, 'autosave_interval 1', ''].join('\n'));
    return new PrivateBroker(port, MOSQUITTO, ['-c', config]);
  }

  /** redis-server without persistence (it comes back empty). */
  static async redis(): Promise<PrivateBroker> {
    const port = await freePort();
    return new PrivateBroker(port, REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  }

  /** Starts the process and resolves once it accepts connections (within 10 s). */
  async start(): Promise<void> {
    this.child = spawn(this.command, this.args, { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await listening(this.port, 200)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.command} did not listen on ${this.port} within 10 s`);
  }

  /** SIGKILLs the process (by its PID) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
