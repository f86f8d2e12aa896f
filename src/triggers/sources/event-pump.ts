/**
 * Hands a source's messages to the sink in order, in batches of what has arrived meanwhile (one
 * delivery when idle, so latency stays low; bigger ones under load, which the sink stores in one
 * commit). It waits for `sink.whenRoom()` before every delivery, so while a function's backlog is
 * full, messages stay with the source (and its broker) instead of piling up in the platform.
 */
import type { EventSink, TriggerEvent } from '../types.js';
import { unlessStopped } from './source-support.js';

/** What a source does with its messages once the sink took or refused them. */
export interface PumpHandlers<M> {
  /** The sink stored them: acknowledge them to the broker. */
  delivered(messages: M[]): void;
  /** The sink refused them (it threw): do not acknowledge (let the broker redeliver), or drop them. */
  refused(messages: M[], error: unknown): void;
}

export class EventPump<M> {
  private readonly queue: Array<{ message: M; event: TriggerEvent }> = [];
  private inFlight: M[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly sink: EventSink,
    private readonly handlers: PumpHandlers<M>,
    private readonly signal: AbortSignal,
    private readonly maxBatch = 64,
  ) {}

  /** Queues one message with its event (made at receipt, so its id does not change on a retry). */
  push(message: M, event: TriggerEvent): void {
    this.queue.push({ message, event });
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Messages queued and not yet handed to the sink. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Messages queued or being delivered (the ones a broker must be told are still worked on). */
  pending(): M[] {
    return [...this.inFlight, ...this.queue.map((q) => q.message)];
  }

  /**
   * Resolves once the pump has nothing left to do, or (after the signal aborted) once the
   * delivery in progress, if any, has settled: what is still queued then is left for `takeQueued`.
   */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Removes and returns the messages never handed to the sink (after a stop). */
  takeQueued(): M[] {
    return this.queue.splice(0).map((q) => q.message);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.signal.aborted) {
      await unlessStopped(this.sink.whenRoom(), this.signal);
      if (this.signal.aborted) return;
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight = batch.map((b) => b.message);
      let refusal: { error: unknown } | undefined;
      try {
        await this.sink.deliver(batch.map((b) => b.event));
      } catch (error) {
        refusal = { error };
      }
      try {
        if (refusal) this.handlers.refused(this.inFlight, refusal.error);
        else this.handlers.delivered(this.inFlight);
      } catch {
        // An ack or nak on a connection that just closed: the broker redelivers what it was not
        // told about, so there is nothing to undo (the handlers log what they know).
      } finally {
        this.inFlight = [];
      }
    }
  }
}
