/**
 * The real RabbitMQ on this machine's loopback, as the amqp source tests use it: is it there, a
 * publisher (confirmed publishes), clean-up, and closing one connection from the server side
 * (`rabbitmqctl close_connection`), which is how the tests make "the broker went away" without
 * stopping the shared server.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp, { type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';

const run = promisify(execFile);

export const RABBITMQ_URL = 'amqp://127.0.0.1:5672';

/** Undefined when RabbitMQ answers on 5672; otherwise why not. */
export async function rabbitUnavailable(): Promise<string | undefined> {
  try {
    const connection = await amqp.connect(RABBITMQ_URL, { timeout: 3000 });
    await connection.close();
    return undefined;
  } catch (error) {
    return `RabbitMQ not reachable on ${RABBITMQ_URL} (${(error as Error).message})`;
  }
}

/** A publisher and admin connection, opened on first use. */
export class RabbitClient {
  private opened: Promise<{ connection: ChannelModel; channel: ConfirmChannel }> | undefined;

  private async open(): Promise<ConfirmChannel> {
    this.opened ??= (async () => {
      const connection = await amqp.connect(RABBITMQ_URL);
      connection.on('error', () => undefined);
      const channel = await connection.createConfirmChannel();
      return { connection, channel };
    })();
    return (await this.opened).channel;
  }

  /** Publishes to a queue through the default exchange; resolves once the broker confirmed it. */
  async sendToQueue(queue: string, payload: Buffer, options?: Options.Publish): Promise<void> {
    const channel = await this.open();
    channel.sendToQueue(queue, payload, options);
    await channel.waitForConfirms();
  }

  /** Publishes to an exchange; resolves once the broker confirmed it. */
  async publish(exchange: string, routingKey: string, payload: Buffer, options?: Options.Publish): Promise<void> {
    const channel = await this.open();
    channel.publish(exchange, routingKey, payload, options);
    await channel.waitForConfirms();
  }

  /** Runs one operation on a channel of its own (a failed one closes its channel). */
  async admin<T>(operation: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
    await this.open();
    const { connection } = await (this.opened as Promise<{ connection: ChannelModel }>);
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    try {
      return await operation(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await (await opened).connection.close().catch(() => undefined);
  }
}

/**
 * Closes, from the server, the connection whose `connection_name` client property is `name`.
 * Resolves false when rabbitmqctl is missing or cannot reach the node (it needs the Erlang cookie).
 */
export async function closeConnectionNamed(name: string): Promise<boolean> {
  try {
    const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-s'], { timeout: 15_000 });
    const line = stdout.split('\n').find((l) => l.includes(`{"connection_name","${name}"}`));
    const pid = line?.split('\t')[0];
    if (!pid) return false;
    await run('rabbitmqctl', ['close_connection', pid, 'closed by the nimbus amqp trigger test', '-q'], { timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

/** Whether `rabbitmqctl` can talk to the local node (to list connections). */
export async function rabbitmqctlWorks(): Promise<string | undefined> {
  try {
    await run('rabbitmqctl', ['list_connections', 'pid', '-s'], { timeout: 15_000 });
    return undefined;
  } catch (error) {
    return `rabbitmqctl cannot list connections here (${(error as Error).message.split('\n')[0]})`;
  }
}
