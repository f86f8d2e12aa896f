/**
 * One-off calls of an `mqtt` trigger against its broker, outside the running source. The check,
 * for the API to refuse a trigger that cannot work before storing it (unreachable broker, refused
 * credentials), connects under a client id of its own, so the trigger's persistent session is left
 * alone. The release ends that session of a removed QoS 1 trigger.
 */
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import { MQTT_DISPLAY_PORT, MQTT_SCHEMES, mqttClientIdOf, type MqttSettings, mqttServerOf } from './mqtt-settings.js';
import { reasonOf } from './source-support.js';

/** Why a trigger with these settings cannot connect now, or undefined when it can. Never throws. */
export async function mqttProblem(settings: MqttSettings, secrets: Record<string, string>, timeoutMs = 3_000): Promise<string | undefined> {
  let address: BrokerAddress;
  try {
    address = brokerAddress(settings, secrets, MQTT_SCHEMES, MQTT_DISPLAY_PORT);
  } catch (error) {
    return reasonOf(error);
  }
  const { url } = address;
  try {
    const client = await mqtt.connectAsync({
      ...mqttServerOf(url),
      protocolVersion: 5,
      clientId: `nimbus-check-${randomUUID().slice(0, 8)}`,
      clean: true,
      connectTimeout: timeoutMs,
      reconnectPeriod: 0,
    });
    await client.endAsync();
    return undefined;
  } catch (error) {
    return `cannot connect to ${address.display}: ${reasonOf(error)}`;
  }
}

/**
 * Ends the persistent session of a removed QoS 1 trigger: connects once under its client id with
 * a clean start and no session expiry, so the broker stops queueing messages for it (otherwise for
 * up to the session's 7 days). A QoS 0 trigger has no session to end. Never throws.
 */
export async function mqttRelease(settings: MqttSettings, secrets: Record<string, string>, trigger: string, timeoutMs = 3_000): Promise<string | undefined> {
  if (settings.qos !== 1) return undefined;
  let address: BrokerAddress;
  try {
    address = brokerAddress(settings, secrets, MQTT_SCHEMES, MQTT_DISPLAY_PORT);
  } catch (error) {
    return reasonOf(error);
  }
  try {
    const client = await mqtt.connectAsync({
      ...mqttServerOf(address.url),
      protocolVersion: 5,
      clientId: mqttClientIdOf(trigger),
      clean: true,
      properties: { sessionExpiryInterval: 0 },
      connectTimeout: timeoutMs,
      reconnectPeriod: 0,
    });
    await client.endAsync();
    return undefined;
  } catch (error) {
    return `ending the session ${mqttClientIdOf(trigger)} on ${address.display}: ${reasonOf(error)}`;
  }
}
