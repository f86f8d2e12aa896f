import { z } from 'zod';
import type { SourceKind } from '../types.js';

/**
 * Settings of an `event` trigger (`nimbus trigger create … --event-type <type>
 * [--event-source <prefix>]`): it takes the CloudEvents posted to `POST /events` whose type is
 * `eventType` and whose source starts with `eventSource`.
 */
export const eventSettingsSchema = z
  .object({
    /** The `type` an event must have, exactly (e.g. `com.example.order.created`). */
    eventType: z.string().min(1).max(512),
    /** A prefix of the `source` an event must have (e.g. `https://shop.example.com/`); any source when absent. */
    eventSource: z.string().min(1).max(2048).optional(),
  })
  .strict();

export type EventSettings = z.output<typeof eventSettingsSchema>;

/**
 * The `event` kind. It has no `create`: the platform feeds it, through the CloudEvents ingress
 * (src/edges/events-ingress.ts), which asks the trigger manager which triggers match an event.
 */
export const eventSource: SourceKind<EventSettings> = {
  type: 'event',
  settings: eventSettingsSchema,
  secretNames: () => [],
};
