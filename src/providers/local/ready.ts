import type { Readable } from 'node:stream';
import type { ControlMessage } from '../../core/runtime-protocol.js';

/**
 * Resolves when the instance writes `{"type":"ready"}` on its control channel; rejects when it
 * exits first or does not get there within `timeoutMs`.
 */
export function waitForReady(
  control: Readable,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  timeoutMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let buffered = '';
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      control.off('data', onData);
      // Keep reading (and discarding) so the channel never fills up; our open end is what keeps
      // the instance alive.
      control.resume();
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (const line of buffered.split('\n').slice(0, -1)) {
        try {
          if ((JSON.parse(line) as ControlMessage).type === 'ready') return finish();
        } catch {
          // ignore malformed control lines
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    };
    const timer = setTimeout(() => finish(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
    control.on('data', onData);
    control.on('error', () => undefined);
    void exited.then((info) =>
      finish(new Error(info.signal ? `killed by ${info.signal} before it was ready` : `exited with code ${info.code} before it was ready`)),
    );
  });
}
