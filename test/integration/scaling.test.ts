import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { api, deploy, startPlatform, waitFor } from './harness.js';
import { within } from '../runtimes/shim-harness.js';
import { END_OF_BODY, HOLD_UNTIL_BODY_ENDS, heldInvocation, RawConnection } from './raw-connection.js';

/** A function that holds each request for a while, so requests overlap and need capacity. */
const SLOW = (tag: string, holdMs: number) => ({
  file: 'index.js',
  content: `export default async () => { await new Promise((r) => setTimeout(r, ${holdMs})); return new Response('${tag}'); };`,
});

/** Starts an invocation of a HOLD_UNTIL_BODY_ENDS function and waits until it runs on an instance. */
async function holdSlot(url: string, name: string): Promise<RawConnection> {
  const connection = new RawConnection(url);
  connection.write(heldInvocation(name));
  await connection.waitFor(/started;/);
  return connection;
}

/** A GET expected to be refused with 503 FUNCTION_OVERLOADED and Retry-After; answers when and why. */
async function overloaded(url: string): Promise<{ at: number; message: string }> {
  const res = await request(`${url}/fn/narrow`);
  const body = (await res.body.json()) as { error: { code: string; message: string } };
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['x-nimbus-error'], 'FUNCTION_OVERLOADED');
  assert.equal(res.headers['retry-after'], '1');
  return { at: Date.now(), message: body.error.message };
}

describe('scaling', { timeout: 120_000 }, () => {
  test('a burst of 200 concurrent requests from zero is served completely, then scales back to zero', async () => {
    const platform = await startPlatform();
    const held: RawConnection[] = [];
    try {
      await deploy(platform.url, 'bursty', HOLD_UNTIL_BODY_ENDS, { concurrency: 10, maxInstances: 30, idleTimeout: '2s', timeout: '2m' });
      assert.equal((await api(platform.url, 'GET', '/api/v1/functions/bursty')).json!.instances, 0);
      // Every request is held until all 200 have reached an instance, so the count does not depend
      // on how fast this machine sends them.
      for (let i = 0; i < 200; i++) {
        const connection = new RawConnection(platform.url);
        held.push(connection);
        connection.write(heldInvocation('bursty'));
      }
      await Promise.all(held.map((connection) => connection.waitFor(/started;/, 60_000)));
      // 200 in flight at concurrency 10 are on at least 20 instances; the autoscaler may add up to max.
      const { instances } = (await api(platform.url, 'GET', '/api/v1/functions/bursty')).json!;
      assert.ok(instances >= 20 && instances <= 30, `instances during the burst: ${instances}`);
      for (const connection of held) connection.write(END_OF_BODY);
      const answers = await Promise.all(held.map((connection) => connection.waitFor(/finished after 3 bytes\r\n0\r\n\r\n$/, 60_000).then(() => connection.text())));
      assert.equal(answers.filter((text) => text.startsWith('HTTP/1.1 200 ')).length, 200);
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/bursty')).json!.instances === 0, 30_000, 'scale back to zero');
    } finally {
      for (const connection of held) connection.destroy();
      await platform.close();
    }
  });

  test('steady load through five redeploys and a scale-down: no errors, every answer from old or new code', async () => {
    const platform = await startPlatform();
    try {
      await deploy(platform.url, 'rolling', SLOW('v0', 20), { concurrency: 4, maxInstances: 8 });
      const seen = new Set<string>();
      const errors: string[] = [];
      let running = true;
      const client = async () => {
        while (running) {
          try {
            const res = await request(`${platform.url}/fn/rolling`);
            const body = await res.body.text();
            if (res.statusCode !== 200) errors.push(`${res.statusCode} ${body}`);
            else seen.add(body);
          } catch (err) {
            errors.push(String(err));
          }
        }
      };
      const clients = Array.from({ length: 12 }, client);
      // Each version is redeployed once the load has reached the one before: the pace follows the
      // platform, however fast this machine is.
      const served = (version: string) => waitFor(() => seen.has(version), 30_000, `an answer from ${version}`);
      for (let v = 1; v <= 5; v++) {
        await served(`v${v - 1}`);
        const fn = await deploy(platform.url, 'rolling', SLOW(`v${v}`, 20));
        assert.equal(fn.version, v + 1);
      }
      // Scale down: fewer instances allowed than the load wants; requests queue, none fail.
      await served('v5');
      await deploy(platform.url, 'rolling', SLOW('v6', 20), { maxInstances: 1 });
      await served('v6');
      running = false;
      await Promise.all(clients);
      assert.deepEqual(errors, []);
      for (const body of seen) assert.match(body, /^v[0-6]$/);
      const fn = await api(platform.url, 'GET', '/api/v1/functions/rolling');
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/rolling')).json!.instances <= 1, 20_000, 'old instances drained');
      assert.equal(fn.json!.maxInstances, 1);
    } finally {
      await platform.close();
    }
  });

  test('min instances are running before any request, and get reports the desired count', async () => {
    const platform = await startPlatform();
    try {
      await deploy(platform.url, 'always-on', SLOW('on', 0), { minInstances: 2 });
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/always-on')).json!.readyInstances === 2, 10_000, 'two ready instances');
      const fn = (await api(platform.url, 'GET', '/api/v1/functions/always-on')).json!;
      assert.equal(fn.minInstances, 2);
      assert.equal(fn.desired, 2);
      const res = await request(`${platform.url}/fn/always-on`);
      assert.equal(res.headers['x-nimbus-cold-start'], 'false', 'served by a running instance');
      await res.body.dump();
      const bad = await api(platform.url, 'PUT', '/api/v1/functions/always-on', { package: fn.package, minInstances: 5, maxInstances: 2 });
      assert.equal(bad.status, 400);
      assert.equal(bad.json!.error.details.field, 'minInstances');
    } finally {
      await platform.close();
    }
  });

  test('the wait for capacity ends at the function timeout when that is shorter than the cap: 503, not 504', async () => {
    const platform = await startPlatform({ maxQueueWaitMs: 10_000 });
    try {
      // Loading takes 3 s (busy at module level), the timeout is 1 s: the request never gets an instance.
      const slowLoad = { file: 'index.js', content: 'const end = Date.now() + 3000; while (Date.now() < end); export default () => new Response("x");' };
      await deploy(platform.url, 'slowload', slowLoad, { timeout: '1s' });
      const started = Date.now();
      const waited = await request(`${platform.url}/fn/slowload`);
      const elapsed = Date.now() - started;
      assert.equal(waited.statusCode, 503);
      assert.equal(waited.headers['x-nimbus-error'], 'FUNCTION_OVERLOADED');
      assert.equal(waited.headers['retry-after'], '1');
      assert.match(((await waited.body.json()) as { error: { message: string } }).error.message, /no free capacity within its timeout of 1s/);
      assert.ok(elapsed >= 800 && elapsed < 2500, `answered after ${elapsed} ms`);
    } finally {
      await platform.close();
    }
  });

  test('past the queue bounds the answer is 503 FUNCTION_OVERLOADED with Retry-After: at once when full, after the wait bound when waiting', async () => {
    const platform = await startPlatform({ maxQueue: 2, maxQueueWaitMs: 2000 });
    let held: RawConnection | undefined;
    try {
      // One instance, one request at a time, held busy until the test lets it finish.
      await deploy(platform.url, 'narrow', HOLD_UNTIL_BODY_ENDS, { concurrency: 1, maxInstances: 1, timeout: '2m' });
      held = await holdSlot(platform.url, 'narrow');
      const sentAt = Date.now();
      const answers = await Promise.all([overloaded(platform.url), overloaded(platform.url), overloaded(platform.url)]);
      // Two wait (the queue holds 2), the third is refused at once: it is answered first.
      const [refused, ...waited] = answers.sort((a, b) => a.at - b.at);
      assert.match(refused!.message, /has 2 requests waiting already/);
      for (const answer of waited) {
        assert.match(answer.message, /had no free capacity within the platform's wait limit of 2s/);
        assert.ok(answer.at - sentAt >= 2000, `answered after ${answer.at - sentAt} ms, before the wait bound`);
      }
      assert.doesNotMatch(held.text(), /finished/, 'all of it while the slot was busy');
      held.write(END_OF_BODY);
      await held.waitFor(/finished after 3 bytes/);
    } finally {
      held?.destroy();
      await platform.close();
    }
  });

  test('the default queue bound is 1000 requests per function', async () => {
    // A long wait bound, so only the count can refuse a request however slowly they arrive.
    const platform = await startPlatform({ maxQueueWaitMs: 600_000 });
    let held: RawConnection | undefined;
    const agent = new Agent({ connections: 1100 });
    try {
      await deploy(platform.url, 'narrow', HOLD_UNTIL_BODY_ENDS, { concurrency: 1, maxInstances: 1, timeout: '10m' });
      held = await holdSlot(platform.url, 'narrow');
      let firstAnswer: (text: string) => void = () => undefined;
      const first = new Promise<string>((resolve) => (firstAnswer = resolve));
      const requests = Array.from({ length: 1001 }, async () => {
        const res = await request(`${platform.url}/fn/narrow`, { dispatcher: agent });
        const text = `${res.statusCode} ${await res.body.text()}`;
        firstAnswer(text);
        return text;
      });
      // Nothing can be served while the slot is held: the first answer is the refusal of the 1001st.
      assert.match(await within(first, 60_000, 'the refusal of the 1001st request'), /^503 .*has 1000 requests waiting already/);
      held.write(END_OF_BODY);
      const texts = await Promise.all(requests);
      assert.equal(texts.filter((text) => text === '200 quick').length, 1000);
    } finally {
      held?.destroy();
      await agent.close();
      await platform.close();
    }
  });

  test('a runtime process serves one function only: never reused for another', async () => {
    const platform = await startPlatform();
    try {
      // A per-process identity (PIDs repeat across PID namespaces: every sandboxed runtime is PID 1).
      const pidOf = { file: 'index.js', content: 'const id = crypto.randomUUID(); export default () => new Response(id);' };
      const pids = new Map<string, string>();
      for (const name of ['first', 'second', 'third']) {
        await deploy(platform.url, name, pidOf);
        const res = await request(`${platform.url}/fn/${name}`);
        pids.set(name, await res.body.text());
        if (name === 'first') {
          // Its instance stops; the process must not come back for another function.
          await api(platform.url, 'DELETE', '/api/v1/functions/first');
        }
      }
      assert.equal(new Set(pids.values()).size, 3, JSON.stringify([...pids]));
    } finally {
      await platform.close();
    }
  });
});
