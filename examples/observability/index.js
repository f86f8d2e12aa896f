// Observability from inside a function: what it writes to stdout and stderr is kept by the
// platform (on disk, tagged with the invocation id), and the `traceparent` it receives is the
// context to continue with its own spans when the platform traces (nimbus up --otlp-endpoint).
export default {
  async fetch(request) {
    const invocationId = request.headers.get('x-nimbus-invocation-id');
    const traceparent = request.headers.get('traceparent');
    console.log(`handling ${request.method} ${new URL(request.url).pathname}`);
    // A W3C traceparent: version-traceId-parentSpanId-flags. An OpenTelemetry SDK in the
    // function would extract it with its W3C propagator and start its spans under it.
    const [, traceId, parentSpanId] = (traceparent ?? '').split('-');
    if (!traceId) console.error('no traceparent: the platform is not tracing and the caller sent none');
    return Response.json({ invocationId, traceId: traceId ?? null, parentSpanId: parentSpanId ?? null });
  },
};
