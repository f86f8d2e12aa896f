/**
 * `nimbus trigger …` and `nimbus deploy --cron`, run in-process against a real platform, and the
 * mapping of source flags to a trigger's type and settings.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CliError } from '../../src/cli/context.js';
import { sourceFromFlags } from '../../src/cli/trigger-source-flags.js';
import { api, startPlatform, type TestPlatform } from '../integration/harness.js';
import { removeDir, runInProcess, tempDir, writeTree } from './helpers.js';

let platform: TestPlatform;
let dir: string;

async function run(args: string[]) {
  return runInProcess([...args, '--url', platform.url], { cwd: dir, env: { NIMBUS_TOKEN: platform.token } });
}

describe('trigger source flags', () => {
  it('each kind maps its flags to its settings', () => {
    assert.deepEqual(sourceFromFlags({ cron: '0 3 * * *', timezone: 'Europe/Zurich', data: '{"a":[1]}', catchUp: true }), {
      type: 'cron',
      settings: { schedule: '0 3 * * *', timezone: 'Europe/Zurich', data: { a: [1] }, catchUp: true },
    });
    assert.deepEqual(sourceFromFlags({ nats: 'orders.>', stream: 'ORDERS', consumer: 'c', brokerUrl: 'nats://10.0.0.1:4222' }), {
      type: 'nats',
      settings: { url: 'nats://10.0.0.1:4222', subject: 'orders.>', stream: 'ORDERS', consumer: 'c' },
    });
    assert.deepEqual(sourceFromFlags({ mqtt: 'sensors/+/temp', qos: '0', urlSecret: 'MQTT_URL' }), { type: 'mqtt', settings: { urlSecret: 'MQTT_URL', topic: 'sensors/+/temp', qos: 0 } });
    assert.deepEqual(sourceFromFlags({ amqpExchange: 'events', routingKey: 'order.*' }), { type: 'amqp', settings: { exchange: 'events', routingKey: 'order.*' } });
    assert.deepEqual(sourceFromFlags({ amqpQueue: 'jobs' }), { type: 'amqp', settings: { queue: 'jobs' } });
    assert.deepEqual(sourceFromFlags({ redisStream: 'events', group: 'g' }), { type: 'redis', settings: { stream: 'events', group: 'g' } });
    assert.deepEqual(sourceFromFlags({ watch: '/srv/in', pattern: '*.csv', events: 'created, modified' }), { type: 'file', settings: { path: '/srv/in', pattern: '*.csv', events: ['created', 'modified'] } });
    assert.deepEqual(sourceFromFlags({ eventType: 'com.example.signup', eventSource: 'https://shop' }), { type: 'event', settings: { eventType: 'com.example.signup', eventSource: 'https://shop' } });
  });

  it('combinations that do not fit are refused with a message naming the flags', () => {
    const refused = (flags: Parameters<typeof sourceFromFlags>[0]) => {
      try {
        sourceFromFlags(flags);
      } catch (err) {
        assert.ok(err instanceof CliError);
        assert.equal(err.exitCode, 2);
        return err.message;
      }
      return assert.fail('accepted');
    };
    assert.match(refused({}), /^Say what fires the trigger: one of --cron, --nats/);
    assert.match(refused({ cron: '* * * * *', nats: 'x' }), /one source: choose one of --cron, --nats/);
    assert.match(refused({ cron: '* * * * *', qos: '1' }), /--qos goes with --mqtt, not with --cron/);
    assert.match(refused({ nats: 'x', timezone: 'UTC' }), /--timezone goes with --cron, not with --nats/);
    assert.match(refused({ cron: '* * * * *', brokerUrl: 'x' }), /--broker-url goes with --nats or --mqtt or --amqp-queue or --redis-stream/);
    assert.match(refused({ amqpQueue: 'q', amqpExchange: 'x' }), /one source|not both/);
    assert.match(refused({ cron: '* * * * *', data: '{oops' }), /--data is not JSON/);
    assert.match(refused({ mqtt: 't', qos: '2' }), /--qos is "2"; use 0 or 1/);
  });
});

describe('nimbus trigger', () => {
  before(async () => {
    platform = await startPlatform();
    dir = await tempDir();
    await writeTree(dir, { 'report.js': 'export default () => new Response("ok");\n' });
  });
  after(async () => {
    await platform?.close();
    if (dir) await removeDir(dir);
  });

  it('ls on a fresh platform says how to create one', async () => {
    const r = await run(['trigger', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^No triggers yet\. Create one with: nimbus trigger create/);
  });

  it('deploy --cron creates the cron trigger named after the function, and says so; again updates it', async () => {
    const first = await run(['deploy', 'report.js', '--name', 'report', '--network', 'none', '--cron', '0 3 * * *', '--timezone', 'Europe/Zurich']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Created cron trigger report: "0 3 \* \* \*" \(Europe\/Zurich\)\. See: nimbus trigger get report\n$/);
    const again = await run(['deploy', 'report.js', '--name', 'report', '--cron', '30 3 * * *']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Updated cron trigger report: "30 3 \* \* \*" \(Europe\/Zurich\)/);
    const bad = await run(['deploy', 'report.js', '--name', 'report', '--cron', 'sometimes']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /report was deployed, but its schedule was refused: settings\.schedule: invalid cron expression/);
  });

  it('create, ls (table and JSON), get, pause, resume, rm', async () => {
    const created = await run(['trigger', 'create', 'nightly', '--function', 'report', '--cron', '0 0 * * *', '--data', '{"kind":"nightly"}']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'Created trigger nightly: cron 0 0 * * * → report\n');
    const table = await run(['trigger', 'ls']);
    assert.match(table.stdout, /^NAME\s+FUNCTION\s+TYPE\s+SOURCE\s+STATUS\s+SINCE\n/);
    assert.match(table.stdout, /\nnightly\s+report\s+cron\s+0 0 \* \* \*\s+active\s+/);
    assert.match(table.stdout, /\nreport\s+report\s+cron\s+30 3 \* \* \* \(Europe\/Zurich\)\s+active/);
    const listed = JSON.parse((await run(['trigger', 'ls', '--json'])).stdout) as Array<{ name: string; settings: unknown }>;
    assert.deepEqual(listed.map((t) => t.name), ['nightly', 'report']);
    assert.deepEqual(listed[0]?.settings, { schedule: '0 0 * * *', data: { kind: 'nightly' } });
    assert.match((await run(['trigger', 'get', 'nightly'])).stdout, /Status:?\s+active since/);
    assert.equal(JSON.parse((await run(['trigger', 'get', 'nightly', '--json'])).stdout).function, 'report');
    assert.equal((await run(['trigger', 'pause', 'nightly'])).stdout, 'Paused trigger nightly\n');
    assert.equal(JSON.parse((await run(['trigger', 'get', 'nightly', '--json'])).stdout).status, 'paused');
    assert.equal((await run(['trigger', 'resume', 'nightly'])).stdout, 'Resumed trigger nightly\n');
    assert.equal((await run(['trigger', 'rm', 'nightly'])).stdout, 'Removed trigger nightly\n');
    const gone = await run(['trigger', 'get', 'nightly']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No trigger named "nightly" exists/);
  });

  it('bad input: the platform refuses, nothing is stored, the message says what to do', async () => {
    const unknownFn = await run(['trigger', 'create', 'x', '--function', 'ghost', '--cron', '* * * * *']);
    assert.equal(unknownFn.code, 1);
    assert.match(unknownFn.stderr, /No function named "ghost" is deployed/);
    const badZone = await run(['trigger', 'create', 'x', '--function', 'report', '--cron', '* * * * *', '--timezone', 'Mars/Olympus']);
    assert.match(badZone.stderr, /unknown time zone "Mars\/Olympus"/);
    const mixed = await run(['trigger', 'create', 'x', '--function', 'report', '--cron', '* * * * *', '--qos', '1']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--qos goes with --mqtt/);
    const unreachable = await run(['trigger', 'create', 'x', '--function', 'report', '--amqp-queue', 'jobs', '--broker-url', 'amqp://127.0.0.1:1']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot connect to amqp:\/\/127\.0\.0\.1:1/);
    const badName = await run(['trigger', 'create', 'Bad_Name', '--function', 'report', '--cron', '* * * * *']);
    assert.equal(badName.code, 2);
    assert.equal((await api(platform.url, 'GET', '/api/v1/triggers/x')).status, 404);
  });
});
