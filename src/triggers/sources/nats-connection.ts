/**
 * Opening a NATS connection for a trigger, and telling the platform what becomes of it: the
 * client reconnects by itself (for ever, with back-off), and every disconnect and reconnect is
 * reported as `failing` and `active`.
 */
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { Clock } from '../../core/clock.js';
import type { SourceContext } from '../types.js';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import type { NatsSettings } from './nats-settings.js';
import { type Backoff, type ChangeOnlyStatus, reasonOf, sleep } from './source-support.js';

/** The NATS schemes a URL may have (`tls` asks for TLS). */
export const NATS_SCHEMES = ['nats', 'tls'] as const;
export const NATS_DEFAULT_PORT = 4222;

/**
 * The server and credentials of a trigger's URL, as the client takes them: `user:pass@`, or a
 * token as the user name alone; `tls:` asks for TLS.
 */
export function natsServerOf(url: URL): Pick<ConnectionOptions, 'servers' | 'user' | 'pass' | 'token' | 'tls'> {
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  return {
    servers: `${url.hostname}:${url.port || NATS_DEFAULT_PORT}`,
    ...(user !== '' && pass !== '' ? { user, pass } : user !== '' ? { token: user } : {}),
    ...(url.protocol === 'tls:' ? { tls: {} } : {}),
  };
}

/**
 * Connects to the server at `address` (credentials from the URL: `user:pass@` or a token as the
 * user name alone). Rejects when the first attempt fails; after that the client reconnects by
 * itself, waiting longer the longer the server has been gone (0.5 s, up to 30 s).
 */
export async function connectNats(address: BrokerAddress, clientName: string, clock: Clock): Promise<NatsConnection> {
  let downSince: number | undefined;
  const connection = await connect({
    ...natsServerOf(address.url),
    name: clientName,
    timeout: 5_000,
    reconnect: true,
    maxReconnectAttempts: -1,
    // The client asks for the wait on every turn of its dial loop (not once per attempt), so the
    // back-off is a function of how long the server has been gone: a quarter of it, 0.5 s to 30 s.
    reconnectDelayHandler: () => Math.min(30_000, Math.max(500, (clock.monotonic() - (downSince ?? clock.monotonic())) / 4)),
    reconnectJitter: 250,
    // A dead peer is noticed within about a minute even when no TCP reset arrives.
    pingInterval: 20_000,
    maxPingOut: 3,
  });
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') downSince ??= clock.monotonic();
      else if (status.type === 'reconnect') downSince = undefined;
    }
  })();
  return connection;
}

/**
 * Reports `failing` while `connection` is disconnected and `active` again once it reconnected;
 * resolves when the connection is closed (for good: the client gave up, or the source closed it).
 */
export async function watchConnection(connection: NatsConnection, status: ChangeOnlyStatus, display: string): Promise<void> {
  for await (const event of connection.status()) {
    if (event.type === 'disconnect') status.failing(`disconnected from ${display}; reconnecting`);
    else if (event.type === 'reconnect') status.active();
  }
}

/**
 * Connects, trying again with `backoff` (and reporting `failing` with the reason) until it works
 * or `signal` aborts (then undefined, and no connection is left open).
 */
export async function connectUntilStopped(
  context: SourceContext<NatsSettings>,
  status: ChangeOnlyStatus,
  backoff: Backoff,
  signal: AbortSignal,
): Promise<{ connection: NatsConnection; address: BrokerAddress } | undefined> {
  while (!signal.aborted) {
    let address: BrokerAddress | undefined;
    try {
      address = brokerAddress(context.settings, context.secrets, NATS_SCHEMES, NATS_DEFAULT_PORT);
      const connection = await connectNats(address, `nimbus-trigger-${context.trigger}`, context.clock);
      if (!signal.aborted) return { connection, address };
      await connection.close().catch(() => undefined); // stopped while connecting
    } catch (error) {
      status.failing(`cannot connect to ${address?.display ?? 'NATS'}: ${reasonOf(error)}`);
      await sleep(context.clock, backoff.next(), signal);
    }
  }
  return undefined;
}
