import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { triggerSummary } from '../../src/ui/trigger-summary.js';

/** The Settings cell of the triggers table: what fires each kind, without broker URLs. */
describe('triggerSummary', () => {
  test('names what fires each kind and the settings that qualify it', () => {
    assert.equal(triggerSummary('cron', { schedule: '0 3 * * *', timezone: 'Europe/Zurich', catchUp: true }), '0 3 * * *, zone Europe/Zurich, catch-up');
    assert.equal(triggerSummary('cron', { schedule: '*/1 * * * * *', catchUp: false }), '*/1 * * * * *');
    assert.equal(triggerSummary('nats', { subject: 'orders.>', stream: 'ORDERS', url: 'nats://127.0.0.1:4222' }), 'subject orders.>, stream ORDERS');
    assert.equal(triggerSummary('mqtt', { topic: 'sensors/+/temp', qos: 1 }), 'topic sensors/+/temp, qos 1');
    assert.equal(triggerSummary('amqp', { queue: 'jobs', url: 'amqp://127.0.0.1:5672' }), 'queue jobs');
    assert.equal(triggerSummary('amqp', { exchange: 'events', routingKey: 'order.*' }), 'exchange events, key order.*');
    assert.equal(triggerSummary('redis', { stream: 'clicks', group: 'nimbus' }), 'stream clicks, group nimbus');
    assert.equal(triggerSummary('file', { path: '/srv/in', pattern: '*.csv', events: ['created', 'modified'] }), '/srv/in, pattern *.csv, on created/modified');
    assert.equal(triggerSummary('event', { eventType: 'com.example.order', eventSource: '/shop' }), 'type com.example.order, source /shop*');
  });

  test('an unknown kind lists its setting names, never their values', () => {
    assert.equal(triggerSummary('kafka', { topic: 'x', password: 'secret' }), 'topic, password');
  });
});
