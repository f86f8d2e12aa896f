// Logs the Redis Stream entry a trigger hands it. A trigger's event arrives as a CloudEvents 1.0
// request in binary mode: the attributes are `ce-*` headers; the body is the entry's `data` field
// (else `payload`, else `body`) byte for byte, or, when it has none of them, the whole entry as a
// JSON object of its fields.
export default {
  async fetch(request) {
    const h = (name) => request.headers.get(name);
    const body = await request.text();
    // Goes to the function's logs: `nimbus logs redis-logger`.
    console.log(
      JSON.stringify({
        id: h('ce-id'), // <stream>:<entry id>, the same when the entry is delivered again
        type: h('ce-type'), // dev.nimbus.redis.entry
        subject: h('ce-subject'), // the stream key
        entryId: h('ce-redisid'),
        time: h('ce-time'), // when the entry was added (from its id)
        tenant: h('ce-tenant'), // any other field whose name fits CloudEvents, e.g. `tenant`
        contentType: h('content-type'),
        body,
      }),
    );
    // A 2xx ends the invocation; an error or a 5xx is retried by the function's async policy.
    return new Response(null, { status: 204 });
  },
};
