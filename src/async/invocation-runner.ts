import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { asyncPolicyOf } from '../core/async-policy.js';
import { type ErrorCode, isNimbusError } from '../core/errors.js';
import { BufferedResponse } from '../gateway/buffered-response.js';
import type { Invoker } from '../gateway/invoker.js';
import type { Lease, Queue } from '../queue/types.js';
import type { InvocationChanges, InvocationRecord, InvocationRepository, StoredResponse } from '../store/invocation-types.js';
import type { AsyncAcceptor } from './acceptor.js';
import { queuedRecord } from './acceptor.js';
import { outcomeOf } from './attempt-outcome.js';
import type { Callbacks } from './callbacks.js';
import { type DestinationCondition, destinationRecord } from './destinations.js';
import { decodeStoredRequest, type StoredRequest } from './stored-request.js';

/** Response body bytes an invocation record keeps (the rest is dropped, `truncated` says so). */
export const RESPONSE_KEEP_BYTES = 1024 * 1024;

/**
 * How long an attempt runs before its record says `running`. Most attempts end sooner, and their
 * record goes from `queued` (or `retrying`) to how the attempt ended in one write instead of two:
 * a status change rewrites three indexes, and this halves the record writes of a drain.
 */
export const RUNNING_MARK_MS = 20;

/** What the runner needs. */
export interface InvocationRunnerDeps {
  queue: Queue;
  invocations: InvocationRepository;
  invoker: Pick<Invoker, 'peek' | 'lookup' | 'invoke'>;
  clock: Clock;
  callbacks: Callbacks;
  /** Queues destination invocations. */
  acceptor: AsyncAcceptor;
  logger: Logger;
  random(): number;
}

/** How an invocation ended for good. */
type Ending = { status: 'succeeded' } | { status: 'failed' | 'dead'; condition: DestinationCondition };

/**
 * Runs one attempt of a queued async invocation, through the same invoker as sync traffic (one
 * deadline, the same errors, `x-nimbus-invocation-id` and `x-nimbus-attempt` sent to the
 * function), then records how it went and settles the lease: acked when it ended, retried later
 * by the policy (attempt-outcome.ts), given up when dead or failed. The record is written
 * before the lease is settled and the callback and destination are queued before the work is
 * acked, so a crash in between runs the attempt again rather than losing what followed it.
 */
export class InvocationRunner {
  constructor(private readonly deps: InvocationRunnerDeps) {}

  /** Runs the leased invocation; never rejects for the invocation's own failure. */
  async run(lease: Lease): Promise<void> {
    const { queue, invocations, invoker, clock } = this.deps;
    const id = lease.item.id;
    let request: StoredRequest;
    try {
      request = decodeStoredRequest(lease.item.payload);
    } catch (err) {
      this.deps.logger.error({ err, invocationId: id }, 'an async invocation could not be read from the queue; it is dead');
      await invocations.update(id, { status: 'dead', finishedAt: clock.now(), error: { code: 'INTERNAL', message: 'The stored request could not be read.' } });
      this.settle(queue.giveUp(lease), id);
      return;
    }
    const record = invoker.peek(request.function) ?? (await invoker.lookup(request.function).catch(() => undefined));
    if (!record) {
      // The function was removed: its work goes with it. Its records went with the removal; the
      // record of work sent to it afterwards (a destination naming it) says why it did not run.
      // The record is written even when the acceptor has not stored its own yet (it writes after
      // the queue), or its later `queued` record would stay queued for ever.
      const error = { code: 'FUNCTION_NOT_FOUND' as const, message: `No function named "${request.function}" is deployed; the invocation was dropped.` };
      await this.store(id, request, { status: 'failed', finishedAt: clock.now(), error });
      this.settle(queue.giveUp(lease), id);
      return;
    }
    const policy = asyncPolicyOf(record.spec);
    const startedAt = clock.now();
    if (startedAt - request.acceptedAt > policy.maxEventAgeMs) {
      const error = { code: 'INVOCATION_EXPIRED' as const, message: `The invocation waited longer than the maximum event age of "${record.spec.name}" and was not run.` };
      return this.end(lease, request, { status: 'dead', condition: 'EventAgeExceeded' }, { error, attempts: lease.attempt - 1 }, policy);
    }
    // Every write of this attempt carries what the `running` mark would have said.
    const attempt: InvocationChanges = { attempts: lease.attempt, startedAt, version: record.version };
    let marked: Promise<void> | undefined;
    const cancelMark = clock.after(RUNNING_MARK_MS, () => {
      marked = this.write(id, request, { ...attempt, status: 'running', nextAttemptAt: undefined }).then(
        () => undefined,
        (err: unknown) => this.deps.logger.error({ err, invocationId: id }, 'marking an async invocation running failed'),
      );
    });

    const sink = new BufferedResponse(RESPONSE_KEEP_BYTES);
    const { error } = await invoker.invoke(
      record,
      { method: request.method, path: request.path, headers: request.headers, body: request.body.length > 0 ? request.body : null, bodyBytes: request.body.length },
      sink,
      { source: request.source, invocationId: id, attempt: lease.attempt, ...(request.traceContext ? { traceContext: request.traceContext } : {}) },
    );
    cancelMark();
    // Written before anything else of this attempt, so the record never goes back to `running`.
    await marked;
    // The platform is stopping: the attempt did not happen. The lease stays unsettled, so the
    // invocation runs again when the platform is back (the queue releases it at open).
    if (error?.code === 'SHUTTING_DOWN') return;

    const finishedAt = clock.now();
    const response: StoredResponse | undefined = error ? undefined : { status: sink.status, headers: sink.headers, body: sink.body, truncated: sink.truncated };
    // Every field written out, not spread from `attempt`: a spread plus fields made V8 build new
    // hidden classes on every attempt (seen in a drain's profile), and end() adds its fields to this one.
    const changes: InvocationChanges = {
      attempts: lease.attempt,
      startedAt,
      version: record.version,
      response,
      error: error ? { code: error.code as ErrorCode, message: error.message } : undefined,
    };
    const outcome = outcomeOf({ status: response?.status, retryAfter: response?.headers['retry-after'], errorCode: error?.code }, lease.attempt, policy, request.acceptedAt, finishedAt, this.deps.random());
    switch (outcome.kind) {
      case 'retry':
        await this.write(id, request, { ...changes, status: 'retrying', nextAttemptAt: finishedAt + outcome.delayMs });
        this.settle(queue.retryLater(lease, outcome.delayMs), id);
        return;
      case 'succeeded':
        return this.end(lease, request, { status: 'succeeded' }, changes, policy);
      case 'failed':
        return this.end(lease, request, { status: 'failed', condition: 'Failure' }, changes, policy);
      case 'dead':
        return this.end(lease, request, { status: 'dead', condition: outcome.reason === 'event-age-exceeded' ? 'EventAgeExceeded' : 'RetriesExhausted' }, changes, policy);
    }
  }

  /**
   * Writes `changes` to the invocation's record. A missing record is created when the acceptance
   * was cut short before writing it (the queue is written first), but not when the function was
   * removed meanwhile (its records went with it). Answers whether the record is stored.
   */
  private async write(id: string, request: StoredRequest, changes: InvocationChanges): Promise<boolean> {
    if (!this.deps.invoker.peek(request.function)) return this.deps.invocations.update(id, changes);
    await this.store(id, request, changes);
    return true;
  }

  /** Applies `changes` to the invocation's record, creating it first when it is missing. */
  private async store(id: string, request: StoredRequest, changes: InvocationChanges): Promise<void> {
    const { invocations } = this.deps;
    if (await invocations.update(id, changes)) return;
    await invocations.create([{ ...queuedRecord(id, request), ...changes } as InvocationRecord]);
    // The acceptor may have stored its `queued` record in between (it writes after the queue, and
    // the dispatcher can run the work first): a create keeps a row already there, so the changes
    // are applied to it again.
    await invocations.update(id, changes);
  }

  /**
   * Records the ending, queues the callback and the destination, then settles the lease.
   * `changes` is the caller's to give away: the ending's fields are added to it.
   */
  private async end(lease: Lease, request: StoredRequest, ending: Ending, changes: InvocationChanges, policy: ReturnType<typeof asyncPolicyOf>): Promise<void> {
    const { invocations, queue, clock } = this.deps;
    const id = lease.item.id;
    const ended = changes;
    ended.status = ending.status;
    ended.finishedAt = clock.now();
    ended.nextAttemptAt = undefined;
    // Failed and dead invocations keep their request: redrive runs it again, with the same id.
    if (ending.status !== 'succeeded') ended.request = lease.item.payload;
    const stored = await this.write(id, request, ended);
    const destination = ending.status === 'succeeded' ? policy.onSuccess : policy.onFailure;
    // Read back only when something follows: most invocations have neither callback nor destination.
    const record = stored && (request.callbackUrl !== undefined || destination !== undefined) ? await invocations.get(id) : undefined;
    if (record) {
      if (request.callbackUrl !== undefined) await this.deps.callbacks.queue(request.callbackUrl, record);
      if (destination !== undefined) {
        const condition = ending.status === 'succeeded' ? 'Success' : ending.condition;
        await this.deps.acceptor.accept({
          function: destination,
          method: 'POST',
          path: '/',
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify(destinationRecord(record, request, condition))),
          source: 'async',
        });
      }
    }
    this.settle(ending.status === 'succeeded' ? queue.ack(lease) : queue.giveUp(lease), id);
  }

  /**
   * Lets the lease's settle commit without waiting for it: the attempt ends (and the dispatcher
   * frees its slot) at once, so the next lease joins the settle's transaction instead of taking
   * one of its own; a function draining one at a time pays two commits per invocation, not three.
   * Calls to the queue run in the order they were made, so nothing asked later finds the lease
   * unsettled. A settle that fails only lets the lease expire: the work runs again (at-least-once).
   */
  private settle(settling: Promise<boolean>, id: string): void {
    settling.catch((err: unknown) => {
      // The queue closes after the dispatcher has drained: what it refuses then runs again at the next start.
      if (isNimbusError(err) && err.code === 'SHUTTING_DOWN') return;
      this.deps.logger.error({ err, invocationId: id }, 'settling an async invocation failed; it runs again when its lease expires');
    });
  }
}
