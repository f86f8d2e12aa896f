import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildFailure, type Message } from 'esbuild';
import { NimbusError } from '../core/errors.js';
import { exists } from './fs-util.js';

/** File names of the bundle at the build root; the `__nimbus_` prefix keeps clear of user files. */
export const CJS_BUNDLE = '__nimbus_bundle.cjs';
export const ESM_BUNDLE = '__nimbus_bundle.mjs';
/** Every file a node build adds: the bundle and its source map (`<bundle>.map`). */
const BUILT_FILES = [CJS_BUNDLE, ESM_BUNDLE, `${CJS_BUNDLE}.map`, `${ESM_BUNDLE}.map`];

/** How many esbuild errors a BUILD_FAILED message quotes. */
const MAX_QUOTED_ERRORS = 5;

/**
 * ESM bundles get a real `require`, so bundled CommonJS dependencies can still load node
 * built-ins and external native packages.
 */
const ESM_REQUIRE_BANNER = "import { createRequire as __nimbusCreateRequire } from 'node:module';\nconst require = __nimbusCreateRequire(import.meta.url);";

/**
 * Bundles the node entry `entry` (relative to `root`) with its imports into one file at `root`,
 * with its source map beside it (`<bundle>.map`), and returns the bundle's name. CommonJS is preferred: the shim loads it with `require()`,
 * several times faster than `import()`. Code using top-level await cannot be CommonJS, so only
 * then is the bundle ESM.
 *
 * Packages with native addons are left unbundled: their `.node` files are found relative to
 * their own folder, which the build's node_modules (a mirror of the package's) still has.
 *
 * @throws BUILD_FAILED quoting esbuild's first errors as `file:line:col: text`; when a package
 *   cannot be resolved, the message says to run `npm install` before deploying.
 */
export async function bundleNode(root: string, entry: string): Promise<string> {
  // The bundle names are reserved: a user file so named would be a hard link into the immutable
  // package (never to be written through), and would make the built entry ambiguous.
  for (const name of BUILT_FILES) await rm(join(root, name), { force: true });
  const external = ['*.node', ...(await nativePackages(root))];
  try {
    return await bundleAs(root, entry, 'cjs', external);
  } catch (err) {
    if (!isBuildFailure(err) || !err.errors.every((e) => e.text.includes('Top-level await is currently not supported'))) {
      throw buildFailed(err, entry);
    }
  }
  try {
    return await bundleAs(root, entry, 'esm', external);
  } catch (err) {
    throw buildFailed(err, entry);
  }
}

async function bundleAs(root: string, entry: string, format: 'cjs' | 'esm', external: string[]): Promise<string> {
  const name = format === 'cjs' ? CJS_BUNDLE : ESM_BUNDLE;
  const result = await build({
    entryPoints: [join(root, entry)],
    absWorkingDir: root,
    outfile: join(root, name),
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    keepNames: true,
    // A map beside the bundle, without a sourceMappingURL comment and without the sources' text:
    // node never reads it while loading, and the shim reads it only to report a stack with the
    // user's own files and lines (src/runtimes/node/stack-map.cts).
    sourcemap: 'external',
    sourcesContent: false,
    logLevel: 'silent',
    external,
    ...(format === 'esm' ? { banner: { js: ESM_REQUIRE_BANNER } } : {}),
    // Written by us with 'wx', so a new file is created and nothing existing is written through.
    write: false,
  });
  for (const output of result.outputFiles) await writeFile(output.path, output.contents, { flag: 'wx', mode: 0o644 });
  return name;
}

/**
 * Names of the packages in `root/node_modules` that contain a native addon (a `binding.gyp` or
 * a `.node` file), including scoped ones (`@scope/name`).
 */
async function nativePackages(root: string): Promise<string[]> {
  const modules = join(root, 'node_modules');
  if (!(await exists(modules))) return [];
  const names: string[] = [];
  for (const dirent of await readdir(modules, { withFileTypes: true })) {
    if (!dirent.isDirectory() || dirent.name.startsWith('.')) continue;
    const scoped = dirent.name.startsWith('@')
      ? (await readdir(join(modules, dirent.name), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => `${dirent.name}/${d.name}`)
      : [dirent.name];
    for (const name of scoped) {
      if ((await exists(join(modules, name, 'binding.gyp'))) || (await containsAddon(join(modules, name)))) names.push(name);
    }
  }
  return names;
}

async function containsAddon(dir: string): Promise<boolean> {
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    if (dirent.isFile() && dirent.name.endsWith('.node')) return true;
    // A dependency's own node_modules holds other packages, judged on their own.
    if (dirent.isDirectory() && dirent.name !== 'node_modules' && (await containsAddon(join(dir, dirent.name)))) return true;
  }
  return false;
}

function isBuildFailure(err: unknown): err is BuildFailure {
  return err instanceof Error && Array.isArray((err as Partial<BuildFailure>).errors);
}

/** Where an esbuild message points, as `file:line:col` (1-based column, like editors). */
function where(message: Message): string {
  const loc = message.location;
  return loc ? `${loc.file}:${loc.line}:${loc.column + 1}` : '';
}

function buildFailed(err: unknown, entry: string): unknown {
  if (!isBuildFailure(err)) return err;
  const errors = err.errors.map((e) => ({ where: where(e), text: e.text }));
  const missing = [
    ...new Set(
      err.errors
        .map((e) => /^Could not resolve "([^"]+)"/.exec(e.text)?.[1])
        .filter((spec): spec is string => spec !== undefined && !spec.startsWith('.') && !spec.startsWith('/')),
    ),
  ];
  if (missing.length > 0) {
    const at = err.errors.find((e) => e.text.startsWith('Could not resolve'));
    return new NimbusError(
      'BUILD_FAILED',
      `Cannot find package ${missing.map((m) => JSON.stringify(m)).join(', ')}${at ? ` (imported at ${where(at)})` : ''}. Run \`npm install\` in the function folder before deploying, so node_modules is part of the package.`,
      { details: { errors } },
    );
  }
  const quoted = errors.slice(0, MAX_QUOTED_ERRORS).map((e) => (e.where ? `${e.where}: ${e.text}` : e.text));
  const more = errors.length > MAX_QUOTED_ERRORS ? `\n(and ${errors.length - MAX_QUOTED_ERRORS} more)` : '';
  return new NimbusError('BUILD_FAILED', `Bundling ${entry} failed:\n${quoted.join('\n')}${more}\nFix the code and deploy again.`, {
    details: { errors },
  });
}
