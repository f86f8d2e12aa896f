import { type Command, InvalidArgumentError } from 'commander';
import { FUNCTION_NAME_PATTERN, type TriggerView } from '../../api/wire.js';
import type { CliContext } from '../context.js';
import { parseFunctionName } from '../flags.js';
import { formatAgo, formatJson, formatKeyValues, formatTable, type Colors } from '../format.js';
import { addSourceFlags, describeSource, type SourceFlags, sourceFromFlags } from '../trigger-source-flags.js';
import { triggersApi } from '../triggers-api.js';

const EXAMPLES = `
Examples:
  $ nimbus trigger create nightly --function report --cron "0 3 * * *" --timezone Europe/Zurich
  $ nimbus trigger create heartbeat --function ping --cron "*/10 * * * * *" --data '{"source":"heartbeat"}'
  $ nimbus trigger create orders --function fulfil --nats "orders.>" --stream ORDERS
  $ nimbus trigger create sensors --function ingest --mqtt "sensors/+/temp" --qos 1
  $ nimbus trigger create jobs --function work --amqp-queue jobs --url-secret RABBIT_URL
  $ nimbus trigger create uploads --function thumbnail --watch /srv/uploads --pattern "*.jpg"
  $ nimbus trigger create signups --function welcome --event-type com.example.signup
  $ nimbus trigger ls
  $ nimbus trigger pause nightly && nimbus trigger resume nightly
  $ nimbus trigger rm nightly

Each event reaches the function as a CloudEvents 1.0 request (POST /, ce-* headers, the data as
the body), run asynchronously with the function's retry policy. See docs/triggers.md.`;

/** A trigger name (DNS label), checked before anything is sent. */
function parseTriggerName(value: string): string {
  if (!FUNCTION_NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError(`invalid trigger name ${JSON.stringify(value.slice(0, 80))}: use 1-63 lowercase letters, digits or '-', starting with a letter and not ending with '-'.`);
  }
  return value;
}

/** The status column: `failing` in red with its reason shown by `get`. */
function statusText(t: TriggerView, c: Colors): string {
  return t.status === 'failing' ? c.red('failing') : t.status === 'active' ? c.green('active') : c.yellow(t.status);
}

/** The `nimbus trigger ls` table. */
export function formatTriggerTable(triggers: TriggerView[], c: Colors, now = Date.now()): string {
  const rows = triggers.map((t) => [t.name, t.function, t.type, describeSource(t.type, t.settings), statusText(t, c), formatAgo(t.since, now)]);
  return formatTable(['NAME', 'FUNCTION', 'TYPE', 'SOURCE', 'STATUS', 'SINCE'], rows, { header: c.bold });
}

/** `nimbus trigger get`: one trigger, field by field. */
export function formatTrigger(t: TriggerView, c: Colors, now = Date.now()): string {
  const pairs: [string, string][] = [
    ['Name', t.name],
    ['Function', t.function],
    ['Type', t.type],
    ['Source', describeSource(t.type, t.settings)],
    ['Status', `${statusText(t, c)} since ${formatAgo(t.since, now)}`],
  ];
  if (t.error) pairs.push(['Error', t.error]);
  pairs.push(['Settings', JSON.stringify(t.settings)], ['Created', t.createdAt], ['Updated', t.updatedAt]);
  return formatKeyValues(pairs, c.bold);
}

export function registerTrigger(program: Command, ctx: CliContext): void {
  const trigger = program
    .command('trigger')
    .summary('run functions on events: timers, brokers, files (create, ls, get, rm, pause, resume)')
    .description('Manage triggers: each turns events (cron ticks, NATS, MQTT, AMQP, Redis Streams, file changes, CloudEvents) into async invocations of a function.')
    .addHelpText('after', EXAMPLES);

  addSourceFlags(
    trigger
      .command('create')
      .summary('create a trigger')
      .description('Create a trigger: the function, and one source with its flags (the other kinds\' flags are refused).')
      .argument('<name>', 'trigger name: lowercase letters, digits and -', parseTriggerName)
      .requiredOption('-f, --function <fn>', 'the function the events go to', parseFunctionName)
      .option('--paused', 'create it paused (start it with: nimbus trigger resume)'),
  )
    .option('--json', 'print the trigger as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (name: string, opts: SourceFlags & { function: string; paused?: boolean; json?: boolean }, command: Command) => {
      const { type, settings } = sourceFromFlags(opts);
      const created = await triggersApi.create(ctx.client(command), name, { function: opts.function, type, settings, ...(opts.paused ? { state: 'paused' as const } : {}) });
      if (opts.json) return void ctx.io.stdout.write(formatJson(created));
      const c = ctx.out;
      ctx.io.stdout.write(`${c.green('Created')} trigger ${c.bold(created.name)}: ${type} ${describeSource(type, created.settings)} → ${created.function}${created.state === 'paused' ? ' (paused)' : ''}\n`);
    });

  trigger
    .command('ls')
    .alias('list')
    .summary('list triggers and their status')
    .option('-f, --function <fn>', "only this function's triggers", parseFunctionName)
    .option('--json', 'print the triggers as a JSON array')
    .action(async (opts: { function?: string; json?: boolean }, command: Command) => {
      const triggers = await triggersApi.list(ctx.client(command), opts.function);
      const out = ctx.io.stdout;
      if (opts.json) out.write(formatJson(triggers));
      else if (triggers.length === 0) out.write('No triggers yet. Create one with: nimbus trigger create <name> --function <fn> --cron "*/5 * * * *"\n');
      else out.write(formatTriggerTable(triggers, ctx.out));
    });

  trigger
    .command('get')
    .summary('show a trigger, its settings and status (with the reason when failing)')
    .argument('<name>', 'trigger name', parseTriggerName)
    .option('--json', 'print the trigger as JSON')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      const found = await triggersApi.get(ctx.client(command), name);
      ctx.io.stdout.write(opts.json ? formatJson(found) : formatTrigger(found, ctx.out));
    });

  trigger
    .command('rm')
    .alias('remove')
    .summary('remove a trigger (its source stops; the consumer, queue, group or session Nimbus made on the broker goes too)')
    .argument('<name>', 'trigger name', parseTriggerName)
    .action(async (name: string, _opts: unknown, command: Command) => {
      await triggersApi.remove(ctx.client(command), name);
      ctx.io.stdout.write(`Removed trigger ${name}\n`);
    });

  for (const [verb, act, done] of [
    ['pause', triggersApi.pause, 'Paused'],
    ['resume', triggersApi.resume, 'Resumed'],
  ] as const) {
    trigger
      .command(verb)
      .summary(verb === 'pause' ? 'stop a trigger taking events until resumed' : 'start a paused trigger again')
      .argument('<name>', 'trigger name', parseTriggerName)
      .option('--json', 'print the trigger as JSON')
      .action(async (name: string, opts: { json?: boolean }, command: Command) => {
        const changed = await act(ctx.client(command), name);
        ctx.io.stdout.write(opts.json ? formatJson(changed) : `${done} trigger ${changed.name}\n`);
      });
  }
}
