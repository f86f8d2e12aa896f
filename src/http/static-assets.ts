import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NimbusError } from '../core/errors.js';
import { sendError } from './respond.js';

/** Content types of the files a built dashboard holds; other files are not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

/** Types worth compressing (text); images are already compressed. */
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.map']);

/**
 * Headers on every answer under the prefix, errors included. The page runs only scripts and styles
 * of its own origin (no inline script, nothing from elsewhere), talks only to its own origin, and
 * cannot be framed; it sends no Referer beyond the origin.
 */
export const STATIC_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** One file held in memory, with its gzip form when that is smaller. */
interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
  contentType: string;
  etag: string;
  cacheControl: string;
}

/** Options of {@link loadStaticAssets}. */
export interface StaticAssetOptions {
  /** The URL prefix the files are served under, without a trailing slash (`/ui`). */
  prefix: string;
  /** The file answered at `prefix` and `prefix/` (and for no other name). @default index.html */
  index?: string;
  /**
   * Names whose content can change between builds under the same name: answered with
   * `no-cache` (revalidate with the ETag). Every other file is named by its content hash at build
   * time and cached for a year. @default [index]
   */
  mutable?: readonly string[];
}

/** A request handler serving a fixed set of files. */
export interface StaticAssets {
  /** Answers a request whose path starts with the prefix. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The URL paths served (for tests and messages). */
  paths(): string[];
}

/**
 * Reads every file of `dir` (one level, no subfolders) into memory once and serves them under
 * `prefix`: GET and HEAD only, ETag revalidation, gzip when the client takes it, and the strict
 * {@link STATIC_SECURITY_HEADERS}. A path is looked up by exact name in that fixed set, so no request
 * reaches the file system (no traversal, no symlinks followed at request time). A missing `dir`
 * serves nothing: every path answers 404 saying the dashboard is not built.
 */
export async function loadStaticAssets(dir: string, options: StaticAssetOptions): Promise<StaticAssets> {
  const index = options.index ?? 'index.html';
  const mutable = new Set(options.mutable ?? [index]);
  const assets = new Map<string, Asset>();
  let built = true;
  try {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const contentType = CONTENT_TYPES[extname(entry.name)];
      if (!entry.isFile() || contentType === undefined) continue;
      const body = await readFile(join(dir, entry.name));
      const gzip = COMPRESSIBLE.has(extname(entry.name)) ? gzipSync(body, { level: 9 }) : undefined;
      assets.set(entry.name, {
        body,
        gzip: gzip !== undefined && gzip.length < body.length ? gzip : undefined,
        contentType,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        cacheControl: mutable.has(entry.name) ? 'no-cache' : 'public, max-age=31536000, immutable',
      });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    built = false;
  }
  const { prefix } = options;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    for (const [name, value] of Object.entries(STATIC_SECURITY_HEADERS)) res.setHeader(name, value);
    const path = (req.url ?? '/').split('?')[0] ?? '';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendError(res, new NimbusError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${prefix}; use GET or HEAD.`));
      return;
    }
    const name = path === prefix || path === `${prefix}/` ? index : path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : undefined;
    const asset = name === undefined ? undefined : assets.get(name);
    if (asset === undefined) {
      const hint = built ? `The dashboard is at ${prefix}/.` : 'The dashboard is not built: run npm run build.';
      sendError(res, new NimbusError('NOT_FOUND', `Nothing at ${path.slice(0, 200)}. ${hint}`));
      return;
    }
    const gzip = asset.gzip !== undefined && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.setHeader('content-type', asset.contentType);
    res.setHeader('cache-control', asset.cacheControl);
    res.setHeader('etag', asset.etag);
    if (asset.gzip !== undefined) res.setHeader('vary', 'accept-encoding');
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304).end();
      return;
    }
    const body = gzip ? (asset.gzip as Buffer) : asset.body;
    if (gzip) res.setHeader('content-encoding', 'gzip');
    res.setHeader('content-length', body.length);
    res.writeHead(200);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  return { handle, paths: () => [...assets.keys()].map((name) => `${prefix}/${name}`) };
}
