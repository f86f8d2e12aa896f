import { z } from 'zod';
import { NimbusError } from '../core/errors.js';
import { FUNCTION_NAME_PATTERN } from '../core/spec.js';
import type { TriggerDesiredState } from '../store/trigger-types.js';

/** A trigger's body as the API takes it on create and replace. */
export interface TriggerInput {
  function: string;
  type: string;
  settings: unknown;
  state?: TriggerDesiredState | undefined;
}

/** What `PATCH` may change: each field given replaces the stored one (settings as a whole). */
export type TriggerPatch = Partial<TriggerInput>;

const fields = {
  function: z.string().regex(FUNCTION_NAME_PATTERN, 'must be the name of a deployed function'),
  type: z.string().min(1).max(40),
  settings: z.record(z.string(), z.unknown()),
  state: z.enum(['active', 'paused']).optional(),
};

const inputSchema = z.strictObject({ ...fields, settings: fields.settings.default({}) });
const patchSchema = z.strictObject({ function: fields.function.optional(), type: fields.type.optional(), settings: fields.settings.optional(), state: fields.state });

/** @throws NimbusError INVALID_TRIGGER unless `name` is a DNS label. */
export function assertTriggerName(name: string): void {
  if (!FUNCTION_NAME_PATTERN.test(name)) {
    throw new NimbusError('INVALID_TRIGGER', `Invalid trigger name ${JSON.stringify(name.slice(0, 80))}: use 1-63 lowercase letters, digits or '-', starting with a letter and not ending with '-'.`, {
      details: { field: 'name' },
    });
  }
}

/** Validates a create or replace body. @throws NimbusError INVALID_TRIGGER naming the field. */
export function parseTriggerInput(body: unknown): TriggerInput {
  return parseWith(inputSchema, body, Object.keys(inputSchema.shape));
}

/** Validates a PATCH body. @throws NimbusError INVALID_TRIGGER naming the field. */
export function parseTriggerPatch(body: unknown): TriggerPatch {
  return parseWith(patchSchema, body, Object.keys(patchSchema.shape));
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown, allowed: string[]): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw invalidTrigger(result.error.issues[0], allowed);
}

/** INVALID_TRIGGER for the first issue zod found, under `prefix` (e.g. `settings`). */
export function invalidTrigger(issue: z.core.$ZodIssue | undefined, allowed: string[] | undefined, prefix?: string): NimbusError {
  const path = [...(prefix ? [prefix] : []), ...(issue?.path.map(String) ?? [])].join('.');
  const field = path || 'body';
  if (issue?.code === 'unrecognized_keys') {
    const names = issue.keys.map((key) => (prefix ? `${prefix}.${key}` : key));
    return new NimbusError('INVALID_TRIGGER', `Unknown field(s): ${names.join(', ')}.${allowed ? ` Allowed: ${allowed.join(', ')}.` : ''}`, { details: { field: names[0] } });
  }
  return new NimbusError('INVALID_TRIGGER', `${field}: ${issue?.message ?? 'invalid'}`, { details: { field } });
}
