import type { ChangeEvent, ChangeFeed, ChangeHandler, ChangeOf, ChangeType } from './change-feed.js';

type AnyHandler = (event: ChangeEvent) => void | Promise<void>;

/**
 * The change feed of a platform whose control plane runs in one process (`nimbus up`): events go
 * straight to this process's handlers, as published (no copy: they are plain data nobody changes).
 */
export class InProcessChangeFeed implements ChangeFeed {
  private readonly handlers = new Map<ChangeType, AnyHandler[]>();

  async publish(event: ChangeEvent): Promise<void> {
    // A copy of the list: handlers that subscribe or unsubscribe while this event is delivered
    // change later deliveries only.
    const handlers = [...(this.handlers.get(event.type) ?? [])];
    // All start now, in order, and run side by side: a slow handler (a drain) delays nobody else.
    const results = await Promise.allSettled(handlers.map((handler) => start(handler, event)));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} handlers of ${event.type} failed`);
  }

  subscribe<T extends ChangeType>(type: T, handler: ChangeHandler<T>): () => void {
    // Stored per type, so a handler only ever receives events of its own type. The wrapper is
    // this subscription's own: unsubscribing removes it even when the handler subscribed twice.
    const entry: AnyHandler = (event) => handler(event as ChangeOf<T>);
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), entry]);
    return () => this.handlers.set(type, (this.handlers.get(type) ?? []).filter((h) => h !== entry));
  }
}

/** Runs a handler; a synchronous throw becomes a rejection, so the other handlers still start. */
function start(handler: AnyHandler, event: ChangeEvent): Promise<void> {
  try {
    return Promise.resolve(handler(event));
  } catch (err) {
    return Promise.reject(err);
  }
}
