import assert from 'node:assert/strict';
import { test } from 'node:test';
import { followChanges } from '../../src/control/followers.js';
import { InProcessChangeFeed } from '../../src/control/in-process-feed.js';
import type { FunctionRecord } from '../../src/store/types.js';
import { SAMPLE_EVENTS } from './change-feed-contract.js';

/** Parts that write down what they are told. */
function recordingParts(calls: string[], remove: () => Promise<void> = async () => {}) {
  return {
    functions: { set: (r: FunctionRecord) => void calls.push(`cache.set ${r.spec.name}@${r.version}`), delete: (n: string) => void calls.push(`cache.delete ${n}`) },
    invokeKeys: { forget: (n: string) => void calls.push(`keys.forget ${n}`) },
    logs: { drop: (n: string) => void calls.push(`logs.drop ${n}`) },
    instances: {
      configure: (r: FunctionRecord) => void calls.push(`instances.configure ${r.spec.name}@${r.version}`),
      remove: async (n: string) => {
        calls.push(`instances.remove ${n}`);
        await remove();
        calls.push(`instances.removed ${n}`);
      },
      recycle: (n: string) => void calls.push(`instances.recycle ${n}`),
    },
    asyncWork: {
      functionDeployed: (n: string) => void calls.push(`async.deployed ${n}`),
      removeFunction: async (n: string) => void calls.push(`async.remove ${n}`),
    },
  };
}

test('each change reaches the parts that keep something about it, caches before instances and async work', async () => {
  const feed = new InProcessChangeFeed();
  const calls: string[] = [];
  followChanges(feed, recordingParts(calls));
  for (const event of SAMPLE_EVENTS) await feed.publish(event);
  assert.deepEqual(calls, [
    'cache.set hello@3',
    'instances.configure hello@3',
    'async.deployed hello',
    'cache.delete hello',
    'keys.forget hello',
    'logs.drop hello',
    'async.remove hello',
    'instances.remove hello',
    'instances.removed hello',
    'instances.recycle a',
    'instances.recycle hello',
    'keys.forget hello',
  ]);
});

test('publishing a removal settles once the instances have drained', async () => {
  const feed = new InProcessChangeFeed();
  const calls: string[] = [];
  let drain!: () => void;
  followChanges(feed, recordingParts(calls, () => new Promise<void>((resolve) => (drain = resolve))));
  let settled = false;
  const published = feed.publish({ type: 'function.removed', name: 'x' }).then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false);
  assert.deepEqual(calls, ['cache.delete x', 'keys.forget x', 'logs.drop x', 'async.remove x', 'instances.remove x']);
  drain();
  await published;
  assert.equal(calls.at(-1), 'instances.removed x');
});

test('a backend without recycle is fine, and unsubscribing stops every follower', async () => {
  const feed = new InProcessChangeFeed();
  const calls: string[] = [];
  const parts = recordingParts(calls);
  const { recycle: _recycle, ...instances } = parts.instances;
  const stop = followChanges(feed, { ...parts, instances });
  await feed.publish({ type: 'secret.changed', name: 'S', functions: ['a'] });
  assert.deepEqual(calls, []);
  stop();
  for (const event of SAMPLE_EVENTS) await feed.publish(event);
  assert.deepEqual(calls, []);
});
