// Logs the MQTT message a trigger delivers. Nimbus hands each message to the function as a
// CloudEvents 1.0 request in binary mode: the attributes are `ce-*` headers, the body is the
// message's payload byte for byte. See `nimbus logs mqtt-logger`.

export default {
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    // MQTT metadata travels in extension attributes: mqttqos, mqttretain, mqttdup, and
    // mqtt<name> for MQTT 5 user properties whose names fit.
    const extensions = {};
    for (const [name, value] of request.headers) {
      if (name.startsWith('ce-mqtt')) extensions[name.slice(3)] = value;
    }
    console.log(JSON.stringify({
      id: request.headers.get('ce-id'),
      type: request.headers.get('ce-type'),
      source: request.headers.get('ce-source'),
      subject: request.headers.get('ce-subject'), // the topic the message was published to
      extensions,
      body: new TextDecoder().decode(body),
    }));
    return new Response(null, { status: 204 });
  },
};
