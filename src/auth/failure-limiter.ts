import type { Clock } from '../core/clock.js';

/** Settings of a {@link FailureLimiter}. */
export interface FailureLimiterOptions {
  /** Failures a client may make in a burst before it is limited. @default 10 */
  burst?: number;
  /** Once limited, one more failure is allowed per this many milliseconds. @default 6000 */
  refillMs?: number;
  /** Clients tracked at most; the least recently failing are forgotten first. @default 10000 */
  maxClients?: number;
}

interface Bucket {
  /** Failures still allowed right now (fractional while refilling). */
  allowance: number;
  /** When `allowance` was last brought up to date (epoch ms). */
  at: number;
}

/**
 * Counts failed authentication attempts per client address, as a token bucket: a burst of
 * failures is allowed (a mistyped token, a script with an old one), then one per `refillMs`.
 * Only failures are counted and asked about, so a client presenting a correct token is never
 * slowed, even from an address that is limited (several users share one address behind NAT or on
 * loopback). Written here rather than taken from a rate-limit library because time comes from
 * the platform's Clock (tests step it) and the state is a few numbers per address.
 */
export class FailureLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly maxClients: number;

  constructor(
    private readonly clock: Clock,
    options: FailureLimiterOptions = {},
  ) {
    this.burst = options.burst ?? 10;
    this.refillMs = options.refillMs ?? 6000;
    this.maxClients = options.maxClients ?? 10_000;
  }

  /**
   * Records one failed attempt of `client`. Answers 0 when it was within the allowance, else the
   * seconds after which the client may fail again (for `Retry-After`).
   */
  fail(client: string): number {
    const now = this.clock.now();
    const bucket = this.refreshed(client, now);
    // Re-inserted so the Map's order is least recently failing first.
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    if (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.allowance >= 1) {
      bucket.allowance -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.allowance) * this.refillMs) / 1000));
  }

  /** True when `client` has no failure left to make right now (nothing is recorded). */
  limited(client: string): boolean {
    const bucket = this.buckets.get(client);
    return bucket !== undefined && this.refreshed(client, this.clock.now()).allowance < 1;
  }

  /** Addresses tracked (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private refreshed(client: string, now: number): Bucket {
    const bucket = this.buckets.get(client);
    if (!bucket) return { allowance: this.burst, at: now };
    const refilled = Math.max(0, now - bucket.at) / this.refillMs;
    return { allowance: Math.min(this.burst, bucket.allowance + refilled), at: now };
  }
}

/** The address failures are counted under: IPv4-mapped IPv6 addresses as their IPv4 form. */
export function clientAddress(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  return remoteAddress.toLowerCase().startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
}
