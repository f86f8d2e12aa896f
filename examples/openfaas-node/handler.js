'use strict';

// An OpenFaaS node20 template handler, unchanged: Nimbus passes the template's `event` and
// `context` (status, headers, succeed, fail).
module.exports = async (event, context) => {
  if (event.method !== 'POST') {
    return context.status(200).succeed({ hint: 'POST a JSON body with a "name"' });
  }
  if (!event.body || typeof event.body.name !== 'string') {
    return context.status(400).fail('a JSON body with a "name" string, please');
  }
  return context
    .status(201)
    .headers({ 'content-type': 'application/json' })
    .succeed({ greeting: `hello, ${event.body.name}`, query: event.query });
};
