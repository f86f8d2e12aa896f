import type { Logger } from 'pino';
import { z } from 'zod';
import { INVOKE_AUTH_MODES, RUNTIMES } from '../api/wire.js';
import { callbackHostProblem } from '../async/callback-hosts.js';
import type { Clock } from '../core/clock.js';
import type { RuntimeAdapter } from '../runtime-adapters/types.js';
import { SANDBOX_MODES } from '../sandbox/modes.js';
import { BACKENDS, type Range, SERVER_OPTION_RANGES as RANGES } from './server-defaults.js';

/** A server option with a value it cannot have: names the key, the value and what is allowed. */
export class ServerOptionsError extends Error {
  /** The option, dotted for nested ones (e.g. `instanceLimits.tmpMb`). */
  readonly key: string;
  readonly value: unknown;

  constructor(key: string, value: unknown, message: string) {
    super(message);
    this.name = 'ServerOptionsError';
    this.key = key;
    this.value = value;
  }
}

// Each check's message is what the value must be; validateServerOptions prefixes key and value.

function whole(range: Range) {
  const must = range.max === Infinity ? `a whole number of at least ${range.min}` : `a whole number from ${range.min} to ${range.max}`;
  const n = z.number({ error: must }).int(must).min(range.min, must);
  return (range.max === Infinity ? n : n.max(range.max, must)).optional();
}

/** Milliseconds: fractions allowed (`--max-queue-wait 1.1s` is 1100.0000000000002). */
function millis(range: Range) {
  const must = `a number of milliseconds from ${range.min} to ${range.max}`;
  return z.number({ error: must }).min(range.min, must).max(range.max, must).optional();
}

/** A price: any finite number >= 0, in the user's currency. */
const price = z.number({ error: 'a number >= 0' }).min(0, 'a number >= 0').finite('a number >= 0').optional();

const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `one of ${values.join(', ')}` }).optional();
const text = z.string({ error: 'a string' }).optional();
const flag = z.boolean({ error: 'true or false' }).optional();

/** Objects the platform does not own are checked for the methods it calls, nothing more. */
const withMethods = <T>(what: string, methods: string[]) =>
  z
    .custom<T>((v) => typeof v === 'object' && v !== null && methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'), {
      error: `${what} (with ${methods.join(', ')})`,
    })
    .optional();

/** Each pattern checked on its own, so the message names the one that is wrong (`callbackHosts.1`). */
const hostPatterns = z
  .array(
    z.string({ error: 'a host pattern (a string)' }).superRefine((pattern, ctx) => {
      const problem = callbackHostProblem(pattern);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    { error: 'a list of host patterns' },
  )
  .optional();

/** An http(s) URL, e.g. the OTLP endpoint. */
const httpUrl = z
  .string({ error: 'an http(s) URL' })
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'an http(s) URL, e.g. http://127.0.0.1:4318')
  .optional();

const adapter = withMethods<RuntimeAdapter>('a runtime adapter', ['command', 'runtimePaths', 'withShimDir']);

const schema = z
  .object({
    host: text,
    port: whole(RANGES.port),
    dataDir: text,
    maxBodyBytes: whole(RANGES.maxBodyBytes),
    packageLimits: z
      .object(
        { maxCompressedBytes: whole(RANGES.packageLimit), maxUnpackedBytes: whole(RANGES.packageLimit), maxEntries: whole(RANGES.packageLimit) },
        { error: 'an object of package limits' },
      )
      .strict()
      .optional(),
    scaleIntervalMs: millis(RANGES.scaleIntervalMs),
    maxQueue: whole(RANGES.maxQueue),
    maxQueueWaitMs: millis(RANGES.maxQueueWaitMs),
    warmPoolSize: whole(RANGES.warmPoolSize),
    sandbox: oneOf(SANDBOX_MODES),
    instanceLimits: z
      .object({ maxProcesses: whole(RANGES.maxProcesses), maxOpenFiles: whole(RANGES.maxOpenFiles), tmpMb: whole(RANGES.tmpMb) }, { error: 'an object of instance limits' })
      .strict()
      .optional(),
    startTimeoutMs: millis(RANGES.startTimeoutMs),
    stopGraceMs: millis(RANGES.stopGraceMs),
    defaultAuth: oneOf(INVOKE_AUTH_MODES),
    domain: text,
    allowHostNetwork: flag,
    runtimes: z
      .object(Object.fromEntries(RUNTIMES.map((name) => [name, adapter])) as Record<(typeof RUNTIMES)[number], typeof adapter>, {
        error: 'an object of runtime adapters by runtime name',
      })
      .strict()
      .optional(),
    exposeErrors: flag,
    metricsPublic: flag,
    retainMs: millis(RANGES.retainMs),
    maxEndedInvocations: whole(RANGES.maxEndedInvocations),
    records: flag,
    metrics: flag,
    maxRecords: whole(RANGES.maxRecords),
    pricePerMillionRequests: price,
    pricePerGbSecond: price,
    callbackHosts: hostPatterns,
    asyncWorkers: whole(RANGES.asyncWorkers),
    triggerBacklog: whole(RANGES.triggerBacklog),
    ingressKeyFile: text,
    otlpEndpoint: httpUrl,
    serviceName: z.string({ error: 'a non-empty string' }).min(1, 'a non-empty string').optional(),
    logRetentionBytes: whole(RANGES.logRetentionBytes),
    backend: oneOf(BACKENDS),
    kubernetes: z
      .object(
        {
          namespace: text,
          kubeconfig: text,
          images: z.object({ node: text, python: text }, { error: 'an object of images by runtime (node, python)' }).strict().optional(),
          packageHost: text,
          packagePort: whole(RANGES.port),
          packageUrl: z.url({ error: 'an http(s) URL pods reach the control plane at' }).optional(),
          runtimeClassName: text,
        },
        { error: 'an object of Kubernetes settings' },
      )
      .strict()
      .optional(),
    clock: withMethods<Clock>('a Clock', ['now', 'monotonic', 'every', 'after']),
    logger: withMethods<Logger>('a pino Logger', ['info', 'warn', 'error', 'child']),
  })
  .strict();

/**
 * Checks raw server options; answers them as given (still without defaults).
 * @throws ServerOptionsError for the first key with a value it cannot have, or an unknown key.
 */
export function validateServerOptions(raw: z.input<typeof schema>): z.output<typeof schema> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = (issue?.path ?? []).map(String);
  if (issue?.code === 'unrecognized_keys') {
    const key = [...path, issue.keys[0] ?? ''].join('.');
    return fail(key, valueAt(raw, [...path, issue.keys[0] ?? '']), `${key} is not a server option; the options${path.length > 0 ? ` of ${path.join('.')}` : ''} are ${knownKeys(path).join(', ')}`);
  }
  const key = path.join('.') || 'options';
  const value = path.length > 0 ? valueAt(raw, path) : raw;
  return fail(key, value, `${key} is ${shown(value)}; it must be ${issue?.message ?? 'valid'}`);
}

function fail(key: string, value: unknown, message: string): never {
  throw new ServerOptionsError(key, value, message);
}

function valueAt(raw: unknown, path: string[]): unknown {
  return path.reduce<unknown>((at, key) => (typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined), raw);
}

/** The keys the schema knows at `path` (the top level, or one nested object). */
function knownKeys(path: string[]): string[] {
  let at: z.ZodType = schema;
  for (const key of path) {
    const inner: z.ZodType | undefined = at instanceof z.ZodObject ? (at.shape as Record<string, z.ZodType>)[key] : undefined;
    if (!inner) return [];
    at = inner instanceof z.ZodOptional ? (inner.unwrap() as z.ZodType) : inner;
  }
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}

/** A value for a message: short, and never a whole object dumped. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === undefined || value === null) return String(value);
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : 'an object';
}
