// A function fed by the CloudEvents ingress (POST /events): Nimbus delivers each matching event
// in binary mode, whatever mode it was posted in. Attributes are ce-* headers, extensions too
// (ce-tenant below), and the body is the event's data, byte for byte.

export default {
  async fetch(request) {
    const event = {
      id: request.headers.get('ce-id'),
      type: request.headers.get('ce-type'),
      source: request.headers.get('ce-source'),
      subject: request.headers.get('ce-subject'),
      time: request.headers.get('ce-time'),
      tenant: request.headers.get('ce-tenant'),
      contentType: request.headers.get('content-type'),
    };
    const data = await request.text();
    console.log(`${event.type} ${event.id} from ${event.source}: ${data}`);
    return new Response(null, { status: 204 });
  },
};
