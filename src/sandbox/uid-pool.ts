import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from './process-alive.js';

/** A range of host uids reserved for instances. */
export interface UidRange {
  first: number;
  count: number;
}

/**
 * Where instance uids start when the platform runs as root. Far above regular users (1000-60000),
 * systemd's dynamic users (61184-65519), the `nobody` user (65534) and the subordinate ranges
 * useradd hands out (100000 onwards, 65536 per user), inside the range systemd leaves to
 * containers (docs: systemd.io/UIDS-GIDS).
 */
export const INSTANCE_UID_RANGE: UidRange = { first: 1_900_000_000, count: 65_536 };

/** Claims of one host (shared by every platform on it, so two never hand out the same uid). */
export const DEFAULT_CLAIM_DIR = '/run/nimbus/uids';

/**
 * Hands out host uids, one per running instance, so no two instances (of one function or of two)
 * and no host service share a uid: none can connect to another's socket, signal it, or read its
 * memory through /proc. A uid is claimed with a file named after it, created exclusively and
 * holding the claiming platform's pid, so platforms on one host never collide; claims of platforms
 * that died (kill -9) are taken over.
 */
export class UidPool {
  private next = 0;
  private readonly held = new Set<number>();

  constructor(
    readonly range: UidRange = INSTANCE_UID_RANGE,
    private readonly claimDir: string = DEFAULT_CLAIM_DIR,
    private readonly isAlive: (pid: number) => boolean = processAlive,
  ) {
    mkdirSync(claimDir, { recursive: true, mode: 0o700 });
  }

  /** Claims a free uid; throws when the whole range is in use. */
  acquire(): number {
    for (let tried = 0; tried < this.range.count; tried++) {
      const uid = this.range.first + ((this.next + tried) % this.range.count);
      if (this.held.has(uid) || !this.claim(uid)) continue;
      this.next = (this.next + tried + 1) % this.range.count;
      this.held.add(uid);
      return uid;
    }
    throw new Error(`all ${this.range.count} instance uids from ${this.range.first} are in use`);
  }

  /** Gives a uid back once its instance has exited. */
  release(uid: number): void {
    if (!this.held.delete(uid)) return;
    try {
      unlinkSync(this.claimFile(uid));
    } catch {
      // already gone: nothing to give back
    }
  }

  /** Uids this pool holds now. */
  get inUse(): number {
    return this.held.size;
  }

  private claimFile(uid: number): string {
    return join(this.claimDir, String(uid));
  }

  private claim(uid: number): boolean {
    const file = this.claimFile(uid);
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner: number;
    try {
      owner = Number(readFileSync(file, 'utf8'));
    } catch {
      return false; // released meanwhile; the next attempt may take it
    }
    if (Number.isInteger(owner) && owner > 0 && this.isAlive(owner)) return false;
    // The claim of a platform that is gone (or a torn write): take it over.
    try {
      unlinkSync(file);
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return true;
    } catch {
      return false;
    }
  }
}
