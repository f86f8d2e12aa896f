import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FunctionViews } from '../../src/api/function-view.js';
import { DEFAULT_INSTANCE_LIMITS, type FunctionSpec } from '../../src/core/spec.js';
import type { FunctionRecord } from '../../src/store/types.js';
import { sampleSpec } from '../store/store-fixture.js';

const SPEC: FunctionSpec = sampleSpec('hello', { concurrency: 8, maxInstances: 3 });

const record = (spec: FunctionSpec): FunctionRecord => ({ spec, version: 1, build: { buildId: 'b', entry: 'index.js' }, createdAt: 0, updatedAt: 0 });
const views = new FunctionViews({ status: () => ({ instances: 0, ready: 0, desired: 0 }), instanceLimits: DEFAULT_INSTANCE_LIMITS });
const asyncPart = (spec: FunctionSpec) => {
  const { asyncConcurrency, maxRetries, retryDelay, maxEventAge, onSuccess, onFailure } = views.view(record(spec), 'http://nimbus.test');
  return { asyncConcurrency, maxRetries, retryDelay, maxEventAge, onSuccess, onFailure };
};

describe('function view: async settings', () => {
  test('in effect, times in seconds; a version stored before async existed shows the defaults', () => {
    assert.deepEqual(asyncPart(SPEC), { asyncConcurrency: 12, maxRetries: 2, retryDelay: 1, maxEventAge: 21_600, onSuccess: undefined, onFailure: undefined });
  });

  test("the version's own settings, and destinations only when set", () => {
    const view = views.view(record({ ...SPEC, asyncConcurrency: 2, maxRetries: 5, retryDelayMs: 1500, maxEventAgeMs: 3_600_000, onFailure: 'alert' }), 'http://nimbus.test');
    assert.deepEqual(
      [view.asyncConcurrency, view.maxRetries, view.retryDelay, view.maxEventAge, view.onFailure],
      [2, 5, 1.5, 3600, 'alert'],
    );
    assert.equal('onSuccess' in view, false, 'no key at all, so JSON has none');
  });
});
