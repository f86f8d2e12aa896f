/**
 * Which sandbox to use: the best available (`auto`), or exactly one (failing when unavailable).
 * A leaf, so options and the CLI's help can name the modes without loading the sandbox code.
 */
export const SANDBOX_MODES = ['auto', 'bubblewrap', 'process'] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];
