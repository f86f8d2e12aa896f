// A function run on a schedule: each tick arrives as a CloudEvents 1.0 request in binary mode,
// POST / with the event's attributes in ce-* headers and its data (the trigger's --data) as the body.
export default {
  async fetch(request) {
    const event = {
      id: request.headers.get('ce-id'), // the trigger and the scheduled time: the same on a retry
      type: request.headers.get('ce-type'), // dev.nimbus.cron.tick
      source: request.headers.get('ce-source'), // urn:nimbus:trigger:<trigger name>
      time: request.headers.get('ce-time'), // the scheduled time (RFC 3339)
      trigger: request.headers.get('x-nimbus-trigger'),
    };
    const text = await request.text();
    const data = text === '' ? null : JSON.parse(text); // no --data: no body
    console.log(`tick ${event.time} from ${event.trigger}: ${JSON.stringify(data)}`);
    return Response.json({ received: event, data });
  },
};
