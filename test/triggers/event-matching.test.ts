import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventMatches, matchingTriggers } from '../../src/triggers/event-matching.js';
import { eventSettingsSchema, eventSource } from '../../src/triggers/sources/event.js';

test('an event trigger matches the type exactly and the source by prefix', () => {
  const settings = { eventType: 'com.example.order.created', eventSource: 'https://shop.example.com/' };
  assert.equal(eventMatches(settings, 'com.example.order.created', 'https://shop.example.com/orders'), true);
  assert.equal(eventMatches(settings, 'com.example.order.created', 'https://shop.example.com/'), true);
  assert.equal(eventMatches(settings, 'com.example.order.created', 'https://other.example.com/orders'), false);
  assert.equal(eventMatches(settings, 'com.example.order', 'https://shop.example.com/orders'), false);
  assert.equal(eventMatches(settings, 'com.example.order.created.v2', 'https://shop.example.com/orders'), false);
  assert.equal(eventMatches({ eventType: 't' }, 't', 'anything'), true);
});

test('matchingTriggers returns every match, in order', () => {
  const triggers = [
    { name: 'all-orders', function: 'audit', settings: { eventType: 'order' } },
    { name: 'shop-orders', function: 'ship', settings: { eventType: 'order', eventSource: '/shop' } },
    { name: 'refunds', function: 'refund', settings: { eventType: 'refund' } },
  ];
  assert.deepEqual(matchingTriggers(triggers, 'order', '/shop/eu'), [
    { name: 'all-orders', function: 'audit' },
    { name: 'shop-orders', function: 'ship' },
  ]);
  assert.deepEqual(matchingTriggers(triggers, 'order', '/pos'), [{ name: 'all-orders', function: 'audit' }]);
  assert.deepEqual(matchingTriggers(triggers, 'unknown', '/shop'), []);
});

test('event settings: eventType required, no unknown fields, no create', () => {
  assert.deepEqual(eventSettingsSchema.parse({ eventType: 't', eventSource: '/s' }), { eventType: 't', eventSource: '/s' });
  assert.equal(eventSettingsSchema.safeParse({}).success, false);
  assert.equal(eventSettingsSchema.safeParse({ eventType: '' }).success, false);
  assert.equal(eventSettingsSchema.safeParse({ eventType: 't', subject: 'x' }).success, false);
  assert.equal(eventSource.type, 'event');
  assert.equal(eventSource.create, undefined);
});
