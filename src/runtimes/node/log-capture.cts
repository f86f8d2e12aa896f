/**
 * Turns everything written to process.stdout / process.stderr into JSON LogLines tagged with the
 * invocation that was current when it was written. Concurrent invocations share one process, so
 * the tag comes from AsyncLocalStorage, which follows the user's promises, timers and callbacks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { StringDecoder } from 'node:string_decoder';

type StreamName = 'out' | 'err';

/** Holds the id of the invocation whose code is running; undefined outside any invocation. */
export const invocationStore = new AsyncLocalStorage<string>();

/** Longest line emitted as one LogLine; longer (or never-ending) lines are split. */
export const MAX_LINE_CHARS = 16 * 1024;

/** Text written but not yet terminated by a newline, per stream and invocation. */
interface Partial {
  text: string;
  /** Only for Buffer writes: keeps a multi-byte character split across writes intact. */
  decoder?: StringDecoder;
}

const pending: Record<StreamName, Map<string | null, Partial>> = { out: new Map(), err: new Map() };
const realWrite: Record<StreamName, (data: string) => void> = {
  out: (data) => void process.stdout.write(data),
  err: (data) => void process.stderr.write(data),
};

function emit(id: string | null, s: StreamName, m: string): void {
  realWrite[s](`${JSON.stringify({ id, s, m, t: Date.now() })}\n`);
}

/** Emits complete lines from `partial.text`, and slices of an over-long unterminated line. */
function drainLines(id: string | null, s: StreamName, partial: Partial): void {
  let text = partial.text;
  let newline = text.indexOf('\n');
  while (newline !== -1) {
    const end = newline > 0 && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
    emitSplit(id, s, text.slice(0, end));
    text = text.slice(newline + 1);
    newline = text.indexOf('\n');
  }
  while (text.length > MAX_LINE_CHARS) {
    const cut = safeCut(text, MAX_LINE_CHARS);
    emit(id, s, text.slice(0, cut));
    text = text.slice(cut);
  }
  partial.text = text;
}

/** Emits one line, split into MAX_LINE_CHARS pieces when needed. */
function emitSplit(id: string | null, s: StreamName, line: string): void {
  while (line.length > MAX_LINE_CHARS) {
    const cut = safeCut(line, MAX_LINE_CHARS);
    emit(id, s, line.slice(0, cut));
    line = line.slice(cut);
  }
  emit(id, s, line);
}

/** A cut position that does not separate a UTF-16 surrogate pair. */
function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

function capture(s: StreamName, chunk: unknown, encoding: unknown): void {
  const id = invocationStore.getStore() ?? null;
  const map = pending[s];
  let partial = map.get(id);
  if (!partial) {
    partial = { text: '' };
    map.set(id, partial);
  }
  if (typeof chunk === 'string') {
    const enc = typeof encoding === 'string' ? encoding.toLowerCase() : 'utf8';
    partial.text += enc === 'utf8' || enc === 'utf-8' ? chunk : Buffer.from(chunk, enc as BufferEncoding).toString('utf8');
  } else if (chunk instanceof Uint8Array) {
    partial.decoder ??= new StringDecoder('utf8');
    partial.text += partial.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  } else {
    partial.text += String(chunk);
  }
  drainLines(id, s, partial);
  // Entries of finished invocations would pile up; a decoder may hold half a character, keep it.
  if (partial.text === '' && !partial.decoder) map.delete(id);
}

/**
 * Replaces process.stdout.write and process.stderr.write. Writes are captured synchronously (the
 * real fds are pipes, which Node writes synchronously on Linux), so nothing is lost at exit.
 */
export function installLogCapture(): void {
  for (const s of ['out', 'err'] as const) {
    const stream = s === 'out' ? process.stdout : process.stderr;
    const original = stream.write.bind(stream) as (data: string) => boolean;
    realWrite[s] = (data) => void original(data);
    // A broken log pipe means the platform is going away (fd 3 will tell us); never crash on it.
    stream.on('error', () => {});
    (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk, encoding, callback) => {
      capture(s, chunk, typeof encoding === 'function' ? undefined : encoding);
      const cb = typeof encoding === 'function' ? encoding : callback;
      if (typeof cb === 'function') process.nextTick(cb as () => void);
      return true;
    };
  }
  process.on('exit', flushAll);
}

/** Emits what an invocation left without a final newline (called when it ends). */
export function flushInvocation(id: string | null): void {
  for (const s of ['out', 'err'] as const) {
    const partial = pending[s].get(id);
    if (!partial) continue;
    pending[s].delete(id);
    const text = partial.text + (partial.decoder?.end() ?? '');
    if (text !== '') emitSplit(id, s, text);
  }
}

/** Emits every buffered partial line (at exit). */
export function flushAll(): void {
  for (const s of ['out', 'err'] as const) {
    for (const id of [...pending[s].keys()]) flushInvocation(id);
  }
}

/** Writes the shim's own diagnostics, one LogLine per line of `message`. */
export function shimLog(message: string, id: string | null = null, s: StreamName = 'err'): void {
  for (const line of message.split('\n')) emitSplit(id, s, line);
}
