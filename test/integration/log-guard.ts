import { Writable } from 'node:stream';

/** pino's numeric level of `error`; `fatal` is above it. */
const ERROR_LEVEL = 50;

/**
 * Watches a platform's pino log (JSON lines) for internal errors: any line at level error or
 * above, or any line about the INTERNAL error code. A platform that logs one has a bug even when
 * every response looked right, so the test that started it fails unless it listed the message in
 * `expected` (a test that provokes, say, a damaged secrets key expects that error).
 */
export class LogGuard {
  /** Every error line seen, expected or not (raw JSON text). */
  readonly errors: string[] = [];
  private partial = '';

  constructor(private readonly expected: readonly RegExp[] = []) {}

  /** Feeds log output; lines may arrive split across calls. */
  feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.inspect(line);
  }

  /** A stream to give pino as its destination; it feeds this guard, then `also` if given. */
  stream(also?: Writable): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.feed(chunk.toString('utf8'));
        if (also) also.write(chunk, done);
        else done();
      },
    });
  }

  /** Error lines that no expected pattern matches. */
  unexpected(): string[] {
    if (this.partial) {
      this.inspect(this.partial);
      this.partial = '';
    }
    return this.errors.filter((line) => !this.expected.some((pattern) => pattern.test(line)));
  }

  /** Throws, listing them, when the platform logged internal errors the test did not expect. */
  assertClean(what: string): void {
    const unexpected = this.unexpected();
    if (unexpected.length === 0) return;
    throw new Error(`${what} logged ${unexpected.length} unexpected internal error(s):\n${unexpected.map((l) => l.slice(0, 2000)).join('\n')}`);
  }

  private inspect(line: string): void {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) return; // human output (a child's stderr also carries CLI messages)
    let entry: { level?: unknown; msg?: unknown; code?: unknown; err?: { code?: unknown } };
    try {
      entry = JSON.parse(trimmed) as typeof entry;
    } catch {
      return;
    }
    const internal = entry.msg === 'internal error' || entry.code === 'INTERNAL' || entry.err?.code === 'INTERNAL';
    if ((typeof entry.level === 'number' && entry.level >= ERROR_LEVEL) || internal) this.errors.push(trimmed);
  }
}
