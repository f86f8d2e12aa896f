import type { RuntimeName } from '../core/spec.js';

/** How to start a runtime's shim process. Shims take everything else from the protocol. */
export interface RuntimeAdapter {
  readonly name: RuntimeName;
  /** Host directory holding the runtime's shim files (the entry point and what it loads). */
  readonly shimDir: string;
  /**
   * The same runtime with its shim files read from `dir`: a copy the backend places where the
   * sandbox user can read it, whatever folder Nimbus itself is installed in.
   */
  withShimDir(dir: string): RuntimeAdapter;
  /** Command line of a generic (not yet specialised) instance with this memory limit. */
  command(options: { memoryMb: number }): { command: string; args: string[] };
  /** Host directories the runtime reads (its shim, an interpreter installed outside /usr). */
  runtimePaths(): string[];
}
