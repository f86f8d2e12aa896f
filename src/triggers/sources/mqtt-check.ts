/**
 * A one-off check of an `mqtt` trigger's settings against its broker, for the API to refuse a
 * trigger that cannot work before storing it (unreachable broker, refused credentials). It
 * connects under a client id of its own, so the trigger's persistent session is left alone.
 */
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import { MQTT_DISPLAY_PORT, MQTT_SCHEMES, type MqttSettings, mqttServerOf } from './mqtt-settings.js';
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
