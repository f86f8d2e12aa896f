/**
 * The settings form of each trigger kind, as data: which fields the dashboard's trigger form
 * shows, and how what was typed becomes the API's `settings` object. The platform validates the
 * settings (and tries a broker) when the trigger is created; this only shapes them.
 */

/** One input of a kind's form. */
export interface TriggerField {
  /** The key in `settings`. */
  key: string;
  label: string;
  placeholder?: string;
  /** Filled in when the kind is chosen. */
  initial?: string;
  required?: boolean;
  /** How the text becomes the setting's value. @default 'text' */
  as?: 'text' | 'number' | 'list';
  /** Shown under the form while this kind is chosen. */
  hint?: string;
}

const url = (scheme: string, port: number): TriggerField => ({ key: 'url', label: 'Server URL', placeholder: `${scheme}://127.0.0.1:${port}` });
const urlSecret: TriggerField = { key: 'urlSecret', label: 'URL secret', placeholder: 'secret name (URL with credentials)' };

/** The kinds the form offers, in its order, with their fields. */
export const TRIGGER_KINDS: ReadonlyArray<{ type: string; label: string; fields: readonly TriggerField[] }> = [
  { type: 'cron', label: 'Cron schedule', fields: [
    { key: 'schedule', label: 'Schedule', placeholder: '0 3 * * *', initial: '0 * * * *', required: true },
    { key: 'timezone', label: 'Time zone', placeholder: 'UTC' },
  ] },
  { type: 'nats', label: 'NATS / JetStream', fields: [
    url('nats', 4222), urlSecret,
    { key: 'subject', label: 'Subject', placeholder: 'orders.>', required: true },
    { key: 'stream', label: 'JetStream stream', placeholder: 'empty: core NATS' },
    { key: 'consumer', label: 'Consumer', placeholder: 'nimbus-<trigger>' },
  ] },
  { type: 'mqtt', label: 'MQTT', fields: [
    url('mqtt', 1883), urlSecret,
    { key: 'topic', label: 'Topic filter', placeholder: 'sensors/+/temperature', required: true },
    { key: 'qos', label: 'QoS (0 or 1)', placeholder: '1', as: 'number' },
  ] },
  { type: 'amqp', label: 'AMQP (RabbitMQ)', fields: [
    url('amqp', 5672), urlSecret,
    { key: 'queue', label: 'Queue', placeholder: 'jobs', hint: 'Give a queue, or an exchange (and a routing key).' },
    { key: 'exchange', label: 'Exchange', placeholder: 'events' },
    { key: 'routingKey', label: 'Routing key', placeholder: '#' },
  ] },
  { type: 'redis', label: 'Redis Streams', fields: [
    url('redis', 6379), urlSecret,
    { key: 'stream', label: 'Stream key', placeholder: 'orders', required: true },
    { key: 'group', label: 'Consumer group', placeholder: 'nimbus.trigger.<trigger>' },
  ] },
  { type: 'file', label: 'Files in a folder', fields: [
    { key: 'path', label: 'Folder', placeholder: '/srv/inbox', required: true },
    { key: 'pattern', label: 'Pattern', placeholder: '*.csv' },
    { key: 'events', label: 'Events', placeholder: 'created,modified,deleted', as: 'list' },
  ] },
  { type: 'event', label: 'CloudEvents (POST /events)', fields: [
    { key: 'eventType', label: 'Event type', placeholder: 'com.example.order.created', required: true },
    { key: 'eventSource', label: 'Source prefix', placeholder: 'https://shop.example' },
  ] },
];

/** The fields of `type` (none for a type the form does not know). */
export function fieldsOf(type: string): readonly TriggerField[] {
  return TRIGGER_KINDS.find((kind) => kind.type === type)?.fields ?? [];
}

/**
 * The `settings` of a trigger of `type` from the form's values: trimmed, empty fields left out
 * (the platform's defaults apply), numbers as numbers, lists split at commas. A number that is not
 * one is sent as typed, for the platform to refuse with its message.
 */
export function settingsFrom(type: string, values: Readonly<Record<string, string>>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const field of fieldsOf(type)) {
    const text = (values[field.key] ?? '').trim();
    if (text === '') continue;
    if (field.as === 'number') settings[field.key] = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    else if (field.as === 'list') settings[field.key] = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
    else settings[field.key] = text;
  }
  return settings;
}

/** The values a form starts with for `type`: each field's initial text. */
export function initialValues(type: string): Record<string, string> {
  return Object.fromEntries(fieldsOf(type).filter((field) => field.initial !== undefined).map((field) => [field.key, field.initial!]));
}
