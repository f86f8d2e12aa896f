// Logs the AMQP message a trigger hands it. A trigger's event arrives as a CloudEvents 1.0 request
// in binary mode: the attributes are `ce-*` headers, the message body is the request body, byte
// for byte, and `content-type` is the message's contentType.
export default {
  async fetch(request) {
    const h = (name) => request.headers.get(name);
    const body = await request.text();
    // Goes to the function's logs: `nimbus logs amqp-logger`.
    console.log(
      JSON.stringify({
        id: h('ce-id'), // the message's messageId, or a hash of it (docs/triggers-amqp-redis.md)
        type: h('ce-type'), // dev.nimbus.amqp.message
        source: h('ce-source'), // amqp://127.0.0.1:5672/%2F/<queue or exchange>
        subject: h('ce-subject'), // the routing key (the queue when it is empty)
        exchange: h('ce-amqpexchange'),
        routingKey: h('ce-amqproutingkey'),
        redelivered: h('ce-amqpredelivered'), // "true" when the broker delivered it before
        contentType: h('content-type'),
        body,
      }),
    );
    // A 2xx ends the invocation; an error or a 5xx is retried by the function's async policy.
    return new Response(null, { status: 204 });
  },
};
