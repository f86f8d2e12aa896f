import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NimbusError, toNimbusError } from '../core/errors.js';
import type { ExecProtocol, RuntimeName } from '../core/spec.js';
import type { BuildRef } from '../store/types.js';
import { bundleNode, CJS_BUNDLE, ESM_BUNDLE } from './bundle.js';
import { resolveHandler } from './detect.js';
import { exists, makeWorkDir, publishDir, removeTree } from './fs-util.js';
import type { ResolvedHandler } from './handler-files.js';
import { mirrorTree } from './mirror.js';
import type { Builder, BuildOptions, BuildResult, PackageRepository } from './types.js';

/**
 * Part of every build id. Bump it whenever the builder's output for the same input changes
 * (esbuild options, layout), so old build directories are not reused for new builds.
 */
export const BUILDER_VERSION = '2';

/**
 * Builds packages into `<dataDir>/builds/<buildId>/`: a mirror of the package tree (hard
 * links), plus for node a bundle of the entry at the root (see {@link bundleNode}). Python
 * code and exec programs run as they are.
 *
 * The build id is derived from the package, runtime, entry and export, so a build is made once
 * and reused by every deploy that asks for the same thing. Builds happen under `<dataDir>/tmp/`
 * and appear under builds/ with one atomic rename, complete or not at all.
 */
export class EsbuildBuilder implements Builder {
  private readonly buildsDir: string;
  private readonly tmpDir: string;

  constructor(
    dataDir: string,
    private readonly packages: Pick<PackageRepository, 'has' | 'treeDir'>,
  ) {
    this.buildsDir = join(dataDir, 'builds');
    this.tmpDir = join(dataDir, 'tmp');
  }

  async build(sha256: string, options: BuildOptions): Promise<BuildResult> {
    try {
      if (!(await this.packages.has(sha256))) {
        throw new NimbusError('PACKAGE_NOT_FOUND', `No package ${sha256.slice(0, 64)} was uploaded; upload the code with POST /api/v1/packages and use the sha256 it returns.`, {
          details: { field: 'package' },
        });
      }
      const tree = this.packages.treeDir(sha256);
      const resolved = await resolveHandler(tree, options);
      const buildId = buildIdFor(sha256, resolved);
      const dir = this.buildDir(buildId);
      if (!(await exists(dir))) await this.create(tree, resolved, dir);
      const entry = await builtEntry(dir, resolved);
      const build: BuildRef = { buildId, entry, ...(entry !== resolved.entry ? { source: resolved.entry } : {}), export: resolved.export };
      return { runtime: resolved.runtime, handler: resolved.handler, build };
    } catch (err) {
      throw toNimbusError(err);
    }
  }

  buildDir(buildId: string): string {
    // The id becomes a path: never let anything else through.
    if (!/^[a-f0-9]{32}$/.test(buildId)) throw new NimbusError('INVALID_REQUEST', `${JSON.stringify(buildId.slice(0, 40))} is not a build id.`);
    return join(this.buildsDir, buildId);
  }

  private async create(tree: string, resolved: ResolvedHandler, dir: string): Promise<void> {
    const work = await makeWorkDir(this.tmpDir, 'build');
    try {
      const code = join(work, 'code');
      await mirrorTree(tree, code);
      if (resolved.runtime === 'node') await bundleNode(code, resolved.entry);
      // Owner-only: instances see their build through hard links in the run dir, never through here.
      await mkdir(this.buildsDir, { recursive: true, mode: 0o700 });
      await publishDir(code, dir);
    } finally {
      await removeTree(work);
    }
  }
}

/** First 32 hex digits of the sha256 of everything that determines the build's output. */
export function buildIdFor(packageSha256: string, resolved: Pick<ResolvedHandler, 'runtime' | 'entry' | 'export'>): string {
  return createHash('sha256')
    .update([BUILDER_VERSION, packageSha256, resolved.runtime, resolved.entry, resolved.export ?? ''].join('\0'))
    .digest('hex')
    .slice(0, 32);
}

/** What the runtime loads: the bundle for node (CommonJS unless the code needed ESM), the module for python, the command for exec. */
async function builtEntry(dir: string, resolved: ResolvedHandler): Promise<string> {
  // Python loads the module file, exec runs the command: only node has a bundle.
  if (resolved.runtime !== 'node') return resolved.entry;
  return (await exists(join(dir, CJS_BUNDLE))) ? CJS_BUNDLE : ESM_BUNDLE;
}
