import { NimbusError } from '../core/errors.js';
import type { ConcurrencyWindow } from './concurrency-window.js';

/**
 * How one function scales. Build it with {@link scalingSettings} so the tunables are defaulted,
 * validated and frozen once; {@link decide} trusts it and never re-checks in the hot loop.
 */
export interface ScalingSettings {
  /** Requests one instance serves at once. */
  concurrency: number;
  /** Never scale below this; 0 allows scale to zero. */
  minInstances: number;
  /** Never scale above this. */
  maxInstances: number;
  /** Scale to zero only after this long with no request at all (in flight or queued). */
  idleTimeoutMs: number;
  /** Fraction of `concurrency` to aim for, leaving headroom for bursts. @default 0.7 */
  targetUtilization: number;
  /** Window whose average demand drives normal scaling. @default 60_000 */
  stableWindowMs: number;
  /** Short window that detects bursts. @default 6_000 */
  panicWindowMs: number;
  /** Panic when panic-window demand needs this many times the current instances. @default 2 */
  panicThreshold: number;
  /** At most `current / maxScaleDownRate` instances are removed per decision. @default 2 */
  maxScaleDownRate: number;
}

type Tunable = 'targetUtilization' | 'stableWindowMs' | 'panicWindowMs' | 'panicThreshold' | 'maxScaleDownRate';

/** Defaults of the tunables, after Knative's KPA (60 s stable, 6 s panic, threshold 2x). */
export const SCALING_DEFAULTS: Readonly<Pick<ScalingSettings, Tunable>> = Object.freeze({
  targetUtilization: 0.7,
  stableWindowMs: 60_000,
  panicWindowMs: 6_000,
  panicThreshold: 2,
  maxScaleDownRate: 2,
});

/**
 * What the autoscaler remembers between decisions; {@link decide} returns the next one.
 * `lastActiveAt` is the last time demand was seen above zero; when instances are running but no
 * demand was ever seen (e.g. after a restart), it starts at that decision, so they get a full idle
 * timeout before being removed.
 */
export interface ScalingState { panicUntil: number | undefined; lastDesired: number; lastActiveAt: number | undefined }

/** The state of a function nobody has scaled yet. */
export const INITIAL_SCALING_STATE: ScalingState = Object.freeze({ panicUntil: undefined, lastDesired: 0, lastActiveAt: undefined });

/** One decision: the instance count to aim for, whether in panic mode, the next state, and why. */
export interface ScalingDecision { desired: number; panic: boolean; state: ScalingState; reason: string }

/** Allowed ranges; the panic window is further limited to the stable window below. */
const RANGES: Record<keyof ScalingSettings, { min: number; max: number; above?: true }> = {
  concurrency: { min: 1, max: Infinity },
  minInstances: { min: 0, max: Infinity },
  maxInstances: { min: 1, max: Infinity },
  idleTimeoutMs: { min: 0, max: Infinity },
  targetUtilization: { min: 0, max: 1, above: true },
  stableWindowMs: { min: 1_000, max: 3_600_000 },
  panicWindowMs: { min: 1, max: 3_600_000 },
  panicThreshold: { min: 1, max: Infinity, above: true },
  // A rate of 1 would forbid scaling down at all.
  maxScaleDownRate: { min: 1, max: Infinity, above: true },
};

/**
 * Compiles settings once: fills the tunables from {@link SCALING_DEFAULTS}, validates every key
 * and freezes the result.
 * @throws NimbusError INVALID_REQUEST naming the key, its value and the allowed range.
 */
export function scalingSettings(
  input: Pick<ScalingSettings, 'concurrency' | 'minInstances' | 'maxInstances' | 'idleTimeoutMs'> & Partial<ScalingSettings>,
): Readonly<ScalingSettings> {
  const s: ScalingSettings = { ...SCALING_DEFAULTS, ...input };
  const check = (key: keyof ScalingSettings, min: number, max: number, above = false): void => {
    const v = s[key];
    if (Number.isFinite(v) && (above ? v > min : v >= min) && v <= max) return;
    const range = `${above ? 'above' : 'at least'} ${min}${max === Infinity ? '' : ` and at most ${max}`}`;
    throw new NimbusError('INVALID_REQUEST', `${key} is ${v}; it must be ${range}`, { details: { key, value: v, min, max } });
  };
  for (const [key, r] of Object.entries(RANGES)) check(key as keyof ScalingSettings, r.min, r.max, r.above);
  check('minInstances', 0, s.maxInstances);
  check('panicWindowMs', 1, s.stableWindowMs);
  return Object.freeze(s);
}

/**
 * The scaling decision, in the manner of Knative's KPA: a pure function of the settings, the
 * observed concurrency and `now`. It never throws; missing data keeps the current count.
 * @param input.current instances of the function that are ready or starting.
 */
export function decide(input: {
  settings: ScalingSettings;
  window: ConcurrencyWindow;
  current: number;
  state: ScalingState;
  now: number;
}): ScalingDecision {
  const { settings: s, window, current, state, now } = input;
  // The state remembers activity the window may have pruned; the window knows the newest.
  const lastActiveAt = latest(state.lastActiveAt, window.lastNonZeroAt()) ?? (current > 0 ? now : undefined);
  const panicUntil = state.panicUntil !== undefined && now < state.panicUntil ? state.panicUntil : undefined;

  const stableAvg = window.average(s.stableWindowMs, now);
  const panicAvg = window.average(s.panicWindowMs, now);
  if (stableAvg === undefined || panicAvg === undefined) {
    // No samples lately (sampler stalled or just started): acting on nothing could kill live
    // instances, so hold still, like KPA's "invalid result".
    const desired = clamp(current, s);
    const reason = `no metrics in last ${duration(s.panicWindowMs)}: keep ${desired}`;
    return { desired, panic: panicUntil !== undefined, state: { panicUntil, lastDesired: desired, lastActiveAt }, reason };
  }

  const idleFor = lastActiveAt === undefined ? undefined : now - lastActiveAt;
  if (s.minInstances === 0 && (idleFor === undefined || idleFor >= s.idleTimeoutMs)) {
    // Nothing in flight or queued for the whole idle timeout: no average can argue for keeping
    // an instance, so this wins over panic and over the scale-down rate.
    const reason = idleFor === undefined ? 'idle' : `idle ${duration(idleFor)}: scale to zero`;
    return { desired: 0, panic: false, state: { panicUntil: undefined, lastDesired: 0, lastActiveAt }, reason };
  }

  const perInstance = s.concurrency * s.targetUtilization;
  const desiredStable = instancesFor(stableAvg, perInstance);
  const desiredPanic = instancesFor(panicAvg, perInstance);
  // From zero any demand is a burst: there is no capacity to compare it with.
  const burst = current > 0 ? desiredPanic / current >= s.panicThreshold : panicAvg > 0;
  const until = burst ? now + s.stableWindowMs : panicUntil;

  let desired: number;
  let reason: string;
  if (until !== undefined) {
    // Scale up fast, never down, until a whole stable window passes without a new burst; the
    // stable average then has caught up with the new load.
    desired = Math.max(desiredPanic, state.lastDesired);
    reason = `panic: ${round(panicAvg)} in flight over ${duration(s.panicWindowMs)}`;
  } else {
    desired = desiredStable;
    reason = `stable: ${round(stableAvg)} in flight over ${duration(s.stableWindowMs)}`;
    const floor = Math.floor(current / s.maxScaleDownRate);
    if (desired < floor) {
      desired = floor;
      reason += `, scale down limited to ${floor}`;
    }
    if (desired === 0 && s.minInstances === 0) {
      // Not idle long enough yet (checked above): keep one warm so the next request is not cold.
      desired = 1;
      reason += `, idle ${duration(idleFor ?? 0)} of ${duration(s.idleTimeoutMs)} before scale to zero`;
    }
  }

  const clamped = clamp(desired, s);
  if (clamped < desired) reason += `, capped at max ${clamped}`;
  if (clamped > desired) reason += `, held at min ${clamped}`;
  return { desired: clamped, panic: until !== undefined, state: { panicUntil: until, lastDesired: clamped, lastActiveAt }, reason };
}

/** Instances needed for `demand`; the epsilon keeps float noise (7 / 7.000000001) from adding one. */
function instancesFor(demand: number, perInstance: number): number {
  return Math.max(0, Math.ceil(demand / perInstance - 1e-9));
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

function clamp(n: number, s: ScalingSettings): number {
  return Math.min(s.maxInstances, Math.max(s.minInstances, n));
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Short human duration for reasons: 250ms, 6s, 5m, 1m30s, 2h. */
function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const secs = Math.round(ms / 1_000);
  if (secs < 60) return `${secs}s`;
  const mins = Math.floor(secs / 60);
  const rest = secs % 60;
  if (rest !== 0) return `${mins}m${rest}s`;
  return mins % 60 === 0 ? `${mins / 60}h` : `${mins}m`;
}
