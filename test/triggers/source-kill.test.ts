/**
 * At-least-once across a SIGKILL, for every source kind that acknowledges to its broker (JetStream,
 * MQTT QoS 1, AMQP, Redis Streams): a source runs in a child process (fixtures/source-child.ts)
 * whose sink "stores" an event by writing it to the pipe before letting the source acknowledge it.
 * Messages keep arriving; the child is SIGKILLed while it stores a batch (received, not yet
 * stored: a source that acknowledged before storing loses it here); a new child with the same
 * trigger starts. Every message published is stored at least once (none lost); repeats are
 * allowed (stored, then killed before the acknowledgement) and are what the platform's sink drops
 * by event id, so where a kind's ids are stable a repeat must keep its id.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { waitFor } from '../integration/harness.js';
import { RabbitClient, rabbitUnavailable } from './amqp-broker.js';
import { listening } from './private-broker.js';
import { redisClient, redisUnavailable } from './redis-server.js';

const CHILD = fileURLToPath(new URL('./fixtures/source-child.js', import.meta.url));
const TOTAL = 300;
/** Published in rounds of this many at once, a few milliseconds apart. */
const ROUND = 10;
/** The first child is killed in its first delivery after it stored this many. */
const KILL_AFTER = 30;

interface StoredEvent {
  id: string;
  data: string;
}

/** A broker prepared for one test: the trigger's settings, how to publish, how to clean up. */
interface PreparedBroker {
  settings: Record<string, unknown>;
  publish(payload: string): Promise<void>;
  close(): Promise<void>;
}

interface Case {
  kind: 'nats' | 'mqtt' | 'amqp' | 'redis';
  name: string;
  /** Undefined when the broker answers on loopback; otherwise why not. */
  unavailable(): Promise<string | undefined>;
  /** Prepares the broker for the trigger named `trigger`. */
  prepare(trigger: string): Promise<PreparedBroker>;
  /** Whether a message's id is the same on every delivery. */
  stableIds: boolean;
}

const notListening = async (port: number) => ((await listening(port)) ? undefined : `nothing listens on 127.0.0.1:${port}`);

const cases: Case[] = [
  {
    kind: 'nats',
    name: 'nats: JetStream with a durable consumer',
    unavailable: () => notListening(4222),
    stableIds: true,
    async prepare(trigger) {
      const connection = await connect({ servers: '127.0.0.1:4222' });
      const manager = await jetstreamManager(connection);
      await manager.streams.add({ name: trigger, subjects: [`${trigger}.>`] });
      // A short ack wait, so what the killed source held comes back within the test.
      await manager.consumers.add(trigger, { durable_name: 'killed', ack_policy: AckPolicy.Explicit, ack_wait: nanos(2_000), filter_subject: `${trigger}.events` });
      const js = jetstream(connection);
      return {
        settings: { subject: `${trigger}.events`, stream: trigger, consumer: 'killed' },
        publish: async (payload) => void (await js.publish(`${trigger}.events`, payload)),
        close: async () => {
          await manager.streams.delete(trigger);
          await connection.close();
        },
      };
    },
  },
  {
    kind: 'mqtt',
    name: 'mqtt: QoS 1 in a persistent session',
    unavailable: () => notListening(1883),
    stableIds: false,
    async prepare(trigger) {
      const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: `nimbus-test-pub-${trigger}` });
      return {
        settings: { topic: `nimbus/${trigger}/events`, qos: 1 },
        publish: async (payload) => void (await client.publishAsync(`nimbus/${trigger}/events`, payload, { qos: 1 })),
        close: async () => {
          await client.endAsync();
          // Removes the trigger's persistent session.
          const forget = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: `nimbus-${trigger}`, clean: true, reconnectPeriod: 0 });
          await forget.endAsync();
        },
      };
    },
  },
  {
    kind: 'amqp',
    name: 'amqp: a queue',
    unavailable: rabbitUnavailable,
    stableIds: true,
    async prepare(trigger) {
      const rabbit = new RabbitClient();
      const queue = `nimbus-test-${trigger}`;
      // Declared first: the default exchange drops what it cannot route.
      await rabbit.admin((channel) => channel.assertQueue(queue, { durable: true }));
      return {
        settings: { queue },
        publish: (payload) => rabbit.sendToQueue(queue, Buffer.from(payload), { messageId: payload }),
        close: async () => {
          await rabbit.admin((channel) => channel.deleteQueue(queue)).catch(() => undefined);
          await rabbit.close();
        },
      };
    },
  },
  {
    kind: 'redis',
    name: 'redis: a stream with a consumer group',
    unavailable: () => redisUnavailable(),
    stableIds: true,
    async prepare(trigger) {
      const redis = redisClient();
      const stream = `nimbus-test-${trigger}`;
      // Made first: a group the source makes starts at `$`, after what was added before it.
      await redis.xgroup('CREATE', stream, 'crash-test', '0', 'MKSTREAM');
      return {
        settings: { stream, group: 'crash-test' },
        publish: async (payload) => void (await redis.xadd(stream, '*', 'data', payload)),
        close: async () => {
          await redis.del(stream);
          redis.disconnect();
        },
      };
    },
  },
];

/** A source child and the events it reported stored. */
class SourceChild {
  readonly stored: StoredEvent[] = [];
  active = false;
  private readonly child: ChildProcess;
  private readonly ended: Promise<void>;
  readonly exited: Promise<NodeJS.Signals | null>;

  /** `onStoring` runs, in the same turn, when the child reports that it begins a delivery. */
  constructor(kind: string, trigger: string, settings: unknown, private readonly onStoring: () => void = () => {}) {
    this.child = spawn(process.execPath, ['--enable-source-maps', CHILD, kind, trigger, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (_code, signal) => resolve(signal)));
    let partial = '';
    const stdout = this.child.stdout!;
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.read(line);
    });
    this.ended = new Promise((resolve) => stdout.once('end', () => (this.read(partial), resolve())));
  }

  private read(line: string): void {
    if (line === 'active') this.active = true;
    else if (line === 'storing') this.onStoring();
    else if (line.startsWith('stored ')) this.stored.push(...(JSON.parse(line.slice('stored '.length)) as StoredEvent[]));
  }

  /** SIGKILL (by PID), now: the child's lines already in the pipe are still read. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Waits for the exit and the end of the pipe; the signal that ended the child. */
  async exitSignal(): Promise<NodeJS.Signals | null> {
    await this.ended;
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

describe('broker sources killed with SIGKILL lose nothing they acknowledged', () => {
  for (const c of cases) {
    test(c.name, async (t) => {
      const problem = await c.unavailable();
      if (problem !== undefined) {
        if (process.env.CI === 'true') assert.fail(`${problem} (CI starts it)`);
        t.skip(problem);
        return;
      }
      const trigger = `kill${randomUUID().slice(0, 8)}`;
      const broker = await c.prepare(trigger);
      const children: SourceChild[] = [];
      try {
        let publishedAtKill = -1;
        let published = 0;
        let killed!: () => void;
        const killedNow = new Promise<void>((resolve) => (killed = resolve));
        // Killed as soon as it begins a delivery past KILL_AFTER: the batch is received and not stored.
        const first: SourceChild = new SourceChild(c.kind, trigger, broker.settings, () => {
          if (publishedAtKill >= 0 || first.stored.length < KILL_AFTER) return;
          publishedAtKill = published;
          first.kill();
          killed();
        });
        children.push(first);
        await waitFor(() => first.active, 20_000, 'the first source to consume');
        const publishing = (async () => {
          for (; published < TOTAL; published += ROUND) {
            // The second half waits for the kill, so messages arrive both before and after it.
            if (published === TOTAL / 2) await killedNow;
            await Promise.all(Array.from({ length: ROUND }, (_, j) => broker.publish(`m${published + j}`)));
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        })();
        await waitFor(() => publishedAtKill >= 0, 20_000, `the first source to store ${KILL_AFTER} messages and begin another delivery`);
        assert.equal(await first.exitSignal(), 'SIGKILL');
        assert.ok(first.stored.length < TOTAL, 'killed mid-stream');

        const second = new SourceChild(c.kind, trigger, broker.settings);
        children.push(second);
        await publishing;
        const all = () => [...first.stored, ...second.stored];
        const found = () => new Set(all().map((event) => event.data));
        // When some never come, the assertion below names them.
        await waitFor(() => found().size >= TOTAL, 30_000, `all ${TOTAL} messages stored`).catch(() => undefined);
        t.diagnostic(`${first.stored.length} stored before the kill (${publishedAtKill} published then), ${second.stored.length} by the next source, ${all().length - found().size} repeats`);
        const missing = Array.from({ length: TOTAL }, (_, i) => `m${i}`).filter((payload) => !found().has(payload));
        assert.deepEqual(missing, [], 'no message lost');
        if (c.stableIds) {
          const idOf = new Map<string, string>();
          for (const event of all()) {
            assert.equal(idOf.get(event.data) ?? event.id, event.id, `one id for ${event.data} on every delivery`);
            idOf.set(event.data, event.id);
          }
        }
      } finally {
        for (const child of children) await child.stop();
        await broker.close();
      }
    });
  }
});
