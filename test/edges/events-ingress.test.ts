/**
 * POST /events over a real socket, with the trigger manager's side replaced by a directory of
 * RecordingSinks (our own interface) and the API guard by a token check.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { NimbusError } from '../../src/core/errors.js';
import { type Scope, scopeAllows } from '../../src/core/scope.js';
import { createEventsIngress, type EventRouting, type EventsAccepted, parseIngressKey } from '../../src/edges/events-ingress.js';
import { matchingTriggers } from '../../src/triggers/event-matching.js';
import { RecordingSink } from '../triggers/recording-sink.js';

const TOKENS: Record<string, Scope> = { 'deploy-token': 'deploy', 'read-token': 'read' };
const triggers = [
  { name: 'all-orders', function: 'audit', settings: { eventType: 'order.created' } },
  { name: 'shop-orders', function: 'ship', settings: { eventType: 'order.created', eventSource: 'https://shop.example.com/' } },
  { name: 'refunds', function: 'refund', settings: { eventType: 'refund.issued' } },
  { name: 'just-paused', function: 'audit', settings: { eventType: 'order.paused' } },
];
let sinks: Map<string, RecordingSink>;
const routing: EventRouting = {
  triggersMatching: (type, source) => matchingTriggers(triggers, type, source),
  sinkFor: (trigger) => sinks.get(trigger),
};
const authorize = async (req: IncomingMessage, scope: Scope) => {
  const token = req.headers.authorization?.replace(/^Bearer /, '');
  if (!token) throw new NimbusError('UNAUTHENTICATED', 'send a token');
  const have = TOKENS[token];
  if (!have) throw new NimbusError('INVALID_TOKEN', 'unknown token');
  if (!scopeAllows(have, scope)) throw new NimbusError('FORBIDDEN', `needs ${scope}`);
};
// A real clock with a short wait for room: the overload test waits that long, nothing else does.
const INGRESS_KEY = 'k'.repeat(40);
const ingress = createEventsIngress({ routing, maxBodyBytes: 1024, authorize, onInternalError: () => undefined, clock: systemClock, roomWaitMs: 50, ingressKey: INGRESS_KEY });
// The handler answers every error itself and never rejects.
const server = createServer((req, res) => void ingress(req, res));
let url = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  // just-paused matches but has no sink: it stopped between the match and the delivery.
  sinks = new Map(triggers.filter((t) => t.name !== 'just-paused').map((t) => [t.name, new RecordingSink()]));
});

const post = (headers: Record<string, string>, body: string | Buffer, token = 'deploy-token') =>
  fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
const binary = { 'ce-specversion': '1.0', 'ce-id': 'o-1', 'ce-source': 'https://shop.example.com/eu', 'ce-type': 'order.created', 'content-type': 'application/json' };

describe('POST /events', () => {
  test('a binary event goes to every matching trigger, byte for byte, and the answer counts them', async () => {
    const response = await post(binary, '{"order": 42}');
    assert.equal(response.status, 202);
    const answer = (await response.json()) as EventsAccepted;
    assert.deepEqual(answer, {
      events: 1,
      deliveries: 2,
      triggers: [
        { trigger: 'all-orders', function: 'audit', events: 1 },
        { trigger: 'shop-orders', function: 'ship', events: 1 },
      ],
    });
    for (const name of ['all-orders', 'shop-orders']) {
      const [event] = sinks.get(name)!.events;
      assert.equal(event!.id, 'o-1');
      assert.equal(event!.data.toString(), '{"order": 42}');
      assert.equal(event!.contentType, 'application/json');
    }
    assert.equal(sinks.get('refunds')!.calls, 0);
  });

  test('a structured event and a batch are routed per event', async () => {
    const structured = await post({ 'content-type': 'application/cloudevents+json' }, JSON.stringify({ specversion: '1.0', id: 'r-1', source: '/pos', type: 'refund.issued', data: { amount: 5 } }));
    assert.equal(structured.status, 202);
    assert.equal(sinks.get('refunds')!.events[0]!.data.toString(), '{"amount":5}');

    const batch = await post(
      { 'content-type': 'application/cloudevents-batch+json' },
      JSON.stringify([
        { specversion: '1.0', id: 'o-2', source: '/pos', type: 'order.created' },
        { specversion: '1.0', id: 'o-3', source: 'https://shop.example.com/x', type: 'order.created' },
      ]),
    );
    assert.equal(batch.status, 202);
    assert.deepEqual(((await batch.json()) as EventsAccepted).deliveries, 3);
    assert.deepEqual(sinks.get('all-orders')!.events.map((e) => e.id), ['o-2', 'o-3']);
    assert.equal(sinks.get('all-orders')!.calls, 1, 'one delivery per trigger for the whole batch');
    assert.deepEqual(sinks.get('shop-orders')!.events.map((e) => e.id), ['o-3']);
  });

  test('an event no trigger takes is accepted and dropped (202, 0 deliveries), as a Knative broker does', async () => {
    const response = await post({ ...binary, 'ce-type': 'nobody.listens' }, 'x');
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { events: 1, deliveries: 0, triggers: [] });
  });

  test('a trigger that stopped between the match and the delivery is skipped', async () => {
    const response = await post({ ...binary, 'ce-type': 'order.paused' }, 'x');
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { events: 1, deliveries: 0, triggers: [] });
  });

  test('a batch with one invalid event delivers nothing', async () => {
    const response = await post(
      { 'content-type': 'application/cloudevents-batch+json' },
      JSON.stringify([{ specversion: '1.0', id: 'o-4', source: '/pos', type: 'order.created' }, { specversion: '1.0', id: 'o-5', type: 'order.created' }]),
    );
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('x-nimbus-error'), 'INVALID_CLOUDEVENT');
    const body = (await response.json()) as { error: { details: { index: number; field: string } } };
    assert.deepEqual(body.error.details, { field: 'source', index: 1 });
    for (const sink of sinks.values()) assert.equal(sink.calls, 0);
  });

  test('a request that is no CloudEvent is a 400; a body over the limit a 413', async () => {
    const plain = await post({ 'content-type': 'text/plain' }, 'hello');
    assert.equal(plain.status, 400);
    assert.equal(plain.headers.get('x-nimbus-error'), 'INVALID_CLOUDEVENT');
    const huge = await post(binary, Buffer.alloc(2048, 'a'));
    assert.equal(huge.status, 413);
    assert.equal(huge.headers.get('x-nimbus-error'), 'PAYLOAD_TOO_LARGE');
    for (const sink of sinks.values()) assert.equal(sink.calls, 0);
  });

  test('a matching function with a full backlog: 503 with Retry-After, and no trigger gets the event', async () => {
    sinks.get('shop-orders')!.full();
    const response = await post(binary, '{}');
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('x-nimbus-error'), 'FUNCTION_OVERLOADED');
    assert.equal(response.headers.get('retry-after'), '1');
    for (const sink of sinks.values()) assert.equal(sink.calls, 0);
    sinks.get('shop-orders')!.makeRoom();
    assert.equal((await post(binary, '{}')).status, 202);
  });

  test('a refused delivery answers its error; sending again delivers', async () => {
    sinks.get('shop-orders')!.refuse(1);
    const refused = await post(binary, '{}');
    assert.equal(refused.status, 500);
    assert.equal(refused.headers.get('x-nimbus-error'), 'INTERNAL');
    const again = await post(binary, '{}');
    assert.equal(again.status, 202);
    assert.equal(sinks.get('shop-orders')!.events.length, 1);
  });

  test('needs a token of scope deploy, and POST', async () => {
    const none = await fetch(url, { method: 'POST', headers: binary, body: '{}' });
    assert.equal(none.status, 401);
    const readOnly = await post(binary, '{}', 'read-token');
    assert.equal(readOnly.status, 403);
    const get = await fetch(url, { headers: { authorization: 'Bearer deploy-token' } });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    for (const sink of sinks.values()) assert.equal(sink.calls, 0);
  });
});

describe('POST /events with the ingress key', () => {
  test('the key in x-nimbus-ingress-key or as a bearer token posts events', async () => {
    const byHeader = await fetch(url, { method: 'POST', headers: { ...binary, 'x-nimbus-ingress-key': INGRESS_KEY }, body: '{}' });
    assert.equal(byHeader.status, 202);
    const byBearer = await post(binary, '{}', INGRESS_KEY);
    assert.equal(byBearer.status, 202);
    assert.equal(sinks.get('all-orders')!.events.length, 2);
  });

  test('another key is refused', async () => {
    const wrong = await fetch(url, { method: 'POST', headers: { ...binary, 'x-nimbus-ingress-key': 'x'.repeat(40) }, body: '{}' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('x-nimbus-error'), 'INVALID_TOKEN');
    const wrongBearer = await post(binary, '{}', 'x'.repeat(40));
    assert.equal(wrongBearer.status, 401, 'an unknown bearer goes to the API guard');
    for (const sink of sinks.values()) assert.equal(sink.calls, 0);
  });

  test('a key file must hold a long printable key', () => {
    assert.equal(parseIngressKey(`  ${INGRESS_KEY}\n`), INGRESS_KEY);
    assert.throws(() => parseIngressKey('short'), /at least 32/);
    assert.throws(() => parseIngressKey(`${'a'.repeat(20)} ${'b'.repeat(20)}`), /printable/);
  });
});
