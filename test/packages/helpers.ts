import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';

/** A fresh directory under the OS temp dir; remove it with {@link removeDir}. */
export function tempDir(prefix = 'nimbus-pkg-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** An upload body with these bytes. */
export function body(bytes: Buffer | string): Readable {
  return Readable.from([Buffer.from(bytes)]);
}

/** A file to write: its content, and optionally its mode. */
export type TreeFile = string | { content: string; mode: number };

/** Writes `files` (relative path -> content) under `dir`. */
export async function writeTree(dir: string, files: Record<string, TreeFile>): Promise<void> {
  for (const [path, file] of Object.entries(files)) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, typeof file === 'string' ? file : file.content);
    if (typeof file !== 'string') await chmod(target, file.mode);
  }
}

/**
 * A tar.gz made by node-tar from `files`. With `folder`, the files sit under that top-level
 * directory (like `tar czf fn.tgz myfn/`); otherwise at the root (`tar czf fn.tgz -C myfn .`).
 */
export async function tgz(files: Record<string, TreeFile>, folder?: string): Promise<Buffer> {
  const dir = await tempDir('nimbus-tgz-');
  try {
    await writeTree(folder ? join(dir, folder) : dir, files);
    const chunks: Buffer[] = [];
    for await (const chunk of tar.c({ gzip: true, cwd: dir }, [folder ?? '.'])) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await removeDir(dir);
  }
}

/** One entry of an archive written by Python (which lets us write anything, hostile included). */
export interface PyEntry {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chr' | 'fifo';
  data?: string;
  /** File content of this many zero bytes instead of `data`. */
  zeros?: number;
  target?: string;
  mode?: number;
  /** zip only: record this uncompressed size instead of the real one (a "lying" zip). */
  lieSize?: number;
}

const PY_WRITER = String.raw`
import io, json, struct, sys, tarfile, zipfile
spec = json.loads(sys.argv[1])
out = io.BytesIO()
def payload(e):
    return b'\0' * e['zeros'] if 'zeros' in e else e.get('data', '').encode()
if spec['format'] == 'tgz':
    with tarfile.open(fileobj=out, mode='w:gz', format=tarfile.PAX_FORMAT) as t:
        for e in spec['entries']:
            info = tarfile.TarInfo(e['name'])
            info.mode = e.get('mode', 0o644)
            kind = e.get('type', 'file')
            if kind == 'file':
                data = payload(e)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
                continue
            info.type = {'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE,
                         'chr': tarfile.CHRTYPE, 'fifo': tarfile.FIFOTYPE}[kind]
            info.linkname = e.get('target', '')
            t.addfile(info)
else:
    lies = {}
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
        for e in spec['entries']:
            info = zipfile.ZipInfo(e['name'], date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            kind = e.get('type', 'file')
            unix = {'dir': 0o040755, 'symlink': 0o120777, 'fifo': 0o010644, 'chr': 0o020644}.get(kind, 0o100000 | e.get('mode', 0o644))
            info.external_attr = unix << 16
            z.writestr(info, e.get('target', '').encode() if kind == 'symlink' else payload(e))
            if 'lieSize' in e:
                lies[e['name'].encode()] = e['lieSize']
    data = bytearray(out.getvalue())
    for name, size in lies.items():
        # Local header: size at +22, name at +30. Central directory: size at +24, name at +46.
        for sig, size_at, name_at in ((b'PK\x03\x04', 22, 30), (b'PK\x01\x02', 24, 46)):
            i = data.find(sig)
            while i != -1:
                if data[i + name_at:i + name_at + len(name)] == name:
                    struct.pack_into('<I', data, i + size_at, size)
                i = data.find(sig, i + 1)
    out = io.BytesIO(bytes(data))
sys.stdout.buffer.write(out.getvalue())
`;

/** An archive written by /usr/bin/python3's tarfile or zipfile, byte for byte as described. */
export function pyArchive(format: 'tgz' | 'zip', entries: PyEntry[]): Buffer {
  return execFileSync('/usr/bin/python3', ['-c', PY_WRITER, JSON.stringify({ format, entries })], { maxBuffer: 64 * 1024 * 1024 });
}

/** Entries directly in `dir`; none when it does not exist. */
export async function entriesOf(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** What a data directory holds: packages, builds and temp work. */
export async function dataState(dataDir: string): Promise<{ packages: string[]; builds: string[]; tmp: string[] }> {
  return {
    packages: await entriesOf(join(dataDir, 'packages')),
    builds: await entriesOf(join(dataDir, 'builds')),
    tmp: await entriesOf(join(dataDir, 'tmp')),
  };
}
