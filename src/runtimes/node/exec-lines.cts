/** The output of a function's program, as log lines. */
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { shimLog } from './log-capture.cjs';

/**
 * Logs each line `stream` carries as the function's own output on stream `s`, tagged with the
 * invocation id when the program runs for one invocation (stdio), untagged for a long-running one.
 */
export function logLines(stream: Readable, s: 'out' | 'err', id: string | null, onLine?: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    shimLog(line, id, s);
    onLine?.(line);
  });
  stream.on('error', () => undefined); // a program that dies mid-write: its exit is the report
}
