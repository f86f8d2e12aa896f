import type { FunctionRecord, FunctionRepository } from '../store/types.js';

/**
 * The gateway's view of deployed functions: looked up in the store once, then served from memory.
 * It follows the control plane's change feed (`function.deployed` → `set`, `function.removed` →
 * `delete`; wired in src/control/followers.ts), whichever process published the change.
 */
export class FunctionCache {
  private readonly records = new Map<string, FunctionRecord>();

  constructor(private readonly store: Pick<FunctionRepository, 'getFunction'>) {}

  /** The cached record, if any (no I/O: the hot path). */
  peek(name: string): FunctionRecord | undefined {
    return this.records.get(name);
  }

  /** Names of the cached functions: every deployed one once the composition root has loaded them. */
  names(): string[] {
    return [...this.records.keys()];
  }

  /** The record, from memory or the store. */
  async get(name: string): Promise<FunctionRecord | undefined> {
    const cached = this.records.get(name);
    if (cached) return cached;
    const record = await this.store.getFunction(name);
    // A deploy that finished while we read wins over what we read.
    if (record && (this.records.get(name)?.version ?? 0) < record.version) this.records.set(name, record);
    return this.records.get(name);
  }

  set(record: FunctionRecord): void {
    const current = this.records.get(record.spec.name);
    if (!current || current.version <= record.version) this.records.set(record.spec.name, record);
  }

  delete(name: string): void {
    this.records.delete(name);
  }
}
