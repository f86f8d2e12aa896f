// A Hono app deployed unmodified: Hono apps are Web-standard `fetch` handlers, so
// `export default app` is all Nimbus needs. Routes see the sub-path below /fn/<name>, so
// GET /fn/hono/hello/bob reaches the `/hello/:name` route here.
import { Hono } from 'hono';

const app = new Hono();

app.get('/', (c) => c.text('Hono on Nimbus'));

app.get('/hello/:name', (c) => c.json({ message: `hello, ${c.req.param('name')}` }));

app.post('/echo', async (c) => {
  // Echo JSON back as JSON, anything else as text: shows body parsing through the platform.
  const type = c.req.header('content-type') ?? '';
  if (type.includes('application/json')) return c.json({ echo: await c.req.json() });
  return c.text(await c.req.text());
});

export default app;
