import type { SourceKind } from '../types.js';
import { amqpSource } from './amqp.js';
import { cronSource } from './cron.js';
import { eventSource } from './event.js';
import { fileSource } from './file.js';
import { mqttSource } from './mqtt.js';
import { natsSource } from './nats.js';
import { redisSource } from './redis.js';

/**
 * Every kind of trigger source this platform knows. A new kind is one file in this folder
 * exporting its `SourceKind`, and one entry here: the trigger service validates settings with it,
 * the trigger manager starts its sources (kinds without `create`, like `event`, are fed by the
 * platform through `TriggerManager.sinkFor`).
 */
const KINDS: SourceKind<unknown>[] = [cronSource, natsSource, mqttSource, amqpSource, redisSource, fileSource, eventSource];

/** The kinds by `type`. */
export const SOURCE_KINDS: ReadonlyMap<string, SourceKind<unknown>> = new Map(KINDS.map((kind) => [kind.type, kind]));
