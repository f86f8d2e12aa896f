/**
 * The `mqtt` trigger kind: an MQTT 5 subscription to a topic filter, QoS 1 (at-least-once, a
 * persistent session) or QoS 0 (at-most-once). See docs/triggers-sources.md.
 */
import type { SourceKind } from '../types.js';
import { mqttProblem, mqttRelease } from './mqtt-check.js';
import { mqttSettingsSchema, type MqttSettings } from './mqtt-settings.js';
import { MqttSource } from './mqtt-source.js';

/** The `mqtt` kind: settings `{ url?, urlSecret?, topic, qos? }`. */
export const mqttSource: SourceKind<MqttSettings> = {
  type: 'mqtt',
  settings: mqttSettingsSchema,
  secretNames: (settings) => (settings.urlSecret === undefined ? [] : [settings.urlSecret]),
  check: (settings, secrets) => mqttProblem(settings, secrets),
  release: (settings, secrets, trigger) => mqttRelease(settings, secrets, trigger),
  create: (context) => new MqttSource(context),
};

export type { MqttSettings } from './mqtt-settings.js';
