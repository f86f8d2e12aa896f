/**
 * At-least-once across a SIGKILL, for the amqp and redis sources: a source runs in a child process
 * (fixtures/source-crash-child.ts) whose sink "stores" an event by writing it to the pipe before letting
 * the source acknowledge it. Messages keep arriving; the child is killed mid-stream; a new child
 * with the same trigger starts. Every message published is stored at least once (none lost);
 * repeats are allowed (stored, then killed before the acknowledgement) and are what the platform's
 * sink drops by event id.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../integration/harness.js';
import { RabbitClient, rabbitUnavailable } from './amqp-broker.js';
import { redisClient, redisUnavailable } from './redis-server.js';

const CHILD = fileURLToPath(new URL('./fixtures/source-crash-child.js', import.meta.url));
const TOTAL = 300;

/** A source child and the payloads it reported stored. */
class SourceChild {
  readonly stored: string[] = [];
  active = false;
  /** Between `storing` and `stored`: a batch was received and is not stored yet. */
  storing = false;
  private readonly child: ChildProcess;
  private readonly ended: Promise<void>;
  readonly exited: Promise<NodeJS.Signals | null>;

  constructor(kind: string, trigger: string, settings: unknown) {
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
    else if (line === 'storing') this.storing = true;
    else if (line.startsWith('stored ')) {
      this.storing = false;
      this.stored.push(...line.slice('stored '.length).split(','));
    }
  }

  /** SIGKILL, then the lines already in the pipe. */
  async kill(): Promise<NodeJS.Signals | null> {
    this.child.kill('SIGKILL');
    await this.ended;
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** Publishes TOTAL messages while a source is killed and replaced; asserts none was lost. */
async function killMidStream(kind: string, settings: unknown, publish: (payload: string) => Promise<void>): Promise<void> {
  const trigger = `t-${randomUUID().slice(0, 8)}`;
  const children: SourceChild[] = [];
  try {
    const first = new SourceChild(kind, trigger, settings);
    children.push(first);
    await waitFor(() => first.active, 20_000, 'the first source to consume');
    // In rounds of 20 at once: fast enough that the source always has something to store.
    const published = (async () => {
      for (let i = 0; i < TOTAL; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => publish(`m${i + j}`)));
    })();
    // Killed while it stores a batch: received and not yet stored, so not yet acknowledged.
    await waitFor(() => first.stored.length >= 60 && first.storing, 20_000, 'the first source to store 60 messages and be storing more');
    assert.equal(await first.kill(), 'SIGKILL');
    assert.ok(first.stored.length < TOTAL, 'killed mid-stream');

    const second = new SourceChild(kind, trigger, settings);
    children.push(second);
    await published;
    const stored = () => new Set([...first.stored, ...second.stored]);
    // When some never come, the assertion below names them.
    await waitFor(() => stored().size >= TOTAL, 30_000, `all ${TOTAL} messages stored`).catch(() => undefined);
    const missing = Array.from({ length: TOTAL }, (_, i) => `m${i}`).filter((payload) => !stored().has(payload));
    assert.deepEqual(missing, [], 'no message lost');
  } finally {
    for (const child of children) await child.stop();
  }
}

const amqpProblem = await rabbitUnavailable();
const redisProblem = await redisUnavailable();
const skipUnless = (problem: string | undefined) => (problem !== undefined && process.env.CI !== 'true' ? problem : false);

describe('broker sources killed with SIGKILL lose nothing', () => {
  const rabbit = new RabbitClient();
  const redis = redisClient();
  after(async () => {
    await rabbit.close();
    redis.disconnect();
  });

  test('amqp: a queue', { skip: skipUnless(amqpProblem) }, async () => {
    const queue = `nimbus-test-${randomUUID().slice(0, 8)}`;
    // Declared first: the default exchange drops what it cannot route.
    await rabbit.admin((channel) => channel.assertQueue(queue, { durable: true }));
    try {
      await killMidStream('amqp', { queue }, (payload) => rabbit.sendToQueue(queue, Buffer.from(payload), { messageId: payload }));
    } finally {
      await rabbit.admin((channel) => channel.deleteQueue(queue)).catch(() => undefined);
    }
  });

  test('redis: a stream with a consumer group', { skip: skipUnless(redisProblem) }, async () => {
    const stream = `nimbus-test-${randomUUID().slice(0, 8)}`;
    const group = 'crash-test';
    // Made first: a group the source makes starts at `$`, after what was added before it.
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    try {
      await killMidStream('redis', { stream, group }, async (payload) => void (await redis.xadd(stream, '*', 'data', payload)));
    } finally {
      await redis.del(stream);
    }
  });
});
