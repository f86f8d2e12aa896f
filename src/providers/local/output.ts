import type { Readable } from 'node:stream';
import type { LogLine } from '../../core/runtime-protocol.js';
import type { LogSink } from '../../telemetry/logs.js';

/** Longest line kept whole; longer runs without a newline are cut into pieces of this size. */
const MAX_LINE = 64 * 1024;

/**
 * Reads an instance's stdout or stderr, one line at a time. Shims write JSON LogLines tagged with
 * the invocation id; anything else (e.g. the runtime's own fatal messages) is kept as a plain line.
 * Lines are logged under `owner()`, the function the process serves (none yet for a process
 * waiting in the warm pool). `onLine` sees every message too, so the process can keep a short
 * tail for crash reports.
 */
export function captureOutput(
  stream: Readable,
  fallback: 'stdout' | 'stderr',
  owner: () => string | undefined,
  sink: LogSink,
  onLine: (message: string) => void,
): void {
  let pending = '';
  const emit = (raw: string) => {
    if (raw === '') return;
    const functionName = owner();
    const entry = parseLine(raw, fallback, functionName ?? '');
    if (functionName !== undefined) sink.append(entry);
    onLine(entry.message);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
    while (pending.length > MAX_LINE) {
      emit(pending.slice(0, MAX_LINE));
      pending = pending.slice(MAX_LINE);
    }
  });
  // Explicitly: the sandbox may have paused the stream to hold early output for us.
  stream.resume();
  stream.on('end', () => emit(pending));
  // A broken pipe from a dying instance is not a platform error.
  stream.on('error', () => undefined);
}

function parseLine(raw: string, fallback: 'stdout' | 'stderr', functionName: string) {
  if (raw.startsWith('{"')) {
    try {
      const line = JSON.parse(raw) as Partial<LogLine>;
      if (typeof line.m === 'string') {
        return {
          time: typeof line.t === 'number' ? line.t : Date.now(),
          function: functionName,
          invocationId: typeof line.id === 'string' ? line.id : null,
          stream: line.s === 'err' ? 'stderr' : line.s === 'out' ? 'stdout' : fallback,
          message: line.m,
        } as const;
      }
    } catch {
      // Not a shim line after all: keep it verbatim below.
    }
  }
  return { time: Date.now(), function: functionName, invocationId: null, stream: fallback, message: raw };
}
