import type { HistoryRecord } from '../../src/store/history-types.js';

/** A history record of a warm sync invocation at `startedAt`; fields as given override. */
export function historyRecord(id: string, startedAt: number, overrides: Partial<HistoryRecord> = {}): HistoryRecord {
  return {
    id,
    attempt: 1,
    function: 'fn',
    version: 1,
    source: 'http',
    method: 'GET',
    path: `/${id}`,
    startedAt,
    endedAt: startedAt + 210,
    durationMs: 210.5,
    billedMs: 210,
    memoryMb: 256,
    gbSeconds: 0.25 * 0.21,
    cpuMs: 4,
    bytesIn: 10,
    bytesOut: 100,
    coldStart: false,
    queueMs: 0.5,
    startMs: 0,
    handlerMs: 209.7,
    outcome: 'response',
    status: 'succeeded',
    httpStatus: 200,
    ...overrides,
  };
}
