// A Web-standard echo: shows what a `fetch(request, env, ctx)` handler receives from Nimbus.
// `request` is a standard Request whose URL path is the sub-path below /fn/<name>; `env` holds
// the function's environment variables (set at deploy time).

/** Request headers worth showing; the rest (and any secrets) stay out of the answer. */
const SHOWN_HEADERS = [
  'content-type',
  'user-agent',
  'x-forwarded-for',
  'x-forwarded-prefix',
  'x-nimbus-invocation-id',
];

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    // Read the body as bytes so binary uploads are counted correctly, not as decoded text.
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array();
    const headers = {};
    for (const name of SHOWN_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    // Goes to the function's logs, tagged with this invocation's id: see `nimbus logs web-fetch`.
    console.log(`${request.method} ${url.pathname}: ${body.byteLength} bytes, greeting ${env?.GREETING ?? '(none)'}`);
    const answer = {
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      bodyLength: body.byteLength,
      greeting: env?.GREETING ?? null,
      // ctx is optional in the Web-standard form; report whether waitUntil is offered.
      hasWaitUntil: typeof ctx?.waitUntil === 'function',
    };
    return Response.json(answer);
  },
};
