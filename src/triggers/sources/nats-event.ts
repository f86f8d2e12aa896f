/**
 * A NATS or JetStream message as a {@link TriggerEvent}: the payload byte for byte, the subject,
 * and the broker's metadata as `nats…` extensions.
 */
import { Match, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import type { JsMsg } from '@nats-io/jetstream';
import { v7 as uuidv7 } from 'uuid';
import type { TriggerEvent } from '../types.js';
import { headerExtensions } from './event-extensions.js';

export const NATS_EVENT_TYPE = 'dev.nimbus.nats.message';

/** Extensions the source sets itself; headers of the same names are left out. */
const RESERVED = new Set(['natsreply', 'natsstream', 'natsseq', 'natsredelivered', 'natsdeliveries']);

/**
 * A core NATS message. Its id is the publisher's `Nats-Msg-Id` header when there is one (the
 * header JetStream also deduplicates by), else a time-ordered UUID made on receipt: core NATS never
 * redelivers, so an id only has to be unique.
 */
export function coreNatsEvent(msg: Msg, source: string): TriggerEvent {
  const headers = msg.headers;
  const msgId = headers?.get('Nats-Msg-Id', Match.IgnoreCase) ?? '';
  const extensions = headers ? headerExtensions('nats', headerEntries(headers), RESERVED) : {};
  if (msg.reply) extensions.natsreply = msg.reply;
  return {
    id: msgId !== '' ? msgId : uuidv7(),
    type: NATS_EVENT_TYPE,
    source,
    subject: msg.subject,
    ...contentTypeOf(headers),
    data: Buffer.from(msg.data),
    extensions,
  };
}

/**
 * A JetStream message. Its id is `<stream>:<stream sequence>`: the same on every redelivery of the
 * message, so the platform's dedup recognises one it already queued.
 */
export function jetStreamEvent(msg: JsMsg, source: string): TriggerEvent {
  const headers = msg.headers;
  const extensions = headers ? headerExtensions('nats', headerEntries(headers), RESERVED) : {};
  extensions.natsstream = msg.info.stream;
  extensions.natsseq = String(msg.seq);
  extensions.natsredelivered = String(msg.redelivered);
  extensions.natsdeliveries = String(msg.info.deliveryCount);
  return {
    id: `${msg.info.stream}:${msg.seq}`,
    type: NATS_EVENT_TYPE,
    source,
    subject: msg.subject,
    time: Math.floor(Number(msg.info.timestampNanos) / 1_000_000),
    ...contentTypeOf(headers),
    data: Buffer.from(msg.data),
    extensions,
  };
}

function headerEntries(headers: MsgHdrs): Array<[string, string[]]> {
  return headers.keys().map((name) => [name, headers.values(name)]);
}

function contentTypeOf(headers: MsgHdrs | undefined): { contentType?: string } {
  const value = headers?.get('Content-Type', Match.IgnoreCase) ?? '';
  return value === '' ? {} : { contentType: value };
}
