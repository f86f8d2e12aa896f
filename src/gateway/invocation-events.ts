import type { InvocationEnded } from '../core/invocation.js';

/** Told of every invocation that ended. Runs on the invocation's path: keep it cheap, never throw. */
export type InvocationListener = (ended: InvocationEnded) => void;

/**
 * The invocation-ended event: emitted once per invocation, synchronously, to every subscriber
 * (metrics, invocation records, the metering ledger). A listener that throws is reported and
 * does not disturb the invocation or the other listeners.
 */
export class InvocationEvents {
  private listeners: InvocationListener[] = [];

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  /** Subscribes; the returned function unsubscribes. */
  on(listener: InvocationListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(ended: InvocationEnded): void {
    // The array is replaced, never changed in place, so a listener may (un)subscribe while we loop.
    for (const listener of this.listeners) {
      try {
        listener(ended);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
