import { z } from 'zod';
import {
  EXEC_PROTOCOLS,
  type ExecProtocol,
  FUNCTION_NAME_PATTERN,
  INVOKE_AUTH_MODES,
  type InvokeAuth,
  LIMITS,
  NETWORK_POLICIES,
  type NetworkPolicy,
  RUNTIMES,
  type RuntimeName,
} from '../api/wire.js';
import { formatDuration, parseDuration } from './duration.js';
import { NimbusError } from './errors.js';
import { SECRET_LIMITS, secretNameProblem } from './secret-rules.js';

// The names and limits the API shows are declared with its wire types; re-exported so the
// platform's code keeps reading them from the spec.
export { EXEC_PROTOCOLS, type ExecProtocol, FUNCTION_NAME_PATTERN, LIMITS, NETWORK_POLICIES, type NetworkPolicy, RUNTIMES, type RuntimeName };
export { formatDuration, parseDuration };

/** Throws INVALID_NAME unless `name` is a valid function name. */
export function assertFunctionName(name: string): void {
  if (!FUNCTION_NAME_PATTERN.test(name)) {
    throw new NimbusError(
      'INVALID_NAME',
      `Invalid function name ${JSON.stringify(name.slice(0, 80))}: use 1-63 lowercase letters, digits or '-', starting with a letter and not ending with '-'.`,
      { details: { field: 'name' } },
    );
  }
}

/** Limits of every instance besides memory: processes and threads, open files, /tmp size (MB). */
export interface InstanceLimits {
  maxProcesses: number;
  maxOpenFiles: number;
  tmpMb: number;
}

/** The platform's instance limits unless `nimbus up` sets others. */
export const DEFAULT_INSTANCE_LIMITS: InstanceLimits = {
  maxProcesses: LIMITS.maxProcesses.default,
  maxOpenFiles: LIMITS.maxOpenFiles.default,
  tmpMb: LIMITS.tmpMb.default,
};

/** A function's instance limits: its own where set, else the platform's. */
export function instanceLimitsOf(spec: Pick<FunctionSpec, 'maxProcesses' | 'maxOpenFiles' | 'tmpMb'>, platform: InstanceLimits): InstanceLimits {
  return {
    maxProcesses: spec.maxProcesses ?? platform.maxProcesses,
    maxOpenFiles: spec.maxOpenFiles ?? platform.maxOpenFiles,
    tmpMb: spec.tmpMb ?? platform.tmpMb,
  };
}

/** Requests one instance serves at once, per runtime, unless set. */
export const DEFAULT_CONCURRENCY: Record<RuntimeName, number> = { node: 64, python: 8, exec: 16 };

function durationField(key: string, range: { min: number; max: number }) {
  return z.union([z.number(), z.string()], { error: `${key} must be a number of seconds or a duration string such as "30s"` }).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms < range.min || ms > range.max) {
      ctx.addIssue({
        code: 'custom',
        message: `${key} must be a duration between ${formatDuration(range.min)} and ${formatDuration(range.max)} (a number of seconds or e.g. "30s", "5m"); got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return Math.round(ms);
  });
}

function intField(key: string, range: { min: number; max: number }, unit = '') {
  return z
    .number({ error: `${key} must be a whole number` })
    .int(`${key} must be a whole number`)
    .min(range.min, `${key} must be at least ${range.min}${unit}`)
    .max(range.max, `${key} must be at most ${range.max}${unit}`);
}

/** An async destination: a function name, or null to remove the one the previous version had. */
function destinationField(key: string) {
  return z
    .string({ error: `${key} must be a function name, or null to remove the destination` })
    .regex(FUNCTION_NAME_PATTERN, `${key} must be a function name: 1-63 lowercase letters, digits or '-', starting with a letter`)
    .nullable();
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A UTF-16 half without its partner: not text, and not representable in an environment. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const secretName = z.string().superRefine((name, ctx) => {
  const problem = secretNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * The body of `PUT /api/v1/functions/{name}`: which uploaded package to run, and how.
 * Unknown fields are refused so typos do not pass silently.
 */
export const functionConfigSchema = z
  .object({
    package: z.string().regex(/^[a-f0-9]{64}$/, 'package must be the sha256 returned by POST /api/v1/packages'),
    runtime: z.enum(RUNTIMES, { error: `runtime must be one of ${RUNTIMES.join(', ')}` }).optional(),
    handler: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\0\\]+$/, 'handler must be a relative path or module.function, without NUL or backslash')
      .optional(),
    command: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[^\0\r\n]+$/, 'command must be one line without NUL')
      .optional(),
    protocol: z.enum(EXEC_PROTOCOLS, { error: `protocol must be one of ${EXEC_PROTOCOLS.join(', ')}` }).optional(),
    env: z
      .record(
        z.string().regex(ENV_KEY, 'env keys must be letters, digits and _, not starting with a digit'),
        z
          .string()
          .refine((v) => !v.includes('\0'), 'env values must not contain NUL')
          .refine((v) => !LONE_SURROGATE.test(v), 'env values must be valid Unicode text'),
      )
      .refine((env) => Object.keys(env).every((k) => !k.startsWith('NIMBUS_')), 'env keys starting with NIMBUS_ are reserved')
      .refine(
        (env) => Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0) <= LIMITS.envBytes,
        `env must total at most ${LIMITS.envBytes} bytes`,
      )
      .optional(),
    secrets: z
      .array(secretName, { error: 'secrets must be a list of secret names' })
      .max(SECRET_LIMITS.perFunction, `a function may use at most ${SECRET_LIMITS.perFunction} secrets`)
      .refine((names) => new Set(names).size === names.length, 'secrets must not name a secret twice')
      .optional(),
    timeout: durationField('timeout', LIMITS.timeoutMs).optional(),
    memory: intField('memory', LIMITS.memoryMb, ' MB').optional(),
    idleTimeout: durationField('idleTimeout', LIMITS.idleTimeoutMs).optional(),
    concurrency: intField('concurrency', LIMITS.concurrency).optional(),
    maxInstances: intField('maxInstances', LIMITS.maxInstances).optional(),
    minInstances: intField('minInstances', LIMITS.minInstances).optional(),
    network: z.enum(NETWORK_POLICIES, { error: `network must be one of ${NETWORK_POLICIES.join(', ')}` }).optional(),
    maxProcesses: intField('maxProcesses', LIMITS.maxProcesses).optional(),
    maxOpenFiles: intField('maxOpenFiles', LIMITS.maxOpenFiles).optional(),
    tmpSize: intField('tmpSize', LIMITS.tmpMb, ' MB').optional(),
    auth: z.enum(INVOKE_AUTH_MODES, { error: `auth must be one of ${INVOKE_AUTH_MODES.join(', ')}` }).optional(),
    asyncConcurrency: intField('asyncConcurrency', LIMITS.asyncConcurrency).optional(),
    maxRetries: intField('maxRetries', LIMITS.maxRetries).optional(),
    retryDelay: durationField('retryDelay', LIMITS.retryDelayMs).optional(),
    maxEventAge: durationField('maxEventAge', LIMITS.maxEventAgeMs).optional(),
    onSuccess: destinationField('onSuccess').optional(),
    onFailure: destinationField('onFailure').optional(),
  })
  .strict()
  .refine((c) => c.minInstances === undefined || c.maxInstances === undefined || c.minInstances <= c.maxInstances, {
    message: 'minInstances must not be larger than maxInstances',
    path: ['minInstances'],
  });

/** Parsed (not yet resolved) function configuration. */
export type FunctionConfig = z.output<typeof functionConfigSchema>;

/**
 * A function's complete, resolved settings: everything needed to run it. Times in milliseconds.
 * Stored per version; never modified after it is stored.
 */
export interface FunctionSpec {
  name: string;
  runtime: RuntimeName;
  /** Resolved handler, e.g. `index.ts` (node entry), `index.handler` or `handler.handler` (python); exec: the command. */
  handler: string;
  /** exec only: how the program serves invocations. */
  protocol?: ExecProtocol;
  env: Record<string, string>;
  /**
   * Names of the secrets exposed to the function as environment variables of the same name (values
   * are resolved when an instance starts). Absent in versions stored before secrets existed.
   */
  secrets?: string[];
  timeoutMs: number;
  memoryMb: number;
  idleTimeoutMs: number;
  /** Requests one instance serves at once. */
  concurrency: number;
  maxInstances: number;
  /** Instances kept running even without traffic (0 allows scale to zero). */
  minInstances: number;
  /** Absent in versions stored before network policies existed: `outbound`. */
  network?: NetworkPolicy;
  /** The function's own instance limits; absent: the platform's (see {@link InstanceLimits}). */
  maxProcesses?: number;
  maxOpenFiles?: number;
  tmpMb?: number;
  /** sha256 of the uploaded package. */
  packageSha256: string;
  /** Who may invoke it; undefined: the platform's default (see defaultInvokeAuth). */
  auth?: InvokeAuth | undefined;
  // Async settings: absent in versions stored before async invocations existed. Read them
  // through asyncPolicyOf (src/core/async-policy.ts), which resolves the defaults.
  /** Set only when the deploy set it, so the default (half the capacity) follows concurrency and maxInstances. */
  asyncConcurrency?: number;
  maxRetries?: number;
  retryDelayMs?: number;
  maxEventAgeMs?: number;
  /** Destination function of succeeded async invocations. */
  onSuccess?: string;
  /** Destination function of failed and dead async invocations. */
  onFailure?: string;
}

/** Validates an API body into a FunctionConfig, or throws INVALID_REQUEST naming the field. */
export function parseFunctionConfig(body: unknown): FunctionConfig {
  // JSON.parse makes `__proto__` an own key, which zod's record drops without a word.
  const env = (body as { env?: unknown } | null)?.env;
  if (typeof env === 'object' && env !== null && Object.hasOwn(env, '__proto__')) {
    throw new NimbusError('INVALID_REQUEST', 'env.__proto__: env key __proto__ is not allowed', { details: { field: 'env.__proto__' } });
  }
  const result = functionConfigSchema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // An issue without a path is about the body as a whole (e.g. an array instead of an object).
  const field = issue?.path.join('.') || 'body';
  const message =
    issue?.code === 'unrecognized_keys'
      ? `Unknown field(s): ${issue.keys.join(', ')}. Allowed: ${Object.keys(functionConfigSchema.shape).join(', ')}.`
      : `${field ? `${field}: ` : ''}${issue?.message ?? 'invalid request'}`;
  throw new NimbusError('INVALID_REQUEST', message, {
    details: { field: issue?.code === 'unrecognized_keys' ? issue.keys[0] : field },
  });
}
