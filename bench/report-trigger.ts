/**
 * The trigger figures of the report (issue 13): NATS JetStream events handled per second end to
 * end beside the async accept rate of the same run, and publish -> handler start with its target
 * (printed, not asserted).
 */
import { fixed } from './table.js';
import type { TriggerNatsSummary } from './trigger-nats.js';

/** The stage's name, as it appears in `stageErrors`. */
export const TRIGGER_NATS_STAGE = 'trigger nats';

/** The issue's target for publish -> handler start on an idle platform. */
export const TRIGGER_NATS_TARGET_P50_MS = 10;

/** The stage's lines of the report; `acceptPerSecond` is the async accept rate of the same run, when measured. */
export function formatTriggerNats(summary: TriggerNatsSummary | undefined, failed: string | undefined, acceptPerSecond: number | undefined): string[] {
  if (failed) return ['', `trigger nats: FAILED: ${failed}`];
  if (!summary) return [];
  if ('skipped' in summary) return ['', `trigger nats: skipped: ${summary.skipped}`];
  const { latency: l, throughput: t } = summary;
  const accept = acceptPerSecond === undefined ? 'not measured in this run' : `${fixed(acceptPerSecond, 0)}/s`;
  const ratio = acceptPerSecond === undefined ? '' : ` = ${fixed(t.eventsPerSecond / acceptPerSecond, 2)} x`;
  const lines = [
    '',
    'triggers (NATS JetStream -> nats trigger -> function):',
    `  ${'case'.padEnd(64)} ${'per second'.padStart(12)}`,
    `  ${`events delivered end to end (${t.events}, hello, asyncConcurrency ${t.asyncConcurrency})`.padEnd(64)} ${fixed(t.eventsPerSecond, 0).padStart(12)}`,
    `  ${'async accept (POST, Prefer: respond-async)'.padEnd(64)} ${(acceptPerSecond === undefined ? '-' : fixed(acceptPerSecond, 0)).padStart(12)}`,
    `  events/s${ratio} the async accept rate (${accept}); first publish -> last handled ${fixed(t.totalMs, 0)} ms; the publisher got its acks at ${fixed(t.publishPerSecond, 0)}/s`,
    `publish -> handler start (idle platform, warm instance, ${l.runs} events one at a time): p50 ${fixed(l.p50, 2)} ms  p90 ${fixed(l.p90, 2)} ms  p99 ${fixed(l.p99, 2)} ms  (min ${fixed(l.min, 2)}, max ${fixed(l.max, 2)})  (target p50 <= ${TRIGGER_NATS_TARGET_P50_MS} ms)`,
  ];
  if (l.errors > 0) lines.push(`  warning: ${l.errors} events did not succeed and are left out`);
  return lines;
}

