/**
 * Kept for src/cli/secrets-api.ts, which imports SecretView from here: the secret workflow moved to
 * src/control/secret-service.ts, the view to src/api/secret-view.ts and the instances' environment
 * to ./secret-env.ts. The CLI moves to the public wire types (issue 11, item 7); then this file goes.
 */
export type { SecretView } from '../api/secret-view.js';
