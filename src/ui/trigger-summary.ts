/**
 * A trigger's settings in a few words, for a table cell: what fires it (schedule, subject, topic,
 * queue, stream, folder, event type) and the one or two settings that qualify it. Broker URLs are
 * left out (the defaults say little, and a URL in a secret is never shown anyway).
 */
export function triggerSummary(type: string, settings: Record<string, unknown>): string {
  const text = (key: string): string | undefined => {
    const value = settings[key];
    return typeof value === 'string' && value !== '' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  };
  const parts = (...items: (string | undefined | false)[]) => items.filter((item): item is string => typeof item === 'string').join(', ');
  switch (type) {
    case 'cron':
      return parts(text('schedule'), text('timezone') && `zone ${text('timezone')}`, settings.catchUp === true && 'catch-up');
    case 'nats':
      return parts(`subject ${text('subject') ?? '?'}`, text('stream') && `stream ${text('stream')}`, text('consumer') && `consumer ${text('consumer')}`);
    case 'mqtt':
      return parts(`topic ${text('topic') ?? '?'}`, text('qos') && `qos ${text('qos')}`);
    case 'amqp':
      return text('queue') ? `queue ${text('queue')}` : parts(`exchange ${text('exchange') ?? '?'}`, text('routingKey') && `key ${text('routingKey')}`);
    case 'redis':
      return parts(`stream ${text('stream') ?? '?'}`, text('group') && `group ${text('group')}`);
    case 'file':
      return parts(text('path'), text('pattern') && `pattern ${text('pattern')}`, Array.isArray(settings.events) && `on ${settings.events.join('/')}`);
    case 'event':
      return parts(`type ${text('eventType') ?? '?'}`, text('eventSource') && `source ${text('eventSource')}*`);
    default:
      return Object.keys(settings).join(', ');
  }
}
