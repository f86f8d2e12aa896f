/**
 * OpenTelemetry traces of a real platform, received by an OTLP/HTTP collector inside the test:
 * the invocation's server span with its FaaS and HTTP attributes, its children (admission wait,
 * cold start on the first invocation only, instance call) with the right parents, a caller's
 * traceparent continued and handed on to the function, an async attempt in the accepting
 * request's trace, and an error's status and code. The platform is closed before the spans are
 * read: closing flushes the batch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { invokeAsync, settled } from './async-fixtures.js';
import { join } from 'node:path';
import { deploy, EXAMPLES, invoke, startPlatform, type TestPlatform } from './harness.js';
import { OtlpReceiver, type ReceivedSpan, SPAN_KIND } from '../support/otlp-receiver.js';

/** Echoes the headers it saw; throws on `?throw`. */
const ECHO_HEADERS = {
  file: 'index.js',
  content: `export default async (req) => {
  if (new URL(req.url).searchParams.has('throw')) throw new Error('asked to fail');
  return Response.json(Object.fromEntries(req.headers));
};`,
};

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const ASYNC_TRACE = '0af7651916cd43dd8448eb211c80319c';
const ASYNC_SPAN = 'b7ad6b7169203331';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('traces over OTLP/HTTP', () => {
  const receiver = new OtlpReceiver();
  let platform: TestPlatform;
  const seen: Record<string, Record<string, string>> = {};
  const ids: Record<string, string> = {};

  before(async () => {
    const base = await receiver.start();
    platform = await startPlatform({ otlpEndpoint: base, serviceName: 'nimbus-test', sandbox: 'process' });
    await deploy(platform.url, 'echo', ECHO_HEADERS, { memory: 256 });
    const first = await invoke(platform.url, 'echo/first?q=secret');
    assert.equal(first.status, 200, first.text);
    seen['first'] = JSON.parse(first.text) as Record<string, string>;
    ids['first'] = String(first.headers['x-nimbus-invocation-id']);
    const continued = await invoke(platform.url, 'echo/continued', { headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: 'vendor=abc' } });
    seen['continued'] = JSON.parse(continued.text) as Record<string, string>;
    ids['continued'] = String(continued.headers['x-nimbus-invocation-id']);
    await deploy(platform.url, 'observe', join(EXAMPLES, 'observability'));
    const example = await invoke(platform.url, 'observe/orders', { headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` } });
    seen['example'] = JSON.parse(example.text) as Record<string, string>;
    ids['example'] = String(example.headers['x-nimbus-invocation-id']);
    const failed = await invoke(platform.url, 'echo/?throw=1');
    assert.equal(failed.headers['x-nimbus-error'], 'FUNCTION_ERROR');
    ids['failed'] = String(failed.headers['x-nimbus-invocation-id']);
    const accepted = await invokeAsync(platform.url, 'echo/later', { headers: { traceparent: `00-${ASYNC_TRACE}-${ASYNC_SPAN}-01` } });
    assert.equal(accepted.status, 202);
    ids['async'] = accepted.json.id!;
    await settled(platform.url, ids['async']!);
    await platform.close();
  });
  after(() => receiver.stop());

  const serverSpan = (id: string): ReceivedSpan => {
    const found = receiver.spans.filter((s) => s.attributes['faas.invocation_id'] === id && (s.kind === SPAN_KIND.SERVER || s.kind === SPAN_KIND.CONSUMER));
    assert.equal(found.length, 1, `one invocation span for ${id}; got ${JSON.stringify(receiver.spans.map((s) => s.name))}`);
    return found[0]!;
  };
  const childrenOf = (span: ReceivedSpan) => receiver.spans.filter((s) => s.parentSpanId === span.spanId && s.traceId === span.traceId);

  test('arrive as OTLP JSON at /v1/traces with the service name', () => {
    assert.deepEqual(receiver.rejected, []);
    assert.ok(receiver.spans.length > 0);
    for (const span of receiver.spans) assert.equal(span.resource['service.name'], 'nimbus-test');
  });

  test('a sync invocation: a server span with FaaS and HTTP attributes, and its children', () => {
    const span = serverSpan(ids['first']!);
    assert.equal(span.name, 'echo');
    assert.equal(span.kind, SPAN_KIND.SERVER);
    assert.equal(span.parentSpanId, '', 'no caller context: a new trace');
    assert.equal(span.attributes['faas.trigger'], 'http');
    assert.equal(span.attributes['faas.name'], 'echo');
    assert.equal(span.attributes['faas.version'], '1');
    assert.equal(span.attributes['faas.max_memory'], 256 * 1024 * 1024);
    assert.equal(span.attributes['faas.coldstart'], true);
    assert.equal(span.attributes['http.request.method'], 'GET');
    assert.equal(span.attributes['http.route'], '/fn/echo');
    assert.equal(span.attributes['url.path'], '/first', 'the query is left out');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(span.status.code, 0);
    const children = childrenOf(span);
    assert.deepEqual(children.map((c) => c.name).sort(), ['admission wait', 'instance call']);
    const admission = children.find((c) => c.name === 'admission wait')!;
    const coldStart = childrenOf(admission);
    assert.deepEqual(coldStart.map((c) => c.name), ['cold start'], 'the first invocation started an instance');
    const call = children.find((c) => c.name === 'instance call')!;
    assert.equal(call.kind, SPAN_KIND.CLIENT);
    for (const child of [...children, ...coldStart]) {
      assert.ok(child.startNs >= span.startNs && child.endNs <= span.endNs, `${child.name} lies within the invocation`);
    }
    assert.ok(admission.endNs <= call.startNs, 'the call starts once admitted');
    // The function continues the instance call's span.
    assert.equal(seen['first']!['traceparent'], `00-${span.traceId}-${call.spanId}-01`);
  });

  test('a cold start span only when an instance started', () => {
    const warm = serverSpan(ids['continued']!);
    assert.equal(warm.attributes['faas.coldstart'], false);
    const admission = childrenOf(warm).find((c) => c.name === 'admission wait')!;
    assert.deepEqual(childrenOf(admission), []);
    assert.equal(receiver.spans.filter((s) => s.name === 'cold start').length, 2, 'one per function started: echo and the example');
  });

  test("a caller's traceparent is continued, and the function sees that trace", () => {
    const span = serverSpan(ids['continued']!);
    assert.equal(span.traceId, CALLER_TRACE);
    assert.equal(span.parentSpanId, CALLER_SPAN);
    const [, traceId, parentId] = TRACEPARENT.exec(seen['continued']!['traceparent'] ?? '') ?? [];
    assert.equal(traceId, CALLER_TRACE);
    const call = childrenOf(span).find((c) => c.name === 'instance call')!;
    assert.equal(parentId, call.spanId, "the function's parent is the instance call");
    assert.equal(seen['continued']!['tracestate'], 'vendor=abc', "the caller's tracestate goes along");
  });

  test("an async attempt continues the accepting request's trace", () => {
    const attempt = serverSpan(ids['async']!);
    assert.equal(attempt.kind, SPAN_KIND.CONSUMER);
    assert.equal(attempt.traceId, ASYNC_TRACE);
    assert.equal(attempt.attributes['faas.trigger'], 'other');
    assert.equal(attempt.attributes['nimbus.attempt'], 1);
    const accept = receiver.spans.find((s) => s.name === 'echo accept');
    assert.ok(accept, 'the accept span was exported');
    assert.equal(accept.kind, SPAN_KIND.PRODUCER);
    assert.equal(accept.traceId, ASYNC_TRACE);
    assert.equal(accept.parentSpanId, ASYNC_SPAN, "the accept span continues the caller's");
    assert.equal(accept.attributes['faas.invocation_id'], ids['async']);
    assert.equal(attempt.parentSpanId, accept.spanId, 'the attempt is a child of the accept span');
    assert.deepEqual(attempt.links, [{ traceId: ASYNC_TRACE, spanId: accept.spanId }], 'and links to it, as messaging consumers do');
  });

  test('the observability example sees the trace it is to continue', () => {
    const span = serverSpan(ids['example']!);
    const call = childrenOf(span).find((c) => c.name === 'instance call')!;
    assert.deepEqual(seen['example'], { invocationId: ids['example'], traceId: CALLER_TRACE, parentSpanId: call.spanId });
  });

  test('an error invocation has error status and the Nimbus error code', () => {
    const span = serverSpan(ids['failed']!);
    assert.equal(span.status.code, 2);
    assert.equal(span.attributes['nimbus.error_code'], 'FUNCTION_ERROR');
    assert.equal(span.attributes['error.type'], 'FUNCTION_ERROR');
    assert.equal(span.attributes['nimbus.outcome'], 'error');
    assert.equal(span.attributes['http.response.status_code'], 502);
    const call = childrenOf(span).find((c) => c.name === 'instance call')!;
    assert.equal(call.status.code, 2);
  });
});
