import { NimbusError } from '../core/errors.js';
import type { Queue } from '../queue/types.js';
import type { InvocationRepository } from '../store/invocation-types.js';

/** What dead-letter handling needs. */
export interface DeadLettersDeps {
  queue: Queue;
  invocations: InvocationRepository;
}

/**
 * Dead letters: invocations whose last attempt failed (or that outlived their maximum event age),
 * kept with their request until redriven or purged.
 */
export class DeadLetters {
  constructor(private readonly deps: DeadLettersDeps) {}

  /**
   * Queues the dead letters of `fn` again (those of `ids`, or all), with their ids and a fresh
   * retry budget; answers the ids queued. The work is queued before the record says so, so a
   * crash in between leaves a dead record whose work runs anyway (and the run fixes the record).
   */
  async redrive(fn: string, ids: readonly string[] | 'all'): Promise<string[]> {
    const { queue, invocations } = this.deps;
    const dead = await invocations.listDead(fn, ids === 'all' ? undefined : ids);
    const withRequest = dead.filter((record) => record.request !== undefined);
    if (withRequest.length === 0) return [];
    // requeue, not enqueue: the runner records a dead letter before it gives its lease up (so a
    // crash in between cannot lose it), and a redrive landing in that gap must replace the item
    // still in the queue, not be dropped as a duplicate of it.
    await queue.requeue(withRequest.map((record) => ({ id: record.id, partition: fn, payload: record.request as Buffer })));
    // Issued together, so the store commits them in one transaction rather than one per turn.
    await Promise.all(
      withRequest.map((record) =>
        invocations.update(record.id, {
          status: 'queued',
          attempts: 0,
          startedAt: undefined,
          finishedAt: undefined,
          nextAttemptAt: undefined,
          error: undefined,
          response: undefined,
          request: undefined,
        }),
      ),
    );
    return withRequest.map((record) => record.id);
  }

  /** Removes the dead letters of `fn`; answers how many. */
  async purge(fn: string): Promise<number> {
    return this.deps.invocations.purgeDead(fn);
  }
}

/** Refuses a redrive body that is not exactly one of `ids` or `all: true`. */
export function redriveTarget(body: unknown): readonly string[] | 'all' {
  const b = body as { ids?: unknown; all?: unknown } | null;
  const invalid = (why: string) => new NimbusError('INVALID_REQUEST', `${why}. Send {"ids": ["<id>", ...]} or {"all": true}.`, { details: { field: 'ids' } });
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalid('The body must be a JSON object');
  const extra = Object.keys(b).filter((k) => k !== 'ids' && k !== 'all');
  if (extra.length > 0) throw invalid(`Unknown field(s): ${extra.join(', ')}`);
  if (b.all === true && b.ids === undefined) return 'all';
  if (b.all !== undefined && b.all !== false) throw invalid('"all" must be true, without "ids"');
  if (!Array.isArray(b.ids) || b.ids.length === 0 || b.ids.length > 1000 || !b.ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 100)) {
    throw invalid('"ids" must be a list of 1 to 1000 invocation ids');
  }
  return b.ids as string[];
}
