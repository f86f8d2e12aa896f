/**
 * The `nats` trigger kind: a core NATS subject (at-most-once), or, with `stream`, a JetStream
 * durable pull consumer (at-least-once). See docs/triggers-sources.md.
 */
import type { SourceKind } from '../types.js';
import { natsProblem, natsRelease } from './nats-check.js';
import { natsSettingsSchema, type NatsSettings } from './nats-settings.js';
import { NatsCoreSource } from './nats-core.js';
import { JetStreamSource } from './nats-jetstream.js';

/** The `nats` kind: settings `{ url?, urlSecret?, subject, stream?, consumer? }`. */
export const natsSource: SourceKind<NatsSettings> = {
  type: 'nats',
  settings: natsSettingsSchema,
  secretNames: (settings) => (settings.urlSecret === undefined ? [] : [settings.urlSecret]),
  check: (settings, secrets) => natsProblem(settings, secrets),
  release: (settings, secrets, trigger) => natsRelease(settings, secrets, trigger),
  create(context) {
    const { stream } = context.settings;
    if (stream === undefined) return new NatsCoreSource(context);
    return new JetStreamSource({ ...context, settings: { ...context.settings, stream } });
  },
};

export type { NatsSettings } from './nats-settings.js';
