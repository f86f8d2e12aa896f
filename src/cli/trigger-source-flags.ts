import type { Command } from 'commander';
import { CliError } from './context.js';

/** The source flags of `nimbus trigger create`, as commander parses them. */
export interface SourceFlags {
  cron?: string;
  timezone?: string;
  data?: string;
  catchUp?: boolean;
  nats?: string;
  stream?: string;
  consumer?: string;
  mqtt?: string;
  qos?: string;
  amqpQueue?: string;
  amqpExchange?: string;
  routingKey?: string;
  redisStream?: string;
  group?: string;
  watch?: string;
  pattern?: string;
  events?: string;
  eventType?: string;
  eventSource?: string;
  brokerUrl?: string;
  urlSecret?: string;
}

type FlagName = keyof SourceFlags;

/** Each kind: the flags that choose it, and the flags that go with it. */
const KINDS: Array<{ type: string; chosenBy: FlagName[]; with: FlagName[] }> = [
  { type: 'cron', chosenBy: ['cron'], with: ['timezone', 'data', 'catchUp'] },
  { type: 'nats', chosenBy: ['nats'], with: ['stream', 'consumer', 'brokerUrl', 'urlSecret'] },
  { type: 'mqtt', chosenBy: ['mqtt'], with: ['qos', 'brokerUrl', 'urlSecret'] },
  { type: 'amqp', chosenBy: ['amqpQueue', 'amqpExchange'], with: ['routingKey', 'brokerUrl', 'urlSecret'] },
  { type: 'redis', chosenBy: ['redisStream'], with: ['group', 'brokerUrl', 'urlSecret'] },
  { type: 'file', chosenBy: ['watch'], with: ['pattern', 'events'] },
  { type: 'event', chosenBy: ['eventType'], with: ['eventSource'] },
];

/** `--kebab-case` of a flag name. */
const flag = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Adds every kind's source flags to a command (`nimbus trigger create`). */
export function addSourceFlags(command: Command): Command {
  return command
    .option('--cron <expr>', 'cron: a schedule of 5 fields, or 6 with seconds first (e.g. "*/10 * * * * *")')
    .option('--timezone <zone>', 'cron: the IANA time zone the schedule is read in (default: UTC)')
    .option('--data <json>', 'cron: the event data, JSON (e.g. \'{"report":"daily"}\'); default: no data')
    .option('--catch-up', 'cron: after a restart, fire the most recent tick missed while down')
    .option('--nats <subject>', 'NATS: the subject (wildcards allowed)')
    .option('--stream <name>', 'NATS: consume through this JetStream stream (at-least-once)')
    .option('--consumer <durable>', 'NATS: the durable JetStream consumer (default: from the trigger name)')
    .option('--mqtt <filter>', 'MQTT: the topic filter')
    .option('--qos <0|1>', 'MQTT: quality of service (default: 1)')
    .option('--amqp-queue <queue>', 'AMQP: consume this queue')
    .option('--amqp-exchange <exchange>', 'AMQP: bind a durable queue to this exchange')
    .option('--routing-key <key>', 'AMQP: the binding key with --amqp-exchange (default: #)')
    .option('--redis-stream <key>', 'Redis: the stream key')
    .option('--group <group>', 'Redis: the consumer group (default: from the trigger name)')
    .option('--watch <dir>', 'files: the absolute path of the folder to watch')
    .option('--pattern <glob>', 'files: only names matching this glob')
    .option('--events <list>', 'files: created,modified,deleted (default: all)')
    .option('--event-type <type>', 'CloudEvents ingress: the event type to route (POST /events)')
    .option('--event-source <prefix>', 'CloudEvents ingress: only sources starting with this')
    // Not --url: that is the platform's address, a global option of every command.
    .option('--broker-url <url>', 'brokers: the broker URL, without credentials (default: the local standard port)')
    .option('--url-secret <NAME>', 'brokers: a secret holding the whole broker URL, credentials included');
}

/**
 * The trigger `type` and `settings` the flags ask for. Exactly one kind must be chosen, and every
 * other flag given must go with it; the platform checks the values themselves.
 * @throws CliError (exit code 2) naming the flags that do not fit.
 */
export function sourceFromFlags(flags: SourceFlags): { type: string; settings: Record<string, unknown> } {
  const given = (Object.keys(flags) as FlagName[]).filter((name) => flags[name] !== undefined && KINDS.some((k) => k.chosenBy.includes(name) || k.with.includes(name)));
  const chosen = KINDS.filter((kind) => kind.chosenBy.some((name) => given.includes(name)));
  const allChoosers = KINDS.flatMap((k) => k.chosenBy).map(flag).join(', ');
  if (chosen.length === 0) throw new CliError(`Say what fires the trigger: one of ${allChoosers}.`, { exitCode: 2 });
  if (chosen.length > 1) throw new CliError(`A trigger has one source: choose one of ${chosen.flatMap((k) => k.chosenBy.filter((n) => given.includes(n))).map(flag).join(', ')}.`, { exitCode: 2 });
  const kind = chosen[0] as (typeof KINDS)[number];
  const misfits = given.filter((name) => !kind.chosenBy.includes(name) && !kind.with.includes(name));
  if (misfits.length > 0) {
    const owners = (name: FlagName) => KINDS.filter((k) => k.with.includes(name)).map((k) => flag(k.chosenBy[0] as string));
    throw new CliError(`${misfits.map((n) => `${flag(n)} goes with ${owners(n).join(' or ')}`).join('; ')}, not with ${flag(kind.chosenBy.find((n) => given.includes(n)) as string)}.`, { exitCode: 2 });
  }
  if (flags.amqpQueue !== undefined && (flags.amqpExchange !== undefined || flags.routingKey !== undefined)) {
    throw new CliError('Give --amqp-queue, or --amqp-exchange (with --routing-key), not both.', { exitCode: 2 });
  }
  return { type: kind.type, settings: settingsOf(kind.type, flags) };
}

function settingsOf(type: string, f: SourceFlags): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) settings[key] = value;
  };
  set('url', f.brokerUrl);
  set('urlSecret', f.urlSecret);
  switch (type) {
    case 'cron':
      set('schedule', f.cron);
      set('timezone', f.timezone);
      set('data', f.data === undefined ? undefined : parseData(f.data));
      set('catchUp', f.catchUp);
      break;
    case 'nats':
      set('subject', f.nats);
      set('stream', f.stream);
      set('consumer', f.consumer);
      break;
    case 'mqtt':
      set('topic', f.mqtt);
      set('qos', f.qos === undefined ? undefined : parseQos(f.qos));
      break;
    case 'amqp':
      set('queue', f.amqpQueue);
      set('exchange', f.amqpExchange);
      set('routingKey', f.routingKey);
      break;
    case 'redis':
      set('stream', f.redisStream);
      set('group', f.group);
      break;
    case 'file':
      set('path', f.watch);
      set('pattern', f.pattern);
      set('events', f.events?.split(',').map((e) => e.trim()).filter((e) => e !== ''));
      break;
    case 'event':
      set('eventType', f.eventType);
      set('eventSource', f.eventSource);
      break;
  }
  return settings;
}

function parseData(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`--data is not JSON: ${JSON.stringify(text.slice(0, 80))}. Quote text as JSON, e.g. --data '"hello"' or --data '{"report":"daily"}'.`, { exitCode: 2 });
  }
}

function parseQos(text: string): number {
  if (text !== '0' && text !== '1') throw new CliError(`--qos is ${JSON.stringify(text)}; use 0 or 1.`, { exitCode: 2 });
  return Number(text);
}

/** A short description of what fires a trigger, for tables: the schedule, subject, topic, queue, path… */
export function describeSource(type: string, settings: Record<string, unknown>): string {
  const s = (key: string) => (typeof settings[key] === 'string' ? (settings[key] as string) : undefined);
  switch (type) {
    case 'cron':
      return `${s('schedule') ?? '?'}${s('timezone') ? ` (${s('timezone')})` : ''}`;
    case 'nats':
      return `${s('subject') ?? '?'}${s('stream') ? ` (stream ${s('stream')})` : ''}`;
    case 'mqtt':
      return s('topic') ?? '?';
    case 'amqp':
      return s('queue') ? `queue ${s('queue')}` : `exchange ${s('exchange') ?? '?'} ${s('routingKey') ?? '#'}`;
    case 'redis':
      return s('stream') ?? '?';
    case 'file':
      return `${s('path') ?? '?'}${s('pattern') ? `/${s('pattern')}` : ''}`;
    case 'event':
      return `${s('eventType') ?? '?'}${s('eventSource') ? ` from ${s('eventSource')}*` : ''}`;
    default:
      return JSON.stringify(settings).slice(0, 60);
  }
}
