import type { InvocationEnded } from '../../src/core/invocation.js';

/** An invocation-ended event of a warm sync invocation that answered 200; fields as given override. */
export function endedEvent(overrides: Partial<InvocationEnded> = {}): InvocationEnded {
  return {
    invocationId: 'inv-1',
    function: 'fn',
    version: 1,
    source: 'http',
    attempt: 1,
    startedAt: Date.UTC(2026, 11, 1),
    outcome: 'response',
    status: 200,
    coldStart: false,
    timings: { queueMs: 0.2, startMs: 0, handlerMs: 200.3, totalMs: 200.6 },
    bytesIn: 5,
    bytesOut: 7,
    method: 'POST',
    path: '/x?y=1',
    memoryMb: 256,
    ...overrides,
  };
}
