import type { RuntimeName } from '../core/spec.js';

/** How to start a runtime's shim process. Shims take everything else from the protocol. */
export interface RuntimeAdapter {
  readonly name: RuntimeName;
  /** Command line of a generic (not yet specialised) instance with this memory limit. */
  command(options: { memoryMb: number }): { command: string; args: string[] };
  /** Host directories the runtime reads (its shim, an interpreter installed outside /usr). */
  runtimePaths(): string[];
}
