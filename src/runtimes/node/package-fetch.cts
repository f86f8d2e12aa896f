/**
 * Fetches a function's built code into a pod (see InitRequest.package): a pod shares no
 * filesystem with the platform, so the code comes over HTTP, once, with a one-time token.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import type { PackageBundle, PackageSource } from './constants.cjs';

/** How long the download may take: it is on the cold-start path, and the platform is near. */
const FETCH_TIMEOUT_MS = 10_000;

/** Downloads, checks and writes the package; answers the folder it is in. */
export async function fetchPackage(source: PackageSource): Promise<string> {
  const res = await fetch(source.url, { headers: { authorization: `Bearer ${source.token}` }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`the platform answered ${res.status} for the function's code`);
  const body = Buffer.from(await res.arrayBuffer());
  const digest = createHash('sha256').update(body).digest('hex');
  if (digest !== source.sha256) throw new Error(`the function's code arrived with sha256 ${digest}, not ${source.sha256}`);
  const bundle = JSON.parse(body.toString('utf8')) as PackageBundle;
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-code-'));
  for (const file of bundle.files) {
    const relative = normalize(file.path);
    // The platform made the bundle, but a path may never leave the folder.
    if (isAbsolute(relative) || relative === '..' || relative.startsWith(`..${sep}`)) throw new Error(`unsafe path in the function's code: ${file.path}`);
    const target = join(dir, relative);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(file.data, 'base64'));
    chmodSync(target, file.mode & 0o755);
  }
  return dir;
}
