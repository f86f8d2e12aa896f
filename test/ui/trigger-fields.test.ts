/**
 * The dashboard's trigger form as data: every kind the platform has is offered, and what is typed
 * becomes the settings the API takes (empty fields left to the platform's defaults).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SOURCE_KINDS } from '../../src/triggers/sources/index.js';
import { fieldsOf, initialValues, settingsFrom, TRIGGER_KINDS } from '../../src/ui/trigger-fields.js';

describe('trigger form fields', () => {
  test('every kind the platform has is offered, and every field is a setting the kind takes', () => {
    assert.deepEqual(TRIGGER_KINDS.map((kind) => kind.type).sort(), [...SOURCE_KINDS.keys()].sort());
    for (const kind of TRIGGER_KINDS) {
      const shape = SOURCE_KINDS.get(kind.type)!.settings;
      for (const field of kind.fields) {
        const sample = settingsFrom(kind.type, { ...Object.fromEntries(kind.fields.filter((f) => f.required).map((f) => [f.key, 'x'])), [field.key]: field.as === 'number' ? '1' : field.as === 'list' ? 'created' : 'x' });
        const parsed = shape.safeParse(sample);
        // The value may be refused (a URL of "x"), but never as a key the kind does not know.
        const unknownKey = !parsed.success && parsed.error.issues.some((issue) => issue.code === 'unrecognized_keys');
        assert.ok(!unknownKey, `${kind.type}.${field.key} is not a setting of the kind`);
      }
    }
  });

  test('values are trimmed, empty ones left out, numbers and lists converted', () => {
    assert.deepEqual(settingsFrom('mqtt', { url: ' ', topic: ' sensors/+ ', qos: '0' }), { topic: 'sensors/+', qos: 0 });
    assert.deepEqual(settingsFrom('mqtt', { topic: 't', qos: 'two' }), { topic: 't', qos: 'two' }, 'not a number: sent as typed, for the platform to refuse');
    assert.deepEqual(settingsFrom('file', { path: '/srv/in', events: 'created, deleted,' }), { path: '/srv/in', events: ['created', 'deleted'] });
    assert.deepEqual(settingsFrom('nats', { subject: 'a.b', stream: '', unknown: 'dropped' }), { subject: 'a.b' });
    assert.deepEqual(settingsFrom('no-such-kind', { a: 'b' }), {});
  });

  test('a kind starts with its initial values; cron with an hourly schedule', () => {
    assert.deepEqual(initialValues('cron'), { schedule: '0 * * * *' });
    assert.deepEqual(initialValues('nats'), {});
    assert.deepEqual(fieldsOf('redis').map((f) => f.key), ['url', 'urlSecret', 'stream', 'group']);
  });
});
