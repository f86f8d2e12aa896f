import { StringDecoder } from 'node:string_decoder';
import type { LogEntry, NimbusClient } from './client.js';

/**
 * Follows a function's logs (`GET …/logs?follow=true`, NDJSON) and hands each entry to `onEntry`
 * until `signal` aborts or the platform ends the stream. Lines that are not entries are skipped.
 */
export async function followLogEntries(
  client: NimbusClient,
  name: string,
  query: { since?: string; limit?: number; invocation?: string },
  signal: AbortSignal,
  onEntry: (entry: LogEntry) => void | Promise<void>,
): Promise<void> {
  const res = await client.followLogs(name, query, signal);
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  const flushLine = async (line: string): Promise<void> => {
    if (!line.trim()) return;
    let entry: LogEntry;
    try {
      entry = JSON.parse(line) as LogEntry;
    } catch {
      return; // a partial or foreign line: skip it rather than stop following
    }
    await onEntry(entry);
  };
  for await (const chunk of res.body) {
    buffered += decoder.write(chunk as Buffer);
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      await flushLine(line);
    }
  }
  await flushLine(buffered + decoder.end());
}
