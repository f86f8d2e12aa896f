/**
 * Serves functions' built code to pods, by content hash, each download with a one-time token: a
 * pod shares no filesystem with the control plane, and a pod of one function must not be able to
 * fetch another's code (it never learns another token). Builds never change once made, so each is
 * bundled once and kept in memory while its function has pods.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { PackageBundle, PackageSource } from '../../core/runtime-protocol.js';

/** Where the package server listens, and the URL pods reach it at. */
export interface PackageServerOptions {
  /** @default '0.0.0.0' (pods reach the control plane through its Service or pod IP) */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** URL pods use, e.g. `http://nimbus.nimbus-system.svc:8081`; default: http://<host>:<port>. */
  publicUrl?: string;
  /** How long a token stays valid if unused. @default 60000 */
  tokenTtlMs?: number;
}

interface Bundle {
  body: Buffer;
  sha256: string;
}

async function filesOf(root: string, dir = root): Promise<PackageBundle['files']> {
  const files: PackageBundle['files'] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesOf(root, path)));
    else if (entry.isFile()) {
      const [data, info] = await Promise.all([readFile(path), stat(path)]);
      files.push({ path: relative(root, path), mode: info.mode & 0o777, data: data.toString('base64') });
    }
  }
  return files;
}

export class PackageServer {
  private readonly server: Server;
  private readonly bundles = new Map<string, Promise<Bundle>>();
  private readonly bySha = new Map<string, Bundle>();
  private readonly tokens = new Map<string, { sha256: string; expires: number }>();
  private url: string | undefined;

  constructor(private readonly clock: Clock, private readonly options: PackageServerOptions = {}) {
    this.server = createServer((req, res) => {
      const match = (req.url ?? '').match(/^\/packages\/([a-f0-9]{64})$/);
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const grant = this.tokens.get(token);
      const bundle = match ? this.bySha.get(match[1]!) : undefined;
      // Compared in constant time, though a token is also only a map key: nothing to learn from timing.
      const allowed = grant !== undefined && match !== null && grant.expires > this.clock.now() && timingSafeEqual(Buffer.from(grant.sha256), Buffer.from(match[1]!));
      if (!allowed || !bundle || req.method !== 'GET') {
        res.writeHead(allowed ? 404 : 403, { 'content-type': 'text/plain' }).end(allowed ? 'no such package\n' : 'a valid one-time token is needed\n');
        return;
      }
      this.tokens.delete(token);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bundle.body.length }).end(bundle.body);
    });
  }

  /** Starts listening; answers the URL pods use. */
  async listen(): Promise<string> {
    const host = this.options.host ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, resolve);
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = this.options.publicUrl ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    return this.url;
  }

  /** A one-time source of the code in `codeDir`, for one pod's init. */
  async grant(codeDir: string): Promise<PackageSource> {
    if (!this.url) throw new Error('the package server is not listening');
    let bundle = this.bundles.get(codeDir);
    if (!bundle) {
      bundle = (async () => {
        const body = Buffer.from(JSON.stringify({ files: await filesOf(codeDir) } satisfies PackageBundle));
        return { body, sha256: createHash('sha256').update(body).digest('hex') };
      })();
      this.bundles.set(codeDir, bundle);
      bundle.catch(() => this.bundles.delete(codeDir));
    }
    const { sha256, body } = await bundle;
    this.bySha.set(sha256, { sha256, body });
    const now = this.clock.now();
    for (const [token, grant] of this.tokens) if (grant.expires <= now) this.tokens.delete(token);
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { sha256, expires: now + (this.options.tokenTtlMs ?? 60_000) });
    return { url: `${this.url}/packages/${sha256}`, token, sha256 };
  }

  /** Forgets a build (its function has no pods left to start). */
  forget(codeDir: string): void {
    void this.bundles.get(codeDir)?.then((b) => this.bySha.delete(b.sha256), () => undefined);
    this.bundles.delete(codeDir);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
