// Logs the NATS message a trigger delivers. Nimbus hands each message to the function as a
// CloudEvents 1.0 request in binary mode: the attributes are `ce-*` headers, the body is the
// message's payload byte for byte. See `nimbus logs nats-logger`.

export default {
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    // NATS metadata travels in extension attributes: natsstream, natsseq, natsredelivered,
    // natsdeliveries (JetStream), natsreply (core NATS), nats<header> for headers whose names fit.
    const extensions = {};
    for (const [name, value] of request.headers) {
      if (name.startsWith('ce-nats')) extensions[name.slice(3)] = value;
    }
    console.log(JSON.stringify({
      id: request.headers.get('ce-id'),
      type: request.headers.get('ce-type'),
      source: request.headers.get('ce-source'),
      subject: request.headers.get('ce-subject'),
      extensions,
      body: new TextDecoder().decode(body),
    }));
    // Any 2xx ends the invocation; a 5xx or a timeout is retried by the function's async policy.
    return new Response(null, { status: 204 });
  },
};
