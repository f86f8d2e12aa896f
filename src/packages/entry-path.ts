import { NimbusError } from '../core/errors.js';

/** Advice appended to path errors: the usual cause is how the archive was made. */
const MAKE_ARCHIVE_HINT = 'Create the archive from inside the function folder, e.g. `tar czf fn.tgz -C myfn .` or `cd myfn && zip -r ../fn.zip .`.';

/** C0 controls, DEL and C1 controls (`\p{Cc}`). */
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * Splits an archive entry name into path segments below the package root, dropping empty and
 * `.` segments (so `./src/` and `src` are the same directory).
 *
 * @throws UNSAFE_ARCHIVE_PATH for absolute paths, `..` segments, backslashes, NUL bytes or
 *   other control characters, naming the entry: such archives are refused as a whole, never
 *   repaired.
 */
export function entrySegments(name: string): string[] {
  const shown = JSON.stringify(name.slice(0, 200));
  const refuse = (why: string): never => {
    throw new NimbusError('UNSAFE_ARCHIVE_PATH', `Archive entry ${shown} ${why}; nothing was stored. ${MAKE_ARCHIVE_HINT}`, {
      details: { entry: name },
    });
  };
  if (name.includes('\0')) refuse('contains a NUL byte');
  // A newline or terminal escape in a file name forges lines in listings, logs and build
  // messages that show it, and no runtime needs one.
  if (CONTROL_CHARACTER.test(name)) refuse('contains a control character (newline, tab, escape or similar)');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) refuse('has an absolute path');
  // Windows separators would mean something else on Windows tools than here: refuse the ambiguity.
  if (name.includes('\\')) refuse('contains a backslash (Windows path separator)');
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) refuse('has a `..` segment that points outside the package');
  return segments;
}

/**
 * Applies the segments of a relative link target to `stack` (the directory the link is in, as
 * segments below the root), the way the kernel walks a path but without following links.
 * Returns false as soon as the walk climbs above the root.
 */
export function walkSegments(stack: string[], target: string): boolean {
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (stack.length === 0) return false;
      stack.pop();
    } else {
      stack.push(segment);
    }
  }
  return true;
}

/** Throws UNSAFE_ARCHIVE_LINK for the link `entry`, explaining `why`. */
export function unsafeLink(entry: string, why: string): never {
  throw new NimbusError(
    'UNSAFE_ARCHIVE_LINK',
    `Archive entry ${JSON.stringify(entry.slice(0, 200))} ${why}; nothing was stored. Packages may only contain regular files, directories and links that stay inside the package: replace the link with a copy of what it points to.`,
    { details: { entry } },
  );
}

/**
 * Throws UNSAFE_ARCHIVE_LINK for a device file, FIFO or socket: these are refused rather than
 * skipped, because a package that needs one cannot work anyway and silence would hide that.
 */
export function unsafeSpecialFile(entry: string, type: string): never {
  throw new NimbusError(
    'UNSAFE_ARCHIVE_LINK',
    `Archive entry ${JSON.stringify(entry.slice(0, 200))} is a special file (${type}); nothing was stored. Packages may only contain regular files, directories and links that stay inside the package.`,
    { details: { entry } },
  );
}
