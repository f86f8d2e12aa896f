import type { Readable, Writable } from 'node:stream';

/**
 * Everything a command touches outside itself: output streams, environment, signals and exit.
 * Commands never use `process` directly, so tests can run them in-process with fake streams.
 */
export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  /** Only read by `invoke --data-file -` and `secret set`. */
  stdin: Readable;
  /** True when stdin is a terminal (`secret set` then prompts without echo). */
  stdinIsTTY?: boolean;
  env: Record<string, string | undefined>;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Current working directory, for resolving relative paths. */
  cwd: string;
  /** Calls `handler` on SIGINT or SIGTERM until the returned function is called. */
  onSignal(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void;
  /** Ends the process (used by `nimbus up` and forced stops). */
  exit(code: number): never;
}

/** The real process. */
export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stdinIsTTY: process.stdin.isTTY === true,
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    cwd: process.cwd(),
    onSignal(handler) {
      const onInt = (): void => handler('SIGINT');
      const onTerm = (): void => handler('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      return () => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      };
    },
    exit(code) {
      process.exit(code);
    },
  };
}

/** True when colour should be used on a stream: it is a terminal and NO_COLOR is unset. */
export function useColor(io: CliIO, stream: 'stdout' | 'stderr' = 'stdout'): boolean {
  const tty = stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY;
  const noColor = io.env['NO_COLOR'];
  return tty && (noColor === undefined || noColor === '');
}

/** Writes `text` and waits for the stream to accept more when it is full. */
export async function write(stream: Writable, chunk: string | Uint8Array): Promise<void> {
  if (!stream.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        stream.off('drain', onDrain);
        stream.off('error', done);
        stream.off('close', onDrain);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      stream.once('drain', onDrain);
      stream.once('close', onDrain);
      stream.once('error', done);
    });
  }
}
