import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStaticAssets, type StaticAssets } from '../http/static-assets.js';

/** Where the dashboard is served. */
export const UI_PREFIX = '/ui';

/**
 * The built dashboard (`npm run build` bundles src/ui into dist/ui; this file runs from
 * dist/src/roles).
 */
export const UI_BUILD_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../ui');

/**
 * Starts the dashboard role: the built single-page app under `/ui`, open (it holds no data: every
 * figure it shows comes from the API, with the token the user signs in with).
 */
export async function startUiRole(dir: string = UI_BUILD_DIR): Promise<StaticAssets> {
  return loadStaticAssets(dir, { prefix: UI_PREFIX });
}
