/**
 * One-off calls of an `mqtt` trigger against its broker, outside the running source. The check,
 * for the API to refuse a trigger that cannot work before storing it (unreachable broker, refused
 * credentials), connects under a client id of its own, so the trigger's persistent session is left
 * alone. The release ends that session of a removed QoS 1 trigger.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions } from 'mqtt';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import { MQTT_DISPLAY_PORT, MQTT_SCHEMES, mqttClientIdOf, type MqttSettings, mqttServerOf } from './mqtt-settings.js';
import { reasonOf } from './source-support.js';

/**
 * Connects once under `clientId` (with a clean start and the given properties) and disconnects.
 * Answers `failed(display, reason)` when that did not work, or undefined. Never throws.
 */
async function connectOnce(
  settings: MqttSettings,
  secrets: Record<string, string>,
  timeoutMs: number,
  session: Pick<IClientOptions, 'clientId' | 'properties'>,
  failed: (display: string, reason: string) => string,
): Promise<string | undefined> {
  let address: BrokerAddress;
  try {
    address = brokerAddress(settings, secrets, MQTT_SCHEMES, MQTT_DISPLAY_PORT);
  } catch (error) {
    return reasonOf(error);
  }
  try {
    const client = await mqtt.connectAsync({ ...mqttServerOf(address.url), protocolVersion: 5, clean: true, connectTimeout: timeoutMs, reconnectPeriod: 0, ...session });
    await client.endAsync();
    return undefined;
  } catch (error) {
    return failed(address.display, reasonOf(error));
  }
}

/** Why a trigger with these settings cannot connect now, or undefined when it can. Never throws. */
export function mqttProblem(settings: MqttSettings, secrets: Record<string, string>, timeoutMs = 3_000): Promise<string | undefined> {
  return connectOnce(settings, secrets, timeoutMs, { clientId: `nimbus-check-${randomUUID().slice(0, 8)}` }, (display, reason) => `cannot connect to ${display}: ${reason}`);
}

/**
 * Ends the persistent session of a removed QoS 1 trigger: connects once under its client id with
 * a clean start and no session expiry, so the broker stops queueing messages for it (otherwise for
 * up to the session's 7 days). A QoS 0 trigger has no session to end. Never throws.
 */
export async function mqttRelease(settings: MqttSettings, secrets: Record<string, string>, trigger: string, timeoutMs = 3_000): Promise<string | undefined> {
  if (settings.qos !== 1) return undefined;
  const clientId = mqttClientIdOf(trigger);
  return connectOnce(settings, secrets, timeoutMs, { clientId, properties: { sessionExpiryInterval: 0 } }, (display, reason) => `ending the session ${clientId} on ${display}: ${reason}`);
}
