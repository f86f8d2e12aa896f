/**
 * Nothing a source acknowledged is lost when its process is killed: a JetStream and an MQTT QoS 1
 * source run in a child process whose sink fsyncs each event before it resolves; the child is
 * SIGKILLed while messages keep arriving, a new source of the same trigger takes over, and every
 * published message is found, in the child's file or at the new source (duplicates allowed: the
 * ones stored but not yet acknowledged; JetStream's keep their id).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { mqttSource } from '../../src/triggers/sources/mqtt.js';
import { natsSource } from '../../src/triggers/sources/nats.js';
import type { TriggerSource } from '../../src/triggers/types.js';
import { listening } from './private-broker.js';
import { MemoryState, RecordingSink, RecordingStatus } from './recording-sink.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'source-child.js');
const MESSAGES = 400;
/** The child is killed once it stored this many. */
const KILL_AFTER = 30;

interface Case {
  kind: 'nats' | 'mqtt';
  name: string;
  port: number;
  /** Prepares the broker; returns the settings, a publish function and a cleanup. */
  prepare(unique: string): Promise<{ settings: Record<string, unknown>; publish(payload: string): Promise<void>; close(): Promise<void> }>;
  /** Whether a message's id is the same on every delivery. */
  stableIds: boolean;
}

const cases: Case[] = [
  {
    kind: 'nats',
    name: 'JetStream',
    port: 4222,
    stableIds: true,
    async prepare(unique) {
      const connection = await connect({ servers: '127.0.0.1:4222' });
      const manager = await jetstreamManager(connection);
      await manager.streams.add({ name: unique, subjects: [`${unique}.>`] });
      // A short ack wait, so what the killed source held comes back within the test.
      await manager.consumers.add(unique, { durable_name: 'killed', ack_policy: AckPolicy.Explicit, ack_wait: nanos(2_000), filter_subject: `${unique}.events` });
      const js = jetstream(connection);
      return {
        settings: { subject: `${unique}.events`, stream: unique, consumer: 'killed' },
        publish: async (payload) => void (await js.publish(`${unique}.events`, payload)),
        close: async () => {
          await manager.streams.delete(unique);
          await connection.close();
        },
      };
    },
  },
  {
    kind: 'mqtt',
    name: 'MQTT QoS 1',
    port: 1883,
    stableIds: false,
    async prepare(unique) {
      const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: `nimbus-test-pub-${unique}` });
      return {
        settings: { topic: `nimbus/${unique}/events`, qos: 1 },
        publish: async (payload) => void (await client.publishAsync(`nimbus/${unique}/events`, payload, { qos: 1 })),
        close: async () => {
          await client.endAsync();
          // Removes the trigger's persistent session.
          const forget = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: `nimbus-${unique}`, clean: true, reconnectPeriod: 0 });
          await forget.endAsync();
        },
      };
    },
  },
];

async function storedLines(file: string): Promise<Array<{ id: string; data: string }>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  // A line cut by the kill was never fsynced, so never acknowledged: it does not count.
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as { id: string; data: string }];
    } catch {
      return [];
    }
  });
}

describe('trigger sources killed with SIGKILL lose nothing they acknowledged', () => {
  for (const c of cases) {
    test(`${c.name}: every message published is stored, before the kill or by the next source`, async (t) => {
      if (!(await listening(c.port))) {
        if (process.env.CI === 'true') assert.fail(`nothing listens on 127.0.0.1:${c.port} (CI starts it)`);
        t.skip(`nothing listens on 127.0.0.1:${c.port}`);
        return;
      }
      const unique = `kill${randomUUID().slice(0, 8)}`;
      const dir = await mkdtemp(join(tmpdir(), 'nimbus-source-kill-'));
      const file = join(dir, 'stored.jsonl');
      const broker = await c.prepare(unique);
      let next: TriggerSource | undefined;
      try {
        const child = spawn(process.execPath, [CHILD, c.kind, JSON.stringify(broker.settings), unique, file], { stdio: ['ignore', 'pipe', 'inherit'] });
        const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
        await new Promise<void>((resolve, reject) => {
          const guard = setTimeout(() => reject(new Error('the child source did not become active in 10 s')), 10_000);
          child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('active') && (clearTimeout(guard), resolve()));
        });

        let published = 0;
        let publishedAtKill = -1;
        const publishing = (async () => {
          for (; published < MESSAGES; published++) {
            await broker.publish(`m${published}`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        })();
        const deadline = Date.now() + 20_000;
        while ((await storedLines(file)).length < KILL_AFTER && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        publishedAtKill = published;
        child.kill('SIGKILL');
        assert.equal(await exited, 'SIGKILL');
        await publishing;
        const beforeKill = await storedLines(file);
        assert.ok(beforeKill.length >= KILL_AFTER && publishedAtKill < MESSAGES, `killed mid-way: ${beforeKill.length} stored, ${publishedAtKill} published at the kill`);

        const sink = new RecordingSink();
        const status = new RecordingStatus();
        const context = { trigger: unique, function: 'target', sink, status, state: new MemoryState(), clock: systemClock, logger: pino({ level: 'silent' }), secrets: {} };
        next = c.kind === 'nats' ? natsSource.create!({ ...context, settings: natsSource.settings.parse(broker.settings) }) : mqttSource.create!({ ...context, settings: mqttSource.settings.parse(broker.settings) });
        await next.start();
        const all = () => [...beforeKill, ...sink.events.map((e) => ({ id: e.id, data: e.data.toString() }))];
        const until = Date.now() + 30_000;
        while (new Set(all().map((e) => e.data)).size < MESSAGES && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
        const found = new Set(all().map((e) => e.data));
        t.diagnostic(`${beforeKill.length} stored before the kill (${publishedAtKill} published then), ${sink.events.length} by the next source, ${all().length - found.size} duplicates`);
        const missing = Array.from({ length: MESSAGES }, (_, i) => `m${i}`).filter((m) => !found.has(m));
        assert.deepEqual(missing, [], 'every published message was stored');
        if (c.stableIds) {
          const idOf = new Map<string, string>();
          for (const e of all()) {
            assert.equal(idOf.get(e.data) ?? e.id, e.id, `one id for ${e.data} on every delivery`);
            idOf.set(e.data, e.id);
          }
        }
      } finally {
        await next?.stop();
        await broker.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
