/**
 * Function output outlives a restart of the platform: the lines are listed again in order, one
 * invocation's lines are found by its id (logs API and the invocation's record with
 * `?logs=true`), and removing the function deletes its files.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { InvocationView, LogLine } from '../../src/api/wire.js';
import { invokeAsync, settled } from './async-fixtures.js';
import { api, deploy, invoke, startPlatform, type TestPlatform, waitFor } from './harness.js';

/** Writes three lines tagged with `?tag`, the second on stderr (whose order against stdout's is the pipes'). */
const CHATTY = {
  file: 'index.js',
  content: `export default async (req) => {
  const tag = new URL(req.url).searchParams.get('tag');
  console.log(tag + ' one');
  console.error(tag + ' two');
  console.log(tag + ' three');
  return new Response('ok ' + tag);
};`,
};

async function logsOf(url: string, name: string, query = ''): Promise<LogLine[]> {
  const res = await api(url, 'GET', `/api/v1/functions/${name}/logs${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json!['logs'] as LogLine[];
}

describe('logs on disk', () => {
  let platform: TestPlatform | undefined;
  after(() => platform?.close());

  test('outlive a restart, are found by invocation, and go with their function', async () => {
    platform = await startPlatform({ sandbox: 'process', keepData: true });
    const { dataDir } = platform;
    await deploy(platform.url, 'chatty', CHATTY);
    const ids: string[] = [];
    for (const tag of ['a', 'b', 'c']) {
      const res = await invoke(platform.url, `chatty/?tag=${tag}`);
      assert.equal(res.status, 200);
      ids.push(String(res.headers['x-nimbus-invocation-id']));
    }
    const accepted = await invokeAsync(platform.url, 'chatty/?tag=d');
    assert.equal(accepted.status, 202);
    const asyncId = accepted.json.id!;
    await settled(platform.url, asyncId);
    await waitFor(async () => (await logsOf(platform!.url, 'chatty')).length === 12, 10_000, 'the twelve lines');
    await platform.close();

    // A new platform on the same data dir: nothing of the old one is in memory.
    platform = await startPlatform({ sandbox: 'process', dataDir });
    const lines = await logsOf(platform.url, 'chatty');
    const messages = (stream: string, of: LogLine[] = lines) => of.filter((l) => l.stream === stream).map((l) => l.message.trim());
    assert.deepEqual(messages('stdout'), ['a one', 'a three', 'b one', 'b three', 'c one', 'c three', 'd one', 'd three']);
    assert.deepEqual(messages('stderr'), ['a two', 'b two', 'c two', 'd two']);
    const times = lines.map((l) => Date.parse(l.time));
    assert.deepEqual(times, [...times].sort((x, y) => x - y), 'oldest first');
    assert.ok(lines.every((l) => l.function === 'chatty'));

    const ofB = await logsOf(platform.url, 'chatty', `?invocation=${ids[1]}`);
    assert.deepEqual(messages('stdout', ofB), ['b one', 'b three']);
    assert.deepEqual(messages('stderr', ofB), ['b two']);
    assert.ok(ofB.every((l) => l.invocationId === ids[1]));
    assert.deepEqual(await logsOf(platform.url, 'chatty', '?invocation=no-such-invocation'), []);
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/chatty/logs?invocation=')).status, 400);
    assert.deepEqual(await logsOf(platform.url, 'chatty', '?limit=2'), lines.slice(-2));

    // The invocation's record, with its lines when asked.
    const plain = await api(platform.url, 'GET', `/api/v1/invocations/${asyncId}`);
    assert.equal((plain.json as InvocationView).logs, undefined);
    const withLogs = await api(platform.url, 'GET', `/api/v1/invocations/${asyncId}?logs=true`);
    assert.equal(withLogs.status, 200);
    const view = withLogs.json as InvocationView;
    assert.equal(view.status, 'succeeded');
    assert.deepEqual(view.logs?.map((l) => l.message.trim()).sort(), ['d one', 'd three', 'd two']);
    assert.ok(view.logs.every((l) => l.invocationId === asyncId));
    assert.equal((await api(platform.url, 'GET', `/api/v1/invocations/${asyncId}?logs=maybe`)).status, 400);

    // Lines written after the restart join the old ones.
    assert.equal((await invoke(platform.url, 'chatty/?tag=e')).status, 200);
    await waitFor(async () => (await logsOf(platform!.url, 'chatty')).length === 15, 10_000, 'the lines after the restart');

    const folder = join(dataDir, 'logs', 'chatty');
    await stat(folder);
    assert.equal((await api(platform.url, 'DELETE', '/api/v1/functions/chatty')).status, 204);
    await waitFor(
      () => stat(folder).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ENOENT'),
      10_000,
      'the log folder to be removed',
    );
    await platform.close();
    platform = undefined;
  });
});
