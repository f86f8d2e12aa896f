import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import type { TriggerDefinition, TriggerRecord, TriggerRepository } from '../store/trigger-types.js';
import type { FunctionRepository, SecretRepository } from '../store/types.js';
import type { SourceKind } from '../triggers/types.js';
import type { ChangeFeed } from './change-feed.js';
import { notFound as functionNotFound } from './function-service.js';
import { assertTriggerName, invalidTrigger, parseTriggerInput, parseTriggerPatch, type TriggerInput } from './trigger-input.js';

/** What {@link TriggerService} needs. */
export interface TriggerServiceDeps {
  triggers: TriggerRepository;
  /** Read to check a trigger's function exists. */
  functions: Pick<FunctionRepository, 'getFunction'>;
  /** Read to check the secrets a trigger's settings name. */
  secrets: Pick<SecretRepository, 'listSecrets'>;
  /** Decrypts the secrets a trigger's settings name, for the kind's check to reach the broker with. */
  secretValues(names: readonly string[]): Promise<Record<string, string>>;
  /** The kinds of source this platform knows, by type (src/triggers/sources/index.ts). */
  kinds: ReadonlyMap<string, SourceKind<unknown>>;
  /** Where changes are told (the trigger manager follows them). */
  feed: Pick<ChangeFeed, 'publish'>;
  clock: Clock;
}

/**
 * The control plane's trigger operations. Everything is checked before anything is stored: the
 * name, the function, the type, the settings (by the kind's schema: a cron expression and its
 * zone, a broker's subject…), no credentials in a URL, the secrets named, and (for a new trigger or
 * new settings) that the source can consume: its broker answers, its stream or exchange exists
 * (the kind's `check`). Every change is
 * stored, then published (`trigger.changed`, `trigger.removed`); the trigger manager starts and
 * stops sources from the feed. A function's triggers are removed with the function.
 */
export class TriggerService {
  constructor(private readonly deps: TriggerServiceDeps) {}

  /** Creates a trigger (`POST`). @throws NimbusError TRIGGER_EXISTS when the name is taken. */
  async create(name: string, body: unknown): Promise<TriggerRecord> {
    const definition = await this.check(name, parseTriggerInput(body));
    await this.checkSource(definition);
    const record = await this.deps.triggers.createTrigger(definition, this.deps.clock.now());
    if (!record) {
      throw new NimbusError('TRIGGER_EXISTS', `A trigger named "${name}" exists already. Remove it first (nimbus trigger rm ${name}), or replace it with PUT /api/v1/triggers/${name}.`, {
        details: { field: 'name' },
      });
    }
    await this.deps.feed.publish({ type: 'trigger.changed', record });
    return record;
  }

  /** Creates or replaces a trigger (`PUT`); a replaced trigger keeps its state unless the body sets one. */
  async put(name: string, body: unknown): Promise<{ record: TriggerRecord; created: boolean }> {
    const input = parseTriggerInput(body);
    const previous = input.state === undefined ? await this.deps.triggers.getTrigger(name) : undefined;
    const definition = await this.check(name, { ...input, state: input.state ?? previous?.state });
    await this.checkSource(definition);
    const result = await this.deps.triggers.putTrigger(definition, this.deps.clock.now());
    await this.deps.feed.publish({ type: 'trigger.changed', record: result.record });
    return result;
  }

  /** Changes the fields given (`PATCH`); settings are replaced as a whole. */
  async update(name: string, body: unknown): Promise<TriggerRecord> {
    const patch = parseTriggerPatch(body);
    const previous = await this.get(name);
    if (patch.type !== undefined && patch.type !== previous.type && patch.settings === undefined) {
      throw new NimbusError('INVALID_TRIGGER', `settings: changing the type from ${previous.type} to ${patch.type} needs the new type's settings.`, { details: { field: 'settings' } });
    }
    const merged: TriggerInput = {
      function: patch.function ?? previous.function,
      type: patch.type ?? previous.type,
      settings: patch.settings ?? previous.settings,
      state: patch.state ?? previous.state,
    };
    const definition = await this.check(name, merged);
    // A change of function or state alone leaves the source as it is: only new settings are checked.
    if (patch.settings !== undefined || merged.type !== previous.type) await this.checkSource(definition);
    const { record } = await this.deps.triggers.putTrigger(definition, this.deps.clock.now());
    await this.deps.feed.publish({ type: 'trigger.changed', record });
    return record;
  }

  async get(name: string): Promise<TriggerRecord> {
    assertTriggerName(name);
    const record = await this.deps.triggers.getTrigger(name);
    if (!record) throw notFound(name);
    return record;
  }

  /** All triggers, or a function's, ordered by name. */
  list(filter: { function?: string } = {}): Promise<TriggerRecord[]> {
    return this.deps.triggers.listTriggers(filter);
  }

  /** Removes the trigger; its source stops (the manager follows `trigger.removed`). */
  async remove(name: string): Promise<void> {
    assertTriggerName(name);
    if (!(await this.deps.triggers.deleteTrigger(name))) throw notFound(name);
    await this.deps.feed.publish({ type: 'trigger.removed', name });
  }

  /** Stops the trigger's source until {@link resume}; nothing is lost that its broker keeps. */
  pause(name: string): Promise<TriggerRecord> {
    return this.setState(name, 'paused');
  }

  resume(name: string): Promise<TriggerRecord> {
    return this.setState(name, 'active');
  }

  private async setState(name: string, state: 'active' | 'paused'): Promise<TriggerRecord> {
    const previous = await this.get(name);
    if (previous.state === state) return previous;
    const { record } = await this.deps.triggers.putTrigger({ ...definitionOf(previous), state }, this.deps.clock.now());
    await this.deps.feed.publish({ type: 'trigger.changed', record });
    return record;
  }

  /** Checks a definition against the platform; answers it with the settings as the kind's schema filled them in. */
  private async check(name: string, input: TriggerInput): Promise<TriggerDefinition> {
    assertTriggerName(name);
    const kind = this.deps.kinds.get(input.type);
    if (!kind) {
      throw new NimbusError('INVALID_TRIGGER', `type: unknown trigger type ${JSON.stringify(input.type.slice(0, 40))}. Known types: ${[...this.deps.kinds.keys()].sort().join(', ')}.`, {
        details: { field: 'type' },
      });
    }
    const parsed = kind.settings.safeParse(input.settings);
    if (!parsed.success) throw invalidTrigger(parsed.error.issues[0], undefined, 'settings');
    refuseCredentialsInUrl(parsed.data);
    await this.checkSecrets(kind.secretNames(parsed.data));
    if (!(await this.deps.functions.getFunction(input.function))) {
      throw new NimbusError('FUNCTION_NOT_FOUND', functionNotFound(input.function).message, { details: { field: 'function' } });
    }
    return { name, function: input.function, type: input.type, settings: parsed.data, state: input.state ?? 'active' };
  }

  /**
   * Refuses settings the source could not consume with now (TRIGGER_SOURCE_UNREACHABLE), before
   * anything is stored: a typo in a URL, a stream or an exchange is answered at once instead of
   * becoming a trigger that is `failing` forever. Stored triggers are not checked again at start.
   */
  private async checkSource(definition: TriggerDefinition): Promise<void> {
    const kind = this.deps.kinds.get(definition.type);
    if (kind?.check === undefined) return;
    const secretNames = kind.secretNames(definition.settings);
    const problem = await kind.check(definition.settings, await this.deps.secretValues(secretNames));
    if (problem === undefined) return;
    const field = secretNames.length > 0 ? 'settings.urlSecret' : 'settings.url';
    throw new NimbusError('TRIGGER_SOURCE_UNREACHABLE', `${field}: the ${definition.type} trigger cannot consume: ${problem}. Nothing was stored; fix the settings or start the broker, then try again.`, {
      details: { field },
    });
  }

  private async checkSecrets(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const existing = new Set((await this.deps.secrets.listSecrets()).map((s) => s.name));
    const missing = names.find((name) => !existing.has(name));
    if (missing !== undefined) {
      throw new NimbusError('UNKNOWN_SECRET', `settings.urlSecret: no secret named ${missing} exists. Set it first with: nimbus secret set ${missing}`, {
        details: { field: 'settings.urlSecret', secret: missing },
      });
    }
  }
}

/**
 * A broker URL with a user or password in it would be stored and shown in plain text: refused,
 * whatever the kind. The whole URL goes in a secret instead (`urlSecret`).
 */
function refuseCredentialsInUrl(settings: unknown): void {
  const url = (settings as { url?: unknown } | null)?.url;
  if (typeof url !== 'string') return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new NimbusError('INVALID_TRIGGER', `settings.url: not a URL: ${JSON.stringify(url.slice(0, 100))}.`, { details: { field: 'settings.url' } });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new NimbusError('INVALID_TRIGGER', 'settings.url: the URL carries credentials, which would be stored in plain text. Put the URL in a secret and pass --url-secret (settings.urlSecret) instead.', {
      details: { field: 'settings.url' },
    });
  }
}

function definitionOf(record: TriggerRecord): TriggerDefinition {
  return { name: record.name, function: record.function, type: record.type, settings: record.settings, state: record.state };
}

function notFound(name: string): NimbusError {
  return new NimbusError('TRIGGER_NOT_FOUND', `No trigger named "${name}" exists. See the list with: nimbus trigger ls`);
}
