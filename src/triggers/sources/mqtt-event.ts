/**
 * An MQTT PUBLISH as a {@link TriggerEvent}: the payload byte for byte, the topic as subject, and
 * the packet's flags and MQTT 5 user properties as `mqtt…` extensions.
 */
import { createHash } from 'node:crypto';
import type { IPublishPacket } from 'mqtt';
import { v7 as uuidv7 } from 'uuid';
import type { TriggerEvent } from '../types.js';
import { headerExtensions } from './event-extensions.js';

export const MQTT_EVENT_TYPE = 'dev.nimbus.mqtt.message';

const RESERVED = new Set(['mqttretain', 'mqttqos', 'mqttdup']);

/** How many ids of recent QoS 1 packets are kept to recognise the broker's resends. */
const RECENT = 1_024;

/**
 * Event ids of MQTT messages. MQTT carries no message id that outlives a delivery (packet ids are
 * reused as soon as a message is acknowledged), so:
 * - a message with an MQTT 5 user property `id` (as the CloudEvents MQTT binding sends it) keeps
 *   that id, on every delivery, across platform restarts: the platform's dedup works fully;
 * - otherwise the id is a time-ordered UUID made on receipt. A resend of a QoS 1 message within
 *   the same running source (the DUP flag set after a reconnect, same packet id, topic and
 *   payload as one received recently) gets the id given the first time, so the sink drops it if
 *   it was queued. A resend after the platform itself restarted gets a new id: the function may
 *   then run twice for it (at-least-once).
 */
export class MqttEventIds {
  private readonly recent = new Map<string, string>();

  idOf(packet: IPublishPacket): string {
    const own = userProperty(packet, 'id');
    if (own !== undefined && own !== '') return own;
    if (packet.qos === 0 || packet.messageId === undefined) return uuidv7();
    const key = `${packet.messageId}\u0000${packet.topic}\u0000${createHash('sha256').update(packet.payload).digest('base64')}`;
    const known = this.recent.get(key);
    if (packet.dup && known !== undefined) return known;
    const id = uuidv7();
    this.recent.delete(key);
    this.recent.set(key, id);
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value as string);
    return id;
  }
}

/** The event of one PUBLISH packet received through the subscription `source`. */
export function mqttEvent(packet: IPublishPacket, id: string, source: string): TriggerEvent {
  const properties = packet.properties;
  const extensions = headerExtensions('mqtt', userPropertyEntries(packet), RESERVED);
  extensions.mqttretain = String(packet.retain);
  extensions.mqttqos = String(packet.qos);
  extensions.mqttdup = String(packet.dup);
  return {
    id,
    type: MQTT_EVENT_TYPE,
    source,
    subject: packet.topic,
    ...(properties?.contentType ? { contentType: properties.contentType } : {}),
    data: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : Buffer.from(packet.payload),
    extensions,
  };
}

function userPropertyEntries(packet: IPublishPacket): Array<[string, string[]]> {
  const properties = packet.properties?.userProperties ?? {};
  return Object.entries(properties).map(([name, value]) => [name, Array.isArray(value) ? value : [value]]);
}

function userProperty(packet: IPublishPacket, name: string): string | undefined {
  const value = packet.properties?.userProperties?.[name];
  return Array.isArray(value) ? value[0] : value;
}
