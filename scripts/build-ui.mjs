// Bundles the dashboard (src/ui) into dist/ui for the platform to serve at /ui: one script and one
// stylesheet named by their content hash (cached for a year), and index.html naming them (served
// with no-cache). Run by `npm run build` after tsc; takes well under a second.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/ui');
const out = join(root, 'dist/ui');
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { app: join(source, 'main.ts') },
  outdir: out,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  tsconfig: join(source, 'tsconfig.json'),
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
const script = outputs.find((name) => name.endsWith('.js'));
const style = outputs.find((name) => name.endsWith('.css'));
if (script === undefined || style === undefined) throw new Error(`the dashboard build made no script or stylesheet: ${outputs.join(', ')}`);
const page = readFileSync(join(source, 'index.html'), 'utf8').replace('{{script}}', `/ui/${script}`).replace('{{style}}', `/ui/${style}`);
writeFileSync(join(out, 'index.html'), page);
