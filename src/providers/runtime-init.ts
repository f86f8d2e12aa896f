import type { Dispatcher } from 'undici';
import { NimbusError } from '../core/errors.js';
import { INIT_PATH, type InitRequest } from '../core/runtime-protocol.js';
import type { FunctionRecord } from '../store/types.js';

/**
 * The init of the runtime protocol (docs/runtime-protocol.md) for a function's current build:
 * where its code is (`codeDir`, or a package to fetch), its entry, environment and limits, and
 * whether invocations report their CPU time (`meterCpu`: only read into invocation records).
 */
export function initRequestOf(fn: FunctionRecord, secretEnv: Record<string, string>, code: Pick<InitRequest, 'codeDir' | 'package'>, meterCpu: boolean): InitRequest {
  return {
    function: fn.spec.name,
    version: fn.version,
    codeDir: code.codeDir,
    ...(code.package ? { package: code.package } : {}),
    entry: fn.build.entry,
    ...(fn.build.source ? { source: fn.build.source } : {}),
    env: { ...fn.spec.env, ...secretEnv },
    timeoutMs: fn.spec.timeoutMs,
    memoryMb: fn.spec.memoryMb,
    ...(fn.build.export ? { export: fn.build.export } : {}),
    ...(meterCpu ? {} : { meterCpu: false }),
  };
}

/**
 * Sends the init to a runtime shim (local process or pod) and waits for the handler to load.
 * @throws NimbusError FUNCTION_START_FAILED `<prefix>: <the shim's message>`, with the shim's code
 *   in `details.loadError` (see HANDLER_LOAD_CODES: deploys refuse some)
 */
export async function sendInit(dispatcher: Dispatcher, body: InitRequest, timeoutMs: number, prefix: string): Promise<void> {
  const res = await dispatcher.request({
    path: INIT_PATH,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.body.text();
  if (res.statusCode === 200) return;
  let message = text.slice(0, 500);
  let shimCode: string | undefined;
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } };
    message = error?.message ?? message;
    shimCode = error?.code;
  } catch {
    // keep the raw text
  }
  throw new NimbusError('FUNCTION_START_FAILED', `${prefix}: ${message}`, shimCode ? { details: { loadError: shimCode } } : {});
}

/**
 * The starts in progress of a provider, which its shutdown waits for: `track` refuses new ones
 * once `close` was called.
 */
export class StartTracker {
  private readonly starting = new Set<Promise<unknown>>();
  private closed = false;

  /** Runs `start` unless closed, counting it (the whole start, its failure too) until it settles. */
  track<T>(start: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new NimbusError('SHUTTING_DOWN', 'Nimbus is shutting down; retry against another instance or later.'));
    const starting = start();
    const settled = starting.then(
      () => undefined,
      () => undefined,
    );
    this.starting.add(settled);
    void settled.then(() => this.starting.delete(settled));
    return starting;
  }

  /** Refuses new starts, and waits for those in progress to settle. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.starting]);
  }
}
