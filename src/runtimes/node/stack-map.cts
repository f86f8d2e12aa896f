/**
 * Makes error stacks name the user's files. Node code runs as one esbuild bundle
 * (`__nimbus_bundle.cjs`), built with an external source map next to it; the frames of a stack the
 * shim reports (a load failure, a handler's error, an uncaught exception) are mapped back to the
 * user's sources, written relative to the code directory (`index.js:3:9`).
 *
 * The map is read only when a stack is first reported, never on the cold-start path: Node's own
 * `--enable-source-maps` would read and parse it while loading the bundle, for every instance.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { sep } from 'node:path';

interface Target {
  /** Absolute path of the code directory, with a trailing separator. */
  codeDir: string;
  /** Absolute path of the loaded file (the bundle, or the user's own file when not bundled). */
  file: string;
  /** The parsed map; undefined until first needed, null when there is none. */
  map?: SourceMap | null;
}

let target: Target | undefined;

/** A stack frame's location: `(/code/x.cjs:3:9)`, `at /code/x.cjs:3:9`, or with `file://`. */
const FRAME_LOCATION = /(?:file:\/\/)?(\/[^\s():]*):(\d+):(\d+)/g;

/**
 * Says which file the shim loads from `codeDir`; stacks reported from now on are mapped through
 * its source map (`<file>.map`), when it has one.
 */
export function mapStacksOf(codeDir: string, file: string): void {
  target = { codeDir: codeDir.endsWith(sep) ? codeDir : `${codeDir}${sep}`, file };
}

/**
 * Node's own reader decodes the whole map when made: a few ms for a small function, ~120 ms for
 * the 590 kB map of a bundle with zod (measured), paid once per instance by its first reported stack.
 */
function sourceMap(t: Target): SourceMap | null {
  if (t.map !== undefined) return t.map;
  t.map = null;
  try {
    t.map = new SourceMap(JSON.parse(readFileSync(`${t.file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    // No map (not a bundle, or an older build): paths are still made relative.
  }
  return t.map;
}

/** The user's location of bundle position `line`:`column` (both 1-based), or undefined. */
function original(t: Target, line: number, column: number): string | undefined {
  const map = sourceMap(t);
  if (!map) return undefined;
  const found = map.findEntry(line - 1, column - 1) as Partial<{ generatedLine: number; originalSource: string; originalLine: number; originalColumn: number }>;
  // A line without segments of its own (esbuild's helpers) is answered with an earlier line's
  // last segment, which is not where the frame is: such frames stay unmapped.
  if (found.originalSource === undefined || found.generatedLine !== line - 1) return undefined;
  return `${relative(t, found.originalSource)}:${found.originalLine! + 1}:${found.originalColumn! + 1}`;
}

function relative(t: Target, path: string): string {
  return path.startsWith(t.codeDir) ? path.slice(t.codeDir.length) : path;
}

/**
 * `stack` with the bundle's frames mapped to the user's sources, and paths inside the code
 * directory made relative to it. Unchanged before {@link mapStacksOf}.
 */
export function mapStack(stack: string): string {
  const t = target;
  if (!t) return stack;
  return stack.replace(FRAME_LOCATION, (whole: string, path: string, line: string, column: string) => {
    if (path === t.file) return original(t, Number(line), Number(column)) ?? `${relative(t, path)}:${line}:${column}`;
    return path.startsWith(t.codeDir) ? `${relative(t, path)}:${line}:${column}` : whole;
  });
}

/**
 * The locations of `stack`'s frames (already mapped) in the code directory, innermost first:
 * node's own frames and esbuild's helpers (unmapped bundle lines) are left out.
 */
function userFrames(stack: string): string[] {
  return [...stack.matchAll(/^\s+at (?:.*\()?([^\s()/][^\s()]*:\d+:\d+)\)?$/gm)]
    .map((m) => m[1]!)
    .filter((location) => !location.startsWith('node:') && !location.startsWith('__nimbus_'));
}

/** True for a location in a dependency's code. */
function inDependency(location: string): boolean {
  return location.startsWith('node_modules/') || location.includes('/node_modules/');
}

/**
 * Where in the user's code `stack` (already mapped) was thrown: the first frame in the code
 * directory, and when that is a dependency's, the first of the user's own after it, as
 * `node_modules/pg/lib/x.js:5:11, from index.js:2:12`. Undefined when no frame is there.
 */
export function userLocation(stack: string): string | undefined {
  const frames = userFrames(stack);
  const first = frames[0];
  if (first === undefined || !inDependency(first)) return first;
  const own = frames.find((location) => !inDependency(location));
  return own === undefined ? first : `${first}, from ${own}`;
}
