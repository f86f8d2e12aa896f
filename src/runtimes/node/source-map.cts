/**
 * A source map (version 3) that decodes only what a lookup needs. Node's own `SourceMap` decodes
 * every segment into an object up front: ~120 ms for the 590 kB map of a bundle with zod, paid
 * by the first error an instance reports. One pass of the VLQ text that keeps only where each
 * generated line starts and the running position there costs ~30 ms (measured on the same map);
 * a lookup then decodes its one line.
 */

/** Value of each base64 digit, -1 for other characters. */
const DIGITS = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) DIGITS[c.charCodeAt(0)] = i;
const SEMICOLON = 59;
const COMMA = 44;

/** A position in the user's sources (0-based line and column, as in the map). */
export interface OriginalPosition {
  source: string;
  line: number;
  column: number;
}

/** Where each generated line's segments start, and the running source, line and column there. */
interface LineIndex {
  offset: Int32Array;
  state: Int32Array;
}

export class LazySourceMap {
  private index: LineIndex | undefined;

  constructor(
    private readonly sources: readonly string[],
    private readonly mappings: string,
  ) {}

  /** Reads a parsed map file; throws when it is not a version 3 map with mappings. */
  static from(json: unknown): LazySourceMap {
    const map = json as { version?: unknown; sources?: unknown; mappings?: unknown };
    if (map.version !== 3 || !Array.isArray(map.sources) || typeof map.mappings !== 'string') throw new Error('not a version 3 source map');
    return new LazySourceMap(map.sources.map(String), map.mappings);
  }

  /**
   * The original position of generated `line`:`column` (0-based): the line's last segment at or
   * before the column (its first, when the column lies before all of them); undefined when the
   * line has no mapped segment (esbuild's helpers).
   */
  find(line: number, column: number): OriginalPosition | undefined {
    const index = (this.index ??= this.scan());
    if (line < 0 || line >= index.offset.length) return undefined;
    const state = [0, index.state[line * 3]!, index.state[line * 3 + 1]!, index.state[line * 3 + 2]!];
    let found: OriginalPosition | undefined;
    let generated = 0;
    this.decode(index.offset[line]!, (fields, count) => {
      generated += fields[0]!;
      if (count < 4) return true;
      state[1]! += fields[1]!;
      state[2]! += fields[2]!;
      state[3]! += fields[3]!;
      if (generated > column && found !== undefined) return false;
      found = { source: this.sources[state[1]!] ?? '', line: state[2]!, column: state[3]! };
      return generated <= column;
    });
    return found;
  }

  /**
   * One pass over the mappings, keeping only each line's start and running state. A plain loop
   * (no callback, no allocation per segment): this is the cost of an instance's first mapped stack.
   */
  private scan(): LineIndex {
    const text = this.mappings;
    const offsets = [0];
    const states = [0, 0, 0];
    let source = 0;
    let line = 0;
    let column = 0;
    let field = 0;
    let value = 0;
    let shift = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === COMMA || code === SEMICOLON) {
        field = 0;
        if (code === SEMICOLON) {
          offsets.push(i + 1);
          states.push(source, line, column);
        }
        continue;
      }
      const digit = code < 128 ? DIGITS[code]! : -1;
      if (digit < 0) throw new Error(`invalid character in source map mappings at ${i}`);
      value += (digit & 31) << shift;
      if (digit & 32) {
        shift += 5;
        continue;
      }
      const delta = value & 1 ? -(value >>> 1) : value >>> 1;
      if (field === 1) source += delta;
      else if (field === 2) line += delta;
      else if (field === 3) column += delta;
      field++;
      value = 0;
      shift = 0;
    }
    return { offset: Int32Array.from(offsets), state: Int32Array.from(states) };
  }

  /**
   * Decodes the segments of the line starting at `from`, calling `segment` with each one's
   * relative fields until it answers false or the line ends.
   */
  private decode(from: number, segment: (fields: Int32Array, count: number) => boolean): void {
    const text = this.mappings;
    const fields = new Int32Array(5);
    let count = 0;
    let value = 0;
    let shift = 0;
    for (let i = from; i <= text.length; i++) {
      const code = i < text.length ? text.charCodeAt(i) : SEMICOLON;
      if (code === COMMA || code === SEMICOLON) {
        if ((count > 0 && !segment(fields, count)) || code === SEMICOLON) return;
        count = 0;
        fields.fill(0);
        continue;
      }
      const digit = code < 128 ? DIGITS[code]! : -1;
      if (digit < 0) throw new Error(`invalid character in source map mappings at ${i}`);
      value += (digit & 31) << shift;
      if (digit & 32) {
        shift += 5;
        continue;
      }
      if (count < 5) fields[count++] = value & 1 ? -(value >>> 1) : value >>> 1;
      value = 0;
      shift = 0;
    }
  }
}
