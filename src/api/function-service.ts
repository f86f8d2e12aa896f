/**
 * Kept for src/cli/client.ts, which imports FunctionView from here: the deploy workflow moved to
 * src/control/function-service.ts and the view to ./function-view.ts. The CLI moves to the public
 * wire types (issue 11, item 7); then this file goes.
 */
export type { FunctionView } from './function-view.js';
