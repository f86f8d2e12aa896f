import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import type { Scope } from '../core/scope.js';
import { readBody } from '../http/read-body.js';
import { sendError, sendJson } from '../http/respond.js';
import { parseCloudEvents } from '../triggers/cloudevents-http.js';
import type { EventSink, TriggerEvent } from '../triggers/types.js';

/** The path of the CloudEvents ingress. */
export const EVENTS_PATH = '/events';

/**
 * What the ingress needs from the trigger manager (`TriggerManager` has both): which active
 * `event` triggers take an event (src/triggers/event-matching.ts decides, given the triggers),
 * and the sink of each.
 */
export interface EventRouting {
  /** Active (not paused) `event` triggers whose settings match this type and source. */
  triggersMatching(type: string, source: string): ReadonlyArray<{ name: string; function: string }>;
  /**
   * The sink of a trigger returned by `triggersMatching`: its events become async invocations of
   * its function. Undefined when the trigger stopped in between (paused, removed): it is skipped.
   */
  sinkFor(trigger: string): EventSink | undefined;
}

export interface EventsIngressDeps {
  routing: EventRouting;
  /** Largest request body taken (the platform's invocation body limit, `nimbus up --max-body`). */
  maxBodyBytes: number;
  /**
   * Lets the request through when its caller may do what needs `scope`, or throws the NimbusError
   * to answer (the management API's guard, src/auth/api-guard.ts).
   */
  authorize(req: IncomingMessage, scope: Scope): Promise<void>;
  onInternalError(err: unknown): void;
  clock: Clock;
  /**
   * The ingress key (`nimbus up --ingress-key-file`): a secret that lets a sender post events and
   * nothing else, sent as `x-nimbus-ingress-key: <key>` or `authorization: Bearer <key>`. Absent:
   * only API tokens are taken. At least 32 characters (see {@link parseIngressKey}).
   */
  ingressKey?: string;
  /**
   * How long a request waits for a matching trigger's function to have room in its async backlog
   * (`EventSink.whenRoom`) before it is answered 503 FUNCTION_OVERLOADED. @default 2000
   */
  roomWaitMs?: number;
}

/** The answer to an accepted request (202). */
export interface EventsAccepted {
  /** Events in the request. */
  events: number;
  /** Deliveries made: one per event and matching trigger. */
  deliveries: number;
  /** Per matching trigger, its function and how many of the events it took. */
  triggers: Array<{ trigger: string; function: string; events: number }>;
}

/**
 * Scope of `POST /events`: `deploy`, the least of the token scopes that may change what runs
 * (`read` only looks). Posting an event starts functions, which a read-only token must not do.
 */
export const EVENTS_SCOPE: Scope = 'deploy';

/**
 * `POST /events`: CloudEvents in any HTTP mode (src/triggers/cloudevents-http.ts), routed to the
 * `event` triggers they match (Knative Broker/Trigger semantics), each match one async invocation.
 * Answers 202 once every delivery resolved (durably queued), also when no trigger matched: as a
 * Knative broker's ingress does, an event nobody subscribed to is accepted and dropped, so a
 * sender does not depend on who listens. Invalid input is refused whole before anything is
 * delivered. A delivery that fails after others succeeded answers its error: the sender sends the
 * request again, and the sinks skip the event ids they already took.
 */
export function createEventsIngress(deps: EventsIngressDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const checkKey = deps.ingressKey === undefined ? undefined : ingressKeyCheck(deps.ingressKey);
  return async (req, res) => {
    try {
      if (!checkKey?.(req)) await deps.authorize(req, EVENTS_SCOPE);
      if (req.method !== 'POST') {
        throw new NimbusError('METHOD_NOT_ALLOWED', `${EVENTS_PATH} takes POST only.`, { headers: { allow: 'POST' } });
      }
      const body = await readBody(req, deps.maxBodyBytes);
      const { events } = parseCloudEvents(req.headers, body);
      sendJson(res, 202, await deliver(deps, events));
    } catch (err) {
      // Do not wait for a body nobody will read (one over the limit is paused, see readBody).
      if (!req.complete) res.setHeader('connection', 'close');
      sendError(res, err, deps.onInternalError);
    }
  };
}

/**
 * Groups the events by matching trigger (keeping their order), waits until every matching
 * function has room for more async work (or answers 503: a pushing sender cannot be paused like a
 * broker consumer, it is told to come back), then delivers each group to its sink.
 */
async function deliver(deps: EventsIngressDeps, events: TriggerEvent[]): Promise<EventsAccepted> {
  const { routing } = deps;
  const groups = new Map<string, { function: string; events: TriggerEvent[] }>();
  for (const event of events) {
    for (const match of routing.triggersMatching(event.type, event.source)) {
      const group = groups.get(match.name) ?? { function: match.function, events: [] };
      group.events.push(event);
      groups.set(match.name, group);
    }
  }
  const sinks = new Map<string, EventSink>();
  for (const trigger of groups.keys()) {
    const sink = routing.sinkFor(trigger);
    if (sink) sinks.set(trigger, sink);
  }
  await roomIn([...sinks.values()], deps.clock, deps.roomWaitMs ?? 2000);
  const delivered: EventsAccepted['triggers'] = [];
  await Promise.all(
    [...groups].map(async ([trigger, group]) => {
      const sink = sinks.get(trigger);
      if (!sink) return;
      await sink.deliver(group.events);
      delivered.push({ trigger, function: group.function, events: group.events.length });
    }),
  );
  // In the order the triggers matched, whatever order their deliveries resolved in.
  const order = [...groups.keys()];
  delivered.sort((a, b) => order.indexOf(a.trigger) - order.indexOf(b.trigger));
  return { events: events.length, deliveries: delivered.reduce((sum, t) => sum + t.events, 0), triggers: delivered };
}

/** Resolves once every sink has room; FUNCTION_OVERLOADED after `waitMs` (nothing was delivered yet). */
async function roomIn(sinks: EventSink[], clock: Clock, waitMs: number): Promise<void> {
  if (sinks.length === 0) return;
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = clock.after(waitMs, () =>
      reject(
        new NimbusError('FUNCTION_OVERLOADED', 'A function these events go to has a full async backlog; send them again later.', {
          headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
        }),
      ),
    );
  });
  try {
    await Promise.race([Promise.all(sinks.map((sink) => sink.whenRoom())), timeout]);
  } finally {
    cancel?.();
  }
}

/** Shortest ingress key taken: it is checked without the API guard's failure limit, so it must not be guessable. */
export const MIN_INGRESS_KEY_LENGTH = 32;

/**
 * The ingress key from the contents of its file (surrounding whitespace ignored).
 * @throws Error naming what is wrong: shorter than {@link MIN_INGRESS_KEY_LENGTH}, or not printable ASCII
 */
export function parseIngressKey(contents: string): string {
  const key = contents.trim();
  if (key.length < MIN_INGRESS_KEY_LENGTH) throw new Error(`the ingress key must be at least ${MIN_INGRESS_KEY_LENGTH} characters (e.g. openssl rand -hex 32)`);
  if (!/^[\x21-\x7e]+$/.test(key)) throw new Error('the ingress key must be printable ASCII without spaces');
  return key;
}

/**
 * True when the request carries the ingress key; false when it carries none (API tokens decide).
 * @throws NimbusError INVALID_TOKEN for an `x-nimbus-ingress-key` header with another key
 */
function ingressKeyCheck(key: string): (req: IncomingMessage) => boolean {
  // Compared as hashes: equal lengths for timingSafeEqual, and no early exit on the first differing byte.
  const expected = createHash('sha256').update(key).digest();
  const matches = (candidate: string) => timingSafeEqual(createHash('sha256').update(candidate).digest(), expected);
  return (req) => {
    const header = req.headers['x-nimbus-ingress-key'];
    if (typeof header === 'string') {
      if (matches(header)) return true;
      throw new NimbusError('INVALID_TOKEN', 'The x-nimbus-ingress-key is not this platform\'s ingress key.');
    }
    const bearer = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return bearer !== undefined && matches(bearer);
  };
}
