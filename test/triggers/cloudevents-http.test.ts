import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import { parseCloudEvents, type RequestHeaders } from '../../src/triggers/cloudevents-http.js';

const binaryHeaders = { 'ce-specversion': '1.0', 'ce-id': 'e-1', 'ce-source': 'https://shop.example.com/orders', 'ce-type': 'com.example.order.created' };
const structured = { specversion: '1.0', id: 'e-2', source: '/shop', type: 'com.example.order.created' };
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const STRUCTURED = { 'content-type': 'application/cloudevents+json; charset=utf-8' };
const BATCH = { 'content-type': 'application/cloudevents-batch+json' };

/** Asserts that parsing refuses the request with this code and field (and batch index). */
function refuses(headers: RequestHeaders, body: Buffer, field: string, extra: { index?: number; code?: string } = {}): void {
  assert.throws(
    () => parseCloudEvents(headers, body),
    (err: unknown) => {
      assert.ok(isNimbusError(err), String(err));
      assert.equal(err.code, extra.code ?? 'INVALID_CLOUDEVENT');
      assert.equal(err.details?.field, field);
      assert.equal(err.details?.index, extra.index);
      return true;
    },
  );
}

describe('CloudEvents over HTTP: binary mode', () => {
  test('attributes from ce- headers, content-type, the body byte for byte, extensions', () => {
    const body = Buffer.from([0, 255, 1, 2, 0x80]);
    const { mode, events } = parseCloudEvents(
      { ...binaryHeaders, 'content-type': 'application/octet-stream', 'ce-subject': 'order/42', 'ce-time': '2026-01-31T12:00:00.5+01:00', 'ce-tenant': 'acme', 'ce-dataschema': 'https://example.com/s.json', host: 'x' },
      body,
    );
    assert.equal(mode, 'binary');
    assert.deepEqual(events, [
      {
        id: 'e-1',
        type: 'com.example.order.created',
        source: 'https://shop.example.com/orders',
        subject: 'order/42',
        time: Date.parse('2026-01-31T11:00:00.5Z'),
        contentType: 'application/octet-stream',
        data: body,
        extensions: { tenant: 'acme', dataschema: 'https://example.com/s.json' },
      },
    ]);
  });

  test('JSON data stays as sent (no re-serialisation), header values are percent-decoded', () => {
    const body = Buffer.from('{ "a" :  1.50 }');
    const [event] = parseCloudEvents({ ...binaryHeaders, 'content-type': 'application/json', 'ce-subject': 'caf%C3%A9 %25' }, body).events;
    assert.ok(event!.data.equals(body));
    assert.equal(event!.subject, 'café %');
    assert.equal(event!.contentType, 'application/json');
    assert.equal(event!.time, undefined, 'no time is invented');
  });

  test('an empty body is empty data', () => {
    const [event] = parseCloudEvents(binaryHeaders, Buffer.alloc(0)).events;
    assert.equal(event!.data.length, 0);
    assert.equal(event!.contentType, undefined);
  });

  test('invalid requests name the header at fault', () => {
    const without = (name: string) => Object.fromEntries(Object.entries(binaryHeaders).filter(([key]) => key !== name));
    refuses({ 'content-type': 'text/plain' }, Buffer.from('x'), 'ce-specversion');
    refuses({ ...binaryHeaders, 'ce-specversion': '0.3' }, Buffer.alloc(0), 'ce-specversion');
    refuses(without('ce-id'), Buffer.alloc(0), 'ce-id');
    refuses(without('ce-source'), Buffer.alloc(0), 'ce-source');
    refuses(without('ce-type'), Buffer.alloc(0), 'ce-type');
    refuses({ ...binaryHeaders, 'ce-id': '' }, Buffer.alloc(0), 'ce-id');
    refuses({ ...binaryHeaders, 'ce-source': 'has space' }, Buffer.alloc(0), 'ce-source');
    refuses({ ...binaryHeaders, 'ce-time': 'yesterday' }, Buffer.alloc(0), 'ce-time');
    refuses({ ...binaryHeaders, 'ce-time': '2026-02-30T00:00:00' }, Buffer.alloc(0), 'ce-time');
    refuses({ ...binaryHeaders, 'ce-my_ext': 'v' }, Buffer.alloc(0), 'ce-my_ext');
    refuses({ ...binaryHeaders, 'ce-averyveryverylongname1': 'v' }, Buffer.alloc(0), 'ce-averyveryverylongname1');
    refuses({ ...binaryHeaders, 'ce-data': 'v' }, Buffer.alloc(0), 'ce-data');
    refuses({ ...binaryHeaders, 'ce-subject': '%E0%A4%A' }, Buffer.alloc(0), 'ce-subject');
    refuses({ ...binaryHeaders, 'ce-datacontenttype': 'text/plain' }, Buffer.alloc(0), 'ce-datacontenttype');
    refuses({ ...binaryHeaders, 'ce-subject': '' }, Buffer.alloc(0), 'ce-subject');
  });
});

describe('CloudEvents over HTTP: structured mode', () => {
  test('JSON data is the data; attributes and typed extensions become strings', () => {
    const { mode, events } = parseCloudEvents(STRUCTURED, json({ ...structured, subject: 's', time: '2026-01-31T12:00:00Z', data: { total: 12 }, retries: 3, urgent: true, region: 'eu' }));
    assert.equal(mode, 'structured');
    assert.deepEqual(events, [
      {
        id: 'e-2',
        type: 'com.example.order.created',
        source: '/shop',
        subject: 's',
        time: Date.parse('2026-01-31T12:00:00Z'),
        contentType: 'application/json',
        data: Buffer.from('{"total":12}'),
        extensions: { retries: '3', urgent: 'true', region: 'eu' },
      },
    ]);
  });

  test('data_base64 is binary-safe', () => {
    const bytes = Buffer.from([0, 1, 254, 255, 10, 13]);
    const [event] = parseCloudEvents(STRUCTURED, json({ ...structured, datacontenttype: 'image/png', data_base64: bytes.toString('base64') })).events;
    assert.ok(event!.data.equals(bytes));
    assert.equal(event!.contentType, 'image/png');
  });

  test('string data of a non-JSON type is its UTF-8 bytes; no data is empty data; null attributes are absent', () => {
    const [text] = parseCloudEvents(STRUCTURED, json({ ...structured, datacontenttype: 'text/plain', data: 'héllo' })).events;
    assert.equal(text!.data.toString('utf8'), 'héllo');
    const [none] = parseCloudEvents(STRUCTURED, json({ ...structured, subject: null })).events;
    assert.equal(none!.data.length, 0);
    assert.equal(none!.subject, undefined);
    assert.equal(none!.contentType, undefined);
  });

  test('invalid events name the attribute at fault', () => {
    refuses(STRUCTURED, Buffer.from('{not json'), 'body');
    refuses(STRUCTURED, json([structured]), 'body');
    refuses(STRUCTURED, json({ ...structured, specversion: '0.3' }), 'specversion');
    refuses(STRUCTURED, json({ ...structured, specversion: undefined }), 'specversion');
    refuses(STRUCTURED, json({ ...structured, type: undefined }), 'type');
    refuses(STRUCTURED, json({ ...structured, id: 7 }), 'id');
    refuses(STRUCTURED, json({ ...structured, time: 'now' }), 'time');
    refuses(STRUCTURED, json({ ...structured, Bad: 'x' }), 'Bad');
    refuses(STRUCTURED, json({ ...structured, nested: { a: 1 } }), 'nested');
    refuses(STRUCTURED, json({ ...structured, big: 2 ** 31 }), 'big');
    refuses(STRUCTURED, json({ ...structured, data: 'x', data_base64: 'AA==' }), 'data_base64');
    refuses(STRUCTURED, json({ ...structured, data_base64: '%%%' }), 'data_base64');
    refuses(STRUCTURED, json({ ...structured, datacontenttype: 'text/plain', data: { a: 1 } }), 'data');
    refuses(STRUCTURED, json({ ...structured, datacontenttype: 'not a type' }), 'datacontenttype');
    refuses({ 'content-type': 'application/cloudevents+avro' }, Buffer.alloc(0), 'content-type', { code: 'UNSUPPORTED_MEDIA_TYPE' });
  });
});

describe('CloudEvents over HTTP: batched mode', () => {
  test('every member is an event, in order', () => {
    const { mode, events } = parseCloudEvents(BATCH, json([structured, { ...structured, id: 'e-3', data_base64: 'AAE=' }]));
    assert.equal(mode, 'batch');
    assert.deepEqual(events.map((e) => e.id), ['e-2', 'e-3']);
    assert.ok(events[1]!.data.equals(Buffer.from([0, 1])));
  });

  test('an empty batch is no events', () => {
    assert.deepEqual(parseCloudEvents(BATCH, json([])).events, []);
  });

  test('one invalid member refuses the whole batch, naming its index', () => {
    refuses(BATCH, json([structured, { ...structured, id: 'e-4' }, { ...structured, source: undefined }]), 'source', { index: 2 });
    refuses(BATCH, json([structured, 'not an event']), 'body', { index: 1 });
    refuses(BATCH, json(structured), 'body');
  });
});
