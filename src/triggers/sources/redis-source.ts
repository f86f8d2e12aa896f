/**
 * A running redis trigger: XREADGROUP on one stream with a consumer group, as a consumer whose
 * name stays the same across restarts. Each (re)connection starts with this consumer's pending
 * entries (read from id 0: entries it read and did not acknowledge before a stop or a crash), then
 * reads new ones (`>`) with BLOCK. Entries other consumers of the group left pending longer than
 * `claimIdleMs` are taken over with XAUTOCLAIM (at start and then every `claimIdleMs`). An entry is
 * acknowledged (XACK) only after `deliver` resolved; a refused batch stays pending and is read
 * again after a growing delay, so order is kept.
 *
 * ioredis reconnects with back-off by itself; commands fail at once while it is disconnected
 * (no offline queue), the loop reports `failing` and waits for the connection to be ready again.
 */
import { Redis } from 'ioredis';
import type { SourceContext, TriggerSource } from '../types.js';
import { type BrokerAddress, brokerAddress } from './broker-settings.js';
import { type StreamEntry, redisEvent } from './redis-event.js';
import { backoffDelay, reasonOf, SOURCE_TIMINGS, type SourceTimings } from './source-support.js';
import { REDIS_DEFAULT_PORT, REDIS_SCHEMES, type RedisSettings, redisTriggerConsumer, redisTriggerGroup } from './redis-settings.js';

/** Tunables of a redis source (the kind uses the defaults; tests shorten the waits). */
export interface RedisSourceOptions extends SourceTimings {
  /** Most entries read at once (XREADGROUP COUNT); also the largest batch handed to the sink. @default 32 */
  batchSize?: number;
  /** How long one read waits for new entries (XREADGROUP BLOCK). @default 5000 */
  blockMs?: number;
  /** How long an entry another consumer holds must be idle before this one takes it over. @default 60000 */
  claimIdleMs?: number;
}

type StreamReply = Array<[Buffer, Array<[Buffer, Buffer[] | null]>]> | null;

export class RedisSource implements TriggerSource {
  private readonly options: Required<RedisSourceOptions>;
  private redis: Redis | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** Resolves when `stop` is called: waits for room end there (stop need not wait out a full backlog). */
  private readonly stopped: Promise<void>;
  private signalStop!: () => void;
  private reading = false;
  private wakers = new Set<() => void>();
  private failuresInARow = 0;
  private address = '';
  private source = '';
  private readonly group: string;
  private readonly consumer: string;

  constructor(
    private readonly context: SourceContext<RedisSettings>,
    options: RedisSourceOptions = {},
  ) {
    this.options = { batchSize: 32, blockMs: 5000, claimIdleMs: 60_000, ...SOURCE_TIMINGS, ...options };
    this.stopped = new Promise((resolve) => (this.signalStop = resolve));
    this.group = context.settings.group ?? redisTriggerGroup(context.trigger);
    this.consumer = redisTriggerConsumer(context.trigger);
  }

  async start(): Promise<void> {
    const { settings, secrets, status, trigger, logger } = this.context;
    let address: BrokerAddress;
    try {
      address = brokerAddress(settings, secrets, REDIS_SCHEMES, REDIS_DEFAULT_PORT);
    } catch (error) {
      // Nothing to retry: the platform restarts the source when the trigger or secret changes.
      status.failing(reasonOf(error));
      return;
    }
    const url = address.url;
    const db = url.pathname.slice(1) || '0';
    this.address = address.display;
    this.source = `${this.address}/${encodeURIComponent(db)}/${encodeURIComponent(settings.stream)}`;
    const { reconnectDelayMs, reconnectMaxDelayMs } = this.options;
    const redis = new Redis(url.href, {
      lazyConnect: true,
      connectionName: `nimbus-trigger-${trigger}`,
      // Fail fast while disconnected: the loop reports failing and waits for 'ready'.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      // A blocked read on a connection that silently died gives up 5 s after its BLOCK time (the
      // grace keeps a busy event loop from taking a late answer for a dead connection).
      blockingTimeout: this.options.blockMs + 5000,
      blockingTimeoutGrace: 5000,
      retryStrategy: (times) => {
        const delay = Math.min(reconnectDelayMs * 2 ** (times - 1), reconnectMaxDelayMs);
        return Math.round(delay * (1 + 0.2 * Math.random()));
      },
    });
    this.redis = redis;
    redis.on('error', (error: Error) => {
      if (redis.status !== 'ready') this.failing(`cannot reach ${this.address}: ${error.message}`);
    });
    redis.on('ready', () => this.wake());
    redis.connect().catch(() => undefined);
    logger.debug({ trigger, broker: this.address, stream: settings.stream }, 'redis trigger starting');
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.signalStop();
    this.wake();
    // A blocked read holds the connection for up to blockMs: drop it (what it read stays pending).
    if (this.reading) this.redis?.disconnect();
    if (this.loop) {
      let cancelGrace = () => {};
      const grace = new Promise<void>((resolve) => (cancelGrace = this.context.clock.after(this.options.stopGraceMs, resolve)));
      await Promise.race([this.loop, grace]);
      cancelGrace();
    }
    this.redis?.disconnect();
  }

  /** Connect, make the group, consume; after an error, wait and start over. */
  private async run(): Promise<void> {
    const redis = this.redis as Redis;
    while (!this.stopping) {
      try {
        while (redis.status !== 'ready' && !this.stopping) await this.sleep(Number.POSITIVE_INFINITY);
        if (this.stopping) return;
        await this.createGroup(redis);
        this.context.status.active();
        await this.consume(redis);
      } catch (error) {
        if (this.stopping) return;
        this.failuresInARow++;
        const message = (error as Error).message;
        this.failing(redis.status === 'ready' ? `reading ${this.context.settings.stream} from ${this.address}: ${message}` : `lost the connection to ${this.address}: ${message}`);
        // While ioredis reconnects the wait ends at 'ready'; a command error waits out its back-off.
        if (redis.status === 'ready') await this.sleep(this.backoff());
      }
    }
  }

  /** Creates the group at `$` (new entries only) with the stream when either is missing. */
  private async createGroup(redis: Redis): Promise<void> {
    try {
      await redis.xgroup('CREATE', this.context.settings.stream, this.group, '$', 'MKSTREAM');
    } catch (error) {
      if (!(error as Error).message.startsWith('BUSYGROUP')) throw error;
    }
  }

  /** Reads and delivers until the source stops; throws on a connection or command error. */
  private async consume(redis: Redis): Promise<void> {
    const { stream } = this.context.settings;
    const { batchSize, blockMs, claimIdleMs } = this.options;
    // Start with this consumer's pending entries; `cursor` pages through them.
    let cursor: string | undefined = '0';
    let nextClaim = 0;
    while (!this.stopping) {
      if (this.context.clock.monotonic() >= nextClaim) {
        nextClaim = this.context.clock.monotonic() + claimIdleMs;
        if (await this.claimStale(redis)) cursor = '0';
      }
      await Promise.race([this.context.sink.whenRoom(), this.stopped]);
      if (this.stopping) return;
      this.reading = true;
      const read =
        cursor === undefined
          ? redis.xreadgroupBuffer('GROUP', this.group, this.consumer, 'COUNT', batchSize, 'BLOCK', Math.min(blockMs, claimIdleMs), 'STREAMS', stream, '>')
          : redis.xreadgroupBuffer('GROUP', this.group, this.consumer, 'COUNT', batchSize, 'STREAMS', stream, cursor);
      const reply = (await read.finally(() => (this.reading = false))) as StreamReply;
      const raw = reply?.[0]?.[1] ?? [];
      if (cursor !== undefined) {
        if (raw.length === 0) {
          cursor = undefined;
          continue;
        }
        cursor = (raw.at(-1) as [Buffer, unknown])[0].toString();
      }
      // A refused batch stays pending: read the pending entries again, from the first.
      if (!(await this.deliver(redis, raw))) cursor = '0';
    }
  }

  /** Hands entries to the sink and acknowledges them; false (after a growing wait) when the sink refused them. */
  private async deliver(redis: Redis, raw: Array<[Buffer, Buffer[] | null]>): Promise<boolean> {
    const { stream } = this.context.settings;
    const entries: StreamEntry[] = [];
    const ids: string[] = [];
    for (const [id, flat] of raw) {
      ids.push(id.toString());
      // A pending entry deleted from the stream (XDEL, trimming) comes back without fields: nothing to send.
      if (flat) entries.push({ id: id.toString(), fields: pairs(flat) });
    }
    await Promise.race([this.context.sink.whenRoom(), this.stopped]);
    if (this.stopping) return true;
    if (entries.length > 0) {
      try {
        await this.context.sink.deliver(entries.map((entry) => redisEvent(entry, stream, this.source)));
      } catch (error) {
        this.failuresInARow++;
        const delay = this.backoff();
        this.context.logger.warn({ trigger: this.context.trigger, err: (error as Error).message, retryInMs: delay }, 'redis trigger: the sink refused a batch; it stays pending');
        await this.sleep(delay);
        return false;
      }
    }
    this.failuresInARow = 0;
    await redis.xack(stream, this.group, ...ids);
    return true;
  }

  /** Takes over entries other consumers left pending; true when it took any. */
  private async claimStale(redis: Redis): Promise<boolean> {
    const { stream } = this.context.settings;
    let start = '0-0';
    let claimed = false;
    do {
      const [next, ids] = (await redis.xautoclaim(stream, this.group, this.consumer, this.options.claimIdleMs, start, 'COUNT', 100, 'JUSTID')) as [string, string[]];
      claimed ||= ids.length > 0;
      start = next;
    } while (start !== '0-0' && !this.stopping);
    return claimed;
  }

  private backoff(): number {
    return backoffDelay(this.failuresInARow, this.options.retryDelayMs, this.options.retryMaxDelayMs);
  }

  /** Waits `ms` (forever when infinite) or until woken: the connection is ready, or the source stops. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = Number.isFinite(ms) ? this.context.clock.after(ms, () => done()) : () => {};
      const done = () => (cancel(), this.wakers.delete(done), resolve());
      this.wakers.add(done);
    });
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }

  private failing(reason: string): void {
    if (this.stopping) return;
    this.context.logger.warn({ trigger: this.context.trigger, reason }, 'redis trigger failing');
    this.context.status.failing(reason);
  }
}

/** `[name, value, name, value, …]` as pairs, names as text. */
function pairs(flat: Buffer[]): Array<[string, Buffer]> {
  const result: Array<[string, Buffer]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push([(flat[i] as Buffer).toString('utf8'), flat[i + 1] as Buffer]);
  return result;
}
