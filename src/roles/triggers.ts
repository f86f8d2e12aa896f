import type { CompiledServerOptions } from '../config/server-options.js';
import type { CleanupStack } from '../core/cleanup-stack.js';
import { SecretEnv } from '../secrets/secret-env.js';
import { TriggerManager } from '../triggers/manager.js';
import { SOURCE_KINDS } from '../triggers/sources/index.js';
import type { AsyncRole } from './async.js';
import type { Foundation } from './foundation.js';

/** How often a trigger waiting for its function's backlog to drain looks again. */
const BACKLOG_POLL_MS = 200;

/** The trigger manager of a platform: its sources deliver through the async acceptor. */
export interface TriggersRole {
  manager: TriggerManager;
  /** Stops every source (before the async role closes: deliveries in progress finish first). */
  close(): Promise<void>;
}

/**
 * Starts the triggers role: a {@link TriggerManager} over the stored triggers, with sinks that
 * accept each event as an async invocation. Resolves once every trigger's source was asked to
 * start, without waiting for any broker to answer.
 */
export async function startTriggersRole(options: CompiledServerOptions, foundation: Foundation, asyncRole: Pick<AsyncRole, 'acceptor' | 'queue'>, started: CleanupStack): Promise<TriggersRole> {
  const { clock, logger } = options;
  const { store, feed, cipher } = foundation;
  const secretEnv = new SecretEnv({ secrets: store.secrets, cipher });
  const manager = new TriggerManager({
    triggers: store.triggers,
    kinds: SOURCE_KINDS,
    feed,
    secretValues: (names) => secretEnv.values(names),
    sink: {
      acceptor: asyncRole.acceptor,
      queue: asyncRole.queue,
      functionExists: async (name) => (await store.functions.getFunction(name)) !== undefined,
      clock,
      backlog: options.triggerBacklog,
      pollMs: BACKLOG_POLL_MS,
    },
    clock,
    logger: logger.child({ role: 'triggers' }),
  });
  started.defer(() => manager.close());
  await manager.start();
  return { manager, close: () => manager.close() };
}
