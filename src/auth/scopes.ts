/**
 * Kept for src/cli/commands/tokens.ts, which imports SCOPES from here: the scopes live in
 * src/core/scope.ts, and each API route declares the one it needs (src/api/route-table.ts). The CLI
 * moves to the public wire types (issue 11, item 7); then this file goes.
 */
export { SCOPES, type Scope, scopeAllows } from '../core/scope.js';
